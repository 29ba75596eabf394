package syncer

import (
	"context"
	"fmt"
	"time"

	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/progress"
	"github.com/bandsync/bandsync/internal/sink"
	"github.com/bandsync/bandsync/internal/store"
	"github.com/bandsync/bandsync/internal/workout"
)

// reconcileAll settles every upload in flight on every sink. With final
// set, a limit or failure while confirming is left for the next run
// instead of stopping this one.
func (s *Syncer) reconcileAll(ctx context.Context, rep *Report, final bool) error {
	for _, sk := range s.sinks {
		if _, err := s.reconcile(ctx, rep, sk); err != nil {
			if final && !stopErr(err) {
				s.opt.Tracker.Warn(fmt.Sprintf("confirming uploads to %s: %v (the next run confirms them)", sk.Name(), err))
				continue
			}
			if errclass.ClassOf(err) == errclass.RateLimited && !stopErr(err) {
				s.limited(rep, sk.Name(), errclass.UntilOf(err))
				if !s.opt.Wait {
					continue // nothing is sent to this sink in this run
				}
				if err := s.waitOpen(ctx, sk.Name(), errclass.UntilOf(err)); err != nil {
					return err
				}
				if _, err := s.reconcile(ctx, rep, sk); err != nil && stopErr(err) {
					return err
				}
				continue
			}
			return err
		}
	}
	return nil
}

// reconcile settles the sink's uploads in flight: what the sink holds is
// recorded done or duplicate, what it rejected failed, and what it does not
// hold goes back to pending. It returns how many are still processing.
func (s *Syncer) reconcile(ctx context.Context, rep *Report, sk sink.Sink) (int, error) {
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
		return s.confirm(ctx, rep, sk, c, ups)
	}
	return 0, s.reconcileByList(ctx, rep, sk, ups)
}

func (s *Syncer) confirm(ctx context.Context, rep *Report, sk sink.Sink, c sink.Confirmer, ups []store.Due) (int, error) {
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
	processing := 0
	for i, cf := range confs {
		if i >= len(ups) {
			break
		}
		d := ups[i]
		done, err := s.settle(ctx, rep, name, d, cf.Result, cf.Err)
		if err != nil {
			return processing, err
		}
		if !done {
			processing++
		}
	}
	rep.sink(name).Unconfirmed = processing
	if cerr != nil {
		return processing, fmt.Errorf("confirm uploads to %s: %w", name, cerr)
	}
	return processing, nil
}

// settle records how one upload in flight ended; done is false while the
// sink is still processing it.
func (s *Syncer) settle(ctx context.Context, rep *Report, sinkName string, d store.Due, res sink.Result, resErr error) (done bool, err error) {
	wid, lbl := d.Workout.ID, label(d.Workout)
	tr := s.opt.Tracker
	sr := rep.sink(sinkName)
	switch {
	case resErr != nil && errclass.ClassOf(resErr) == errclass.NotFound:
		// The sink does not hold it: safe to send again.
		if err := s.led.MarkUnsent(ctx, wid, sinkName); err != nil {
			return false, ledgerErr(err)
		}
		tr.Done(progress.Confirming, lbl, "not on "+sinkName+" after all; will be sent again")
		return true, nil
	case resErr != nil && errclass.ClassOf(resErr) == errclass.Permanent:
		if err := s.led.MarkFailed(ctx, wid, sinkName, errclass.Permanent, resErr.Error(), time.Time{}); err != nil {
			return false, ledgerErr(err)
		}
		sr.Failed++
		sr.Failures = append(sr.Failures, lbl+": "+resErr.Error())
		tr.Done(progress.Confirming, lbl, "failed: "+resErr.Error())
		return true, nil
	case resErr != nil:
		return false, nil // transient: the next confirmation retries
	}
	switch res.Outcome {
	case sink.Created:
		if err := s.led.MarkDone(ctx, wid, sinkName, res.ActivityID); err != nil {
			return false, ledgerErr(err)
		}
		sr.Created++
		tr.Done(progress.Confirming, lbl, "on "+sinkName+" as "+res.ActivityID)
		return true, nil
	case sink.Duplicate:
		if err := s.led.MarkDuplicate(ctx, wid, sinkName, res.ActivityID, res.MatchedBy); err != nil {
			return false, ledgerErr(err)
		}
		sr.Duplicates++
		tr.Done(progress.Confirming, lbl, "already on "+sinkName+" as "+res.ActivityID)
		return true, nil
	}
	if res.UploadID != "" && res.UploadID != d.Delivery.UploadID {
		if err := s.led.MarkUploading(ctx, wid, sinkName, d.Delivery.Key, res.UploadID); err != nil {
			return false, ledgerErr(err)
		}
	}
	return false, nil
}

// reconcileByList settles uploads in flight on a sink without Confirm by
// looking for their keys in its listing.
func (s *Syncer) reconcileByList(ctx context.Context, rep *Report, sk sink.Sink, ups []store.Due) error {
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
		if _, err := s.settle(ctx, rep, name, d, res, resErr); err != nil {
			return err
		}
	}
	return nil
}
