package syncer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/progress"
	"github.com/bandsync/bandsync/internal/sink"
	"github.com/bandsync/bandsync/internal/store"
	"github.com/bandsync/bandsync/internal/workout"
)

// reconcileAll settles every upload in flight on every sink; first says it
// runs before the plan is made, so what turns out unsent is sent in this
// run. A rate limit stops work on that sink (or waits, with Options.Wait);
// credentials refused or a failing ledger stop the run; any other trouble
// confirming is told and left for the next confirmation, since the uploads
// stay in flight.
func (s *Syncer) reconcileAll(ctx context.Context, rep *Report, first bool) error {
	for _, sk := range s.sinks {
		_, err := s.reconcile(ctx, rep, sk, first)
		switch {
		case err == nil:
		case stopErr(err):
			return err
		case errclass.ClassOf(err) == errclass.RateLimited:
			s.limited(rep, sk.Name(), errclass.UntilOf(err))
			if !s.opt.Wait {
				continue // nothing is sent to this sink in this run
			}
			if err := s.waitOpen(ctx, sk.Name(), errclass.UntilOf(err)); err != nil {
				return err
			}
			if _, err := s.reconcile(ctx, rep, sk, first); err != nil && stopErr(err) {
				return err
			}
		default:
			s.opt.Tracker.Warn(fmt.Sprintf("confirming uploads to %s: %v (the next confirmation tries again)", sk.Name(), err))
		}
	}
	return nil
}

// reconcile settles the sink's uploads in flight: what the sink holds is
// recorded done or duplicate, what it rejected failed, and what it does not
// hold goes back to pending. It returns how many of this run's uploads are
// still processing.
func (s *Syncer) reconcile(ctx context.Context, rep *Report, sk sink.Sink, first bool) (int, error) {
	name := sk.Name()
	ups, err := s.led.Uploading(ctx, name)
	if err != nil {
		return 0, ledgerErr(err)
	}
	if len(ups) == 0 {
		return 0, nil
	}
	tr := s.opt.Tracker
	tr.Start(progress.Confirming, len(ups))
	defer tr.End(progress.Confirming)
	if c, ok := sk.(sink.Confirmer); ok {
		return s.confirm(ctx, rep, sk, c, ups, first)
	}
	return 0, s.reconcileByList(ctx, rep, sk, ups, first)
}

func (s *Syncer) confirm(ctx context.Context, rep *Report, sk sink.Sink, c sink.Confirmer, ups []store.Due, first bool) (int, error) {
	name := sk.Name()
	if r, ok := sk.(sink.Rememberer); ok {
		for _, d := range ups {
			r.Remember(d.Delivery.Key, &workout.Workout{Start: d.Workout.Start, Sport: d.Workout.Sport, Zone: d.Workout.Zone})
		}
	}
	pend := make([]sink.Pending, len(ups))
	for i, d := range ups {
		pend[i] = sink.Pending{Key: d.Delivery.Key, UploadID: d.Delivery.UploadID, Start: d.Workout.Start, Sent: d.Delivery.UploadingSince}
	}
	confs, cerr := c.Confirm(ctx, pend)
	confs = confs[:min(len(confs), len(ups))]
	lr := &lockedReport{rep: rep}
	done := make([]bool, len(confs))
	errs := make([]error, len(confs))
	sideBySide(len(confs), func(i int) {
		done[i], errs[i] = s.settle(ctx, lr, name, ups[i], confs[i].Result, confs[i].Err, first)
	})
	processing := 0
	for i := range confs {
		if errs[i] != nil {
			return processing, errs[i]
		}
		// Only this run's uploads are worth waiting for; one an earlier
		// run left without an answer resolves on the sink's own schedule.
		if !done[i] && s.run.has(ups[i].Delivery.Key) {
			processing++
		}
	}
	if cerr != nil {
		return processing, fmt.Errorf("confirm uploads to %s: %w", name, cerr)
	}
	return processing, nil
}

// settle records how one upload in flight ended; done is false while the
// sink is still processing it. first says the plan is not made yet, so an
// upload found missing is sent again in this run (else it is left).
func (s *Syncer) settle(ctx context.Context, lr *lockedReport, sinkName string, d store.Due, res sink.Result, resErr error, first bool) (done bool, err error) {
	wid, lbl, key := d.Workout.ID, label(d.Workout), d.Delivery.Key
	tr := s.opt.Tracker
	count := func(fn func(sr *SinkReport)) { lr.do(func(r *Report) { fn(r.sink(sinkName)) }) }
	fail := func(class errclass.Class, msg string, next time.Time) error {
		if err := s.led.MarkFailed(ctx, wid, sinkName, class, msg, next); err != nil {
			return ledgerErr(err)
		}
		count(func(sr *SinkReport) { sr.failed(lbl, msg) })
		tr.Done(progress.Confirming, lbl, "failed: "+msg)
		return nil
	}
	switch {
	case resErr != nil && errclass.ClassOf(resErr) == errclass.NotFound:
		// The sink does not hold it: safe to send again.
		why, sent := s.run.take(key)
		if sent {
			count(func(sr *SinkReport) { sr.Unconfirmed-- })
		}
		if err := s.led.MarkUnsent(ctx, wid, sinkName); err != nil {
			return false, ledgerErr(err)
		}
		if why != "" {
			// This run's upload failed on the way; try again later.
			return true, fail(errclass.Retryable, why, s.opt.Now().Add(backoff(d.Delivery.Attempts)))
		}
		if !first && s.run.leaves(d.Workout) {
			count(func(sr *SinkReport) { sr.Left++ })
		}
		tr.Done(progress.Confirming, lbl, "not on "+sinkName+" after all; will be sent again")
		return true, nil
	case resErr != nil && errors.Is(resErr, errclass.ErrPermanent):
		if _, sent := s.run.take(key); sent {
			count(func(sr *SinkReport) { sr.Unconfirmed-- })
		}
		return true, fail(errclass.Permanent, resErr.Error(), time.Time{})
	case resErr != nil:
		return false, nil // transient: the next confirmation retries
	}
	switch res.Outcome {
	case sink.Created, sink.Duplicate:
		if _, sent := s.run.take(key); sent {
			count(func(sr *SinkReport) { sr.Unconfirmed-- })
		}
		if res.Outcome == sink.Created {
			if err := s.led.MarkDone(ctx, wid, sinkName, res.ActivityID); err != nil {
				return false, ledgerErr(err)
			}
			count(func(sr *SinkReport) { sr.Created++ })
			tr.Done(progress.Confirming, lbl, "on "+sinkName+" as "+res.ActivityID)
			return true, nil
		}
		if err := s.led.MarkDuplicate(ctx, wid, sinkName, res.ActivityID, res.MatchedBy); err != nil {
			return false, ledgerErr(err)
		}
		count(func(sr *SinkReport) { sr.Duplicates++ })
		tr.Done(progress.Confirming, lbl, "already on "+sinkName+" as "+res.ActivityID)
		return true, nil
	}
	if res.UploadID != "" && res.UploadID != d.Delivery.UploadID {
		if err := s.led.MarkUploading(ctx, wid, sinkName, key, res.UploadID); err != nil {
			return false, ledgerErr(err)
		}
	}
	return false, nil
}

// reconcileByList settles uploads in flight on a sink without Confirm by
// looking for their keys in its listing.
func (s *Syncer) reconcileByList(ctx context.Context, rep *Report, sk sink.Sink, ups []store.Due, first bool) error {
	name := sk.Name()
	lo, hi := ups[0].Workout.Start, ups[0].Workout.Start
	for _, d := range ups {
		if d.Workout.Start.Before(lo) {
			lo = d.Workout.Start
		}
		if d.Workout.Start.After(hi) {
			hi = d.Workout.Start
		}
	}
	acts, err := sk.List(ctx, sink.Window{After: lo.Add(-time.Minute), Before: hi.Add(time.Minute)})
	if err != nil {
		return fmt.Errorf("reconcile uploads to %s: %w", name, err)
	}
	lr := &lockedReport{rep: rep}
	held := map[string]string{}
	for _, a := range acts {
		if a.ExternalID != "" {
			held[a.ExternalID] = a.ID
		}
	}
	for _, d := range ups {
		var res sink.Result
		var resErr error
		if id, ok := held[d.Delivery.Key]; ok {
			res = sink.Result{Outcome: sink.Created, ActivityID: id}
		} else {
			resErr = errclass.Missing(fmt.Errorf("%s is not on %s", d.Delivery.Key, name))
		}
		if _, err := s.settle(ctx, lr, name, d, res, resErr, first); err != nil {
			return err
		}
	}
	return nil
}
