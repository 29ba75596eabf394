package syncer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/progress"
	"github.com/bandsync/bandsync/internal/sink"
	"github.com/bandsync/bandsync/internal/store"
	"github.com/bandsync/bandsync/internal/workout"
)

// apply sends the due workouts, oldest first, in batches: each batch is
// planned from the ledger when its turn comes (so a history of any length
// holds one batch in memory) and the uploads it leaves processing are
// confirmed in bulk before the next. At the end it waits a little for the
// last ones.
func (s *Syncer) apply(ctx context.Context, rep *Report) error {
	tr := s.opt.Tracker
	stats, err := s.led.DueStats(ctx, s.sinkNames(), s.dueFilter())
	if err != nil {
		return ledgerErr(err)
	}
	if stats.Workouts == 0 {
		return s.finish(ctx, rep)
	}
	s.prefetch(ctx, stats.First, stats.Last)
	tr.Start(progress.Uploading, stats.Workouts)
	defer tr.End(progress.Uploading)
	var at store.Cursor
	for {
		jobs, more, err := s.plan(ctx, at, s.opt.Batch)
		if err != nil {
			return ledgerErr(err)
		}
		if len(jobs) == 0 {
			break
		}
		at = store.CursorOf(jobs[len(jobs)-1].rec)
		if err := s.applyBatch(ctx, rep, jobs); err != nil {
			return errors.Join(err, s.countLeft(ctx, rep, at))
		}
		if !more {
			break
		}
		if s.allLimited(rep) && !s.opt.Wait {
			return errors.Join(s.countLeft(ctx, rep, at), s.finish(ctx, rep))
		}
		s.run.reached(at, true)
		if err := s.reconcileAll(ctx, rep, false); err != nil {
			return errors.Join(err, s.countLeft(ctx, rep, at))
		}
	}
	return s.finish(ctx, rep)
}

// sinkNames names the sinks, in order.
func (s *Syncer) sinkNames() []string {
	names := make([]string, len(s.sinks))
	for i, sk := range s.sinks {
		names[i] = sk.Name()
	}
	return names
}

// finish confirms what is still processing, waiting up to ConfirmWait.
func (s *Syncer) finish(ctx context.Context, rep *Report) error {
	s.run.reached(store.Cursor{}, false) // nothing more is sent
	deadline := s.opt.Now().Add(s.opt.ConfirmWait)
	pause := 250 * time.Millisecond // uploads take a second or two to process
	for {
		processing := 0
		for _, sk := range s.sinks {
			if rep.LimitedSink == sk.Name() && !s.opt.Wait {
				continue
			}
			n, err := s.reconcile(ctx, rep, sk, false)
			if err != nil {
				if stopErr(err) {
					return err
				}
				s.opt.Tracker.Warn(fmt.Sprintf("confirming uploads to %s: %v (the next run confirms them)", sk.Name(), err))
				continue
			}
			processing += n
		}
		if processing == 0 || !s.opt.Now().Before(deadline) {
			return nil
		}
		if err := s.opt.Sleep(ctx, pause); err != nil {
			return err
		}
		pause = min(2*pause, 4*time.Second)
	}
}

// prefetch lets sinks that can list a window once do so for the whole plan,
// whose workouts start from lo to hi.
func (s *Syncer) prefetch(ctx context.Context, lo, hi time.Time) {
	for _, sk := range s.sinks {
		p, ok := sk.(sink.Prefetcher)
		if !ok {
			continue
		}
		win := sink.Window{After: lo.Add(-24 * time.Hour), Before: hi.Add(24 * time.Hour)}
		if err := p.Prefetch(ctx, win); err != nil {
			// Put lists around each workout itself when this fails.
			s.opt.Tracker.Warn(fmt.Sprintf("listing what %s already holds: %v", sk.Name(), err))
		}
	}
}

// applyBatch runs one batch through the workers.
func (s *Syncer) applyBatch(ctx context.Context, rep *Report, jobs []job) error {
	lr := &lockedReport{rep: rep}
	work := make(chan job)
	var wg sync.WaitGroup
	var once sync.Once
	var stop error
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range s.opt.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				if err := s.applyJob(runCtx, lr, j); err != nil {
					once.Do(func() { stop = err; cancel() })
				}
			}
		}()
	}
	sent := 0
feed:
	for _, j := range jobs {
		select {
		case work <- j:
			sent++
		case <-runCtx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err := s.flushAll(ctx, lr); err != nil && stop == nil {
		stop = err
	}
	for _, j := range jobs[sent:] {
		for n := range j.dues {
			rep.sink(n).Left++
		}
	}
	if stop != nil {
		return stop
	}
	return ctx.Err()
}

// applyJob fetches one workout and sends it to every sink it is due on.
// What it leaves unsettled (a stop, a limit) is counted as left.
func (s *Syncer) applyJob(ctx context.Context, lr *lockedReport, j job) error {
	tr := s.opt.Tracker
	lbl := label(j.rec)
	left := func(sinks []sink.Sink) {
		lr.do(func(r *Report) {
			for _, sk := range sinks {
				r.sink(sk.Name()).Left++
			}
		})
	}
	// Sinks stopped by a limit in this run are left for later.
	var sinks []sink.Sink
	for _, sk := range s.sinks {
		if _, due := j.dues[sk.Name()]; !due {
			continue
		}
		limited := false
		lr.do(func(r *Report) { limited = r.LimitedSink == sk.Name() && !s.opt.Wait })
		if limited {
			left([]sink.Sink{sk})
			continue
		}
		sinks = append(sinks, sk)
	}
	if len(sinks) == 0 {
		tr.Done(progress.Uploading, lbl, "left for later (rate limit)")
		return nil
	}
	if ctx.Err() != nil {
		left(sinks)
		return ctx.Err()
	}
	w, err := s.src.Fetch(ctx, sourceRef(j.rec))
	if err != nil {
		if stopErr(err) || ctx.Err() != nil {
			left(sinks)
			return err
		}
		for _, sk := range sinks {
			if err := s.fetchFailed(ctx, lr, j, sk.Name(), err); err != nil {
				return err
			}
		}
		tr.Done(progress.Uploading, lbl, "failed: "+err.Error())
		return nil
	}
	// The sinks that write w the same way (Strava and the archive: FIT)
	// encode it once.
	ctx = workout.WithMemo(ctx)
	var outcomes []string
	for i, sk := range sinks {
		out, err := s.put(ctx, lr, j, sk, w)
		if err != nil {
			left(sinks[i+1:])
			return err
		}
		outcomes = append(outcomes, out)
	}
	tr.Done(progress.Uploading, lbl, strings.Join(outcomes, "; "))
	return nil
}

// fetchFailed records a workout the source could not give.
func (s *Syncer) fetchFailed(ctx context.Context, lr *lockedReport, j job, sinkName string, ferr error) error {
	wid := j.rec.ID
	var err error
	switch errclass.ClassOf(ferr) {
	case errclass.NotFound:
		err = s.led.MarkSkipped(ctx, wid, sinkName, "deleted at "+s.src.Name()+" after it was listed")
		lr.do(func(r *Report) { r.sink(sinkName).Skipped++ })
		return ledgerErr(err)
	case errclass.Retryable, errclass.RateLimited:
		next := s.opt.Now().Add(backoff(j.dues[sinkName].Attempts))
		if until := errclass.UntilOf(ferr); until.After(next) {
			next = until // the source's own limit opens then
		}
		err = s.led.MarkFailed(ctx, wid, sinkName, errclass.Retryable, "fetch from "+s.src.Name()+": "+ferr.Error(), next)
	default:
		err = s.led.MarkFailed(ctx, wid, sinkName, errclass.Permanent, "fetch from "+s.src.Name()+": "+ferr.Error(), time.Time{})
	}
	lr.do(func(r *Report) { r.sink(sinkName).failed(label(j.rec), ferr.Error()) })
	return ledgerErr(err)
}

// backoff is the wait before retrying a delivery after attempts failures:
// 5 minutes, doubling, at most a day.
func backoff(attempts int) time.Duration {
	d := 5 * time.Minute
	for range attempts {
		d *= 2
		if d >= 24*time.Hour {
			return 24 * time.Hour
		}
	}
	return d
}

// put sends one workout to one sink: the intent is recorded before the
// send, so that after a crash the upload is reconciled, never repeated
// blindly.
func (s *Syncer) put(ctx context.Context, lr *lockedReport, j job, sk sink.Sink, w *workout.Workout) (string, error) {
	name, wid, key := sk.Name(), j.rec.ID, j.rec.Key()
	_, local := sk.(sink.Local)
	batcher, _ := sk.(sink.Batcher)
	matcher, _ := sk.(sink.Matcher)
	for {
		// The intent is recorded where a crash could leave an outcome
		// unknown; a local sink's Put is all or nothing, and a workout the
		// sink already holds needs no sending. (Should Match fail, Put
		// meets the same trouble and says what it is.)
		if matcher != nil && !local {
			if res, ok, err := matcher.Match(ctx, w, key); err == nil && ok {
				out, _, err := s.recordPut(ctx, lr, j, name, local, res, nil)
				return out, err
			}
		}
		if !local {
			if err := s.led.MarkUploading(ctx, wid, name, key, ""); err != nil {
				return "", ledgerErr(err)
			}
		}
		// Once the request may be on its way, let it finish and record its
		// outcome even if the run is told to stop: a stop cancels it only
		// after StopGrace.
		putCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		stop := context.AfterFunc(ctx, func() { time.AfterFunc(s.opt.StopGrace, cancel) })
		var (
			res    sink.Result
			err    error
			out    string
			staged bool // the outcome is stage's to record (at a flush)
		)
		if batcher != nil {
			out, staged, res, err = s.stage(putCtx, lr, j, batcher, w)
		} else {
			res, err = sk.Put(putCtx, w, key)
		}
		stop()
		cancel()
		if staged {
			return out, err
		}
		out, again, err := s.recordPut(ctx, lr, j, name, local, res, err)
		if !again || err != nil {
			return out, err
		}
	}
}

// recordPut records a Put's result; again asks for the Put to be repeated
// after a rate-limit wait. A local sink's delivery was not marked
// uploading (see sink.Local), and its Put's outcome is never unknown.
func (s *Syncer) recordPut(ctx context.Context, lr *lockedReport, j job, name string, local bool, res sink.Result, perr error) (out string, again bool, err error) {
	wid, key := j.rec.ID, j.rec.Key()
	// A stop must not lose the outcome: record with a context that is not
	// canceled.
	rctx := context.WithoutCancel(ctx)
	if perr != nil && (res.Outcome == sink.Created || res.Outcome == sink.Duplicate) {
		// The sink holds it; only a follow-up (an edit, a read) failed.
		s.opt.Tracker.Warn(fmt.Sprintf("%s on %s: %v", label(j.rec), name, perr))
		perr = nil
	}
	if perr == nil {
		switch res.Outcome {
		case sink.Created:
			lr.do(func(r *Report) { r.sink(name).Created++ })
			return "on " + name + " as " + res.ActivityID, false, ledgerErr(s.led.MarkDone(rctx, wid, name, res.ActivityID))
		case sink.Duplicate:
			lr.do(func(r *Report) { r.sink(name).Duplicates++ })
			var err error
			if local && res.MatchedBy == "key" {
				// Only bandsync writes under its keys: this is its own
				// file, left by a run that stopped before recording it.
				err = s.led.MarkDone(rctx, wid, name, res.ActivityID)
			} else {
				err = s.led.MarkDuplicate(rctx, wid, name, res.ActivityID, res.MatchedBy)
			}
			return "already on " + name + " (" + res.MatchedBy + ") as " + res.ActivityID, false, ledgerErr(err)
		case sink.Accepted:
			s.run.set(key, "")
			lr.do(func(r *Report) { r.sink(name).Unconfirmed++ })
			// The upload ID rides with the next commit: losing it in a
			// crash costs only a listing when reconciling.
			s.led.NoteUploadID(rctx, wid, name, key, res.UploadID)
			return "sent to " + name, false, nil
		}
		return "", false, fmt.Errorf("%s: Put answered no outcome", name)
	}
	unsent := func() error {
		if local {
			return nil // never marked uploading
		}
		return ledgerErr(s.led.MarkUnsent(rctx, wid, name))
	}
	switch errclass.ClassOf(perr) {
	case errclass.RateLimited:
		// Nothing was sent: the sink refuses before sending, or Strava
		// answered 429 and created nothing.
		if err := unsent(); err != nil {
			return "", false, err
		}
		until := errclass.UntilOf(perr)
		lr.do(func(r *Report) { s.limited(r, name, until) })
		if !s.opt.Wait {
			lr.do(func(r *Report) { r.sink(name).Left++ })
			return "left for later (" + name + "'s rate limit)", false, nil
		}
		if err := s.waitOpen(ctx, name, until); err != nil {
			lr.do(func(r *Report) { r.sink(name).Left++ })
			return "", false, err
		}
		return "", true, nil
	case errclass.ReAuth, errclass.Usage:
		// Refused before anything was created, and the same for every
		// workout: a person must act (authorize, fix a folder).
		if err := unsent(); err != nil {
			return "", false, err
		}
		lr.do(func(r *Report) { r.sink(name).Left++ })
		return "", false, fmt.Errorf("%s: %w", name, perr)
	}
	if errors.Is(perr, errclass.ErrPermanent) {
		// A refusal of this workout (a bad file): nothing was created.
		lr.do(func(r *Report) { r.sink(name).failed(label(j.rec), perr.Error()) })
		return "failed: " + perr.Error(), false,
			ledgerErr(s.led.MarkFailed(rctx, wid, name, errclass.Permanent, perr.Error(), time.Time{}))
	}
	if local {
		// All or nothing, so nothing was written: stopped, it is left for
		// the next run; failed (a full disk), it is retried after a while.
		if errclass.ClassOf(perr) == errclass.Canceled || ctx.Err() != nil {
			lr.do(func(r *Report) { r.sink(name).Left++ })
			return "left for later (stopped)", false, nil
		}
		lr.do(func(r *Report) { r.sink(name).failed(label(j.rec), perr.Error()) })
		next := s.opt.Now().Add(backoff(j.dues[name].Attempts))
		return "failed, will retry: " + perr.Error(), false,
			ledgerErr(s.led.MarkFailed(rctx, wid, name, errclass.Retryable, perr.Error(), next))
	}
	// Retryable, canceled or unknown: the request may have reached the
	// sink. The delivery stays uploading and is reconciled before it is
	// sent again.
	s.run.set(key, perr.Error())
	lr.do(func(r *Report) { r.sink(name).Unconfirmed++ })
	return "outcome unknown, will check: " + perr.Error(), false, nil
}

// limited records that sink's rate limit stopped work until until.
func (s *Syncer) limited(r *Report, sinkName string, until time.Time) {
	if r.LimitedUntil.IsZero() || until.After(r.LimitedUntil) {
		r.LimitedUntil = until
	}
	r.LimitedSink = sinkName
}

// waitOpen sleeps until a rate-limit window opens, saying so.
func (s *Syncer) waitOpen(ctx context.Context, sinkName string, until time.Time) error {
	d := until.Sub(s.opt.Now())
	if d <= 0 {
		d = time.Second
	}
	if until.IsZero() {
		d = time.Minute
		until = s.opt.Now().Add(d)
	}
	_ = s.led.SetMetaTime(context.WithoutCancel(ctx), store.MetaRateLimitOpens(sinkName), until)
	s.opt.Tracker.Waiting(fmt.Sprintf("waiting for %s's rate-limit window", sinkName), until)
	return s.opt.Sleep(ctx, d)
}

// allLimited reports whether the only sink is stopped by a limit, so the
// rest of the plan cannot go anywhere in this run.
func (s *Syncer) allLimited(rep *Report) bool {
	return rep.LimitedSink != "" && len(s.sinks) == 1
}

// countLeft counts the due deliveries after at, which this run leaves.
func (s *Syncer) countLeft(ctx context.Context, rep *Report, at store.Cursor) error {
	f := s.dueFilter()
	f.After = at
	stats, err := s.led.DueStats(context.WithoutCancel(ctx), s.sinkNames(), f)
	if err != nil {
		return ledgerErr(err)
	}
	for name, n := range stats.BySink {
		rep.sink(name).Left += n
	}
	return nil
}
