package syncer

import (
	"context"
	"sync"

	"github.com/bandsync/bandsync/internal/sink"
	"github.com/bandsync/bandsync/internal/workout"
)

// flushEvery is how many workouts a sink.Batcher holds staged before the
// syncer flushes it: enough to share one wait for the disk among many,
// few enough that a stop loses little work.
const flushEvery = 64

// staging holds, per Batcher sink, the workouts staged and not yet
// flushed. Its lock is held from a Stage to its listing, and across a
// Flush, so that every workout a Flush made durable is recorded by the
// flush that took it.
type staging struct {
	mu     sync.Mutex
	staged map[string][]stagedPut // by sink name
}

type stagedPut struct {
	j   job
	res sink.Result
}

// stage writes w to the Batcher b. A new workout's outcome is recorded
// once b has flushed it (see flush); anything else is recorded at once,
// as for Put.
func (s *Syncer) stage(ctx context.Context, lr *lockedReport, j job, b sink.Batcher, w *workout.Workout) (out string, done bool, res sink.Result, err error) {
	st := &s.run.staging
	name := b.Name()
	st.mu.Lock()
	res, err = b.Stage(ctx, w, j.rec.Key())
	if err != nil || res.Outcome != sink.Created {
		st.mu.Unlock()
		return "", false, res, err
	}
	st.staged[name] = append(st.staged[name], stagedPut{j: j, res: res})
	full := len(st.staged[name]) >= flushEvery
	st.mu.Unlock()
	if full {
		if err := s.flush(ctx, lr, b); err != nil {
			return "", true, res, err
		}
	}
	return "on " + name + " as " + res.ActivityID, true, res, nil
}

// flush makes what b holds staged durable and records each workout's
// outcome: done, or, if the flush failed, what recordPut makes of the
// error (retried later, or a stop for a setup problem). It runs to its end
// even when the run is told to stop: the files are written already.
func (s *Syncer) flush(ctx context.Context, lr *lockedReport, b sink.Batcher) error {
	st := &s.run.staging
	name := b.Name()
	ctx = context.WithoutCancel(ctx)
	st.mu.Lock()
	puts := st.staged[name]
	delete(st.staged, name)
	var ferr error
	if len(puts) > 0 {
		ferr = b.Flush(ctx)
	}
	st.mu.Unlock()
	errs := make([]error, len(puts))
	sideBySide(len(puts), func(i int) {
		res := puts[i].res
		if ferr != nil {
			res = sink.Result{}
		}
		_, _, errs[i] = s.recordPut(ctx, lr, puts[i].j, name, true, res, ferr)
	})
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// flushAll flushes every Batcher sink.
func (s *Syncer) flushAll(ctx context.Context, lr *lockedReport) error {
	var first error
	for _, sk := range s.sinks {
		if b, ok := sk.(sink.Batcher); ok {
			if err := s.flush(ctx, lr, b); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}

// recordAtOnce bounds how many outcomes sideBySide records at the same
// time.
const recordAtOnce = 16

// sideBySide runs record(i) for every i below n, up to recordAtOnce at a
// time: outcomes recorded side by side share the ledger's commits (see
// store's writeTx) instead of waiting for one each.
func sideBySide(n int, record func(i int)) {
	sem := make(chan struct{}, recordAtOnce)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			record(i)
		})
	}
	wg.Wait()
}
