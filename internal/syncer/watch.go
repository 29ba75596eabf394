package syncer

import (
	"context"
	"time"

	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/store"
)

// Watch syncs, then waits interval, and again, until ctx is done; it then
// returns nil. When the source is down or a run fails, it tries again
// sooner (a minute, doubling up to interval) so new workouts still arrive
// within about one interval of the source coming back. It returns early
// only when a person must act: credentials refused (errclass.ReAuth), or
// the ledger failing. onRun, when set, is told about every run.
func (s *Syncer) Watch(ctx context.Context, interval time.Duration, onRun func(*Report, error)) error {
	if interval <= 0 {
		interval = 15 * time.Minute
	}
	failures := 0
	// Once stopped, no next run is due.
	defer func() { _ = s.led.DeleteMeta(context.WithoutCancel(ctx), store.MetaNextWatch) }()
	for {
		_ = s.led.SetMetaTime(ctx, store.MetaLastWatch, s.opt.Now())
		rep, err := s.Run(ctx)
		if onRun != nil {
			onRun(rep, err)
		}
		if ctx.Err() != nil {
			return nil
		}
		if err != nil && (errclass.ClassOf(err) == errclass.ReAuth || stopErr(err)) {
			return err
		}
		wait := interval
		if err != nil || rep.ListErr != nil {
			failures++
			wait = min(interval, time.Minute<<min(failures-1, 10))
		} else {
			failures = 0
		}
		_ = s.led.SetMetaTime(ctx, store.MetaNextWatch, s.opt.Now().Add(wait))
		if err := s.opt.Sleep(ctx, wait); err != nil {
			return nil
		}
	}
}
