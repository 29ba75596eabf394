package files

import (
	"context"
	"slices"
	"time"
)

// DefaultWatchInterval is Watch's poll interval when none is given.
const DefaultWatchInterval = 2 * time.Second

// Watch polls the folder every interval (DefaultWatchInterval when 0)
// until ctx ends, and calls ready with the workout files that appeared or
// changed once they have stopped growing: their size and modification
// time were the same at two consecutive polls. A file that is being
// copied, downloaded or written by an exporter is so taken only when it is
// complete. While Watch runs, List leaves out the files it saw still
// growing and those modified within the last interval, so a sync that runs
// meanwhile does not read half a file.
//
// Files already in the folder when Watch starts are not reported (the
// sync that precedes watching takes them), except those modified within
// the last two intervals, which may still be being written. Watch returns
// nil when ctx ends; ready runs on Watch's goroutine, and the next poll
// waits for it.
func (s *Source) Watch(ctx context.Context, interval time.Duration, ready func(paths []string)) error {
	if interval <= 0 {
		interval = DefaultWatchInterval
	}
	prev := map[string]stamp{}
	pending := map[string]bool{}
	first := true
	t := time.NewTicker(interval)
	defer t.Stop()
	s.mu.Lock()
	s.settle = interval
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.growing, s.settle = nil, 0
		s.mu.Unlock()
	}()
	for {
		cur := map[string]stamp{}
		err := s.walk(ctx, func(string, error) {}, func(c candidate) {
			st := stamp{size: c.info.Size(), mtime: c.info.ModTime().UnixNano()}
			if c.summary != "" {
				st.sumSize, st.sumMtime = c.sumInfo.Size(), c.sumInfo.ModTime().UnixNano()
			}
			cur[c.path] = st
		})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		var done []string
		growing := map[string]bool{}
		for p, st := range cur {
			old, seen := prev[p]
			switch {
			case first:
				if time.Since(time.Unix(0, max(st.mtime, st.sumMtime))) < 2*interval {
					pending[p], growing[p] = true, true
				}
			case !seen || old != st:
				pending[p], growing[p] = true, true
			case pending[p]:
				delete(pending, p)
				done = append(done, p)
			}
		}
		for p := range pending {
			if _, ok := cur[p]; !ok {
				delete(pending, p)
			}
		}
		s.mu.Lock()
		s.growing = growing
		s.mu.Unlock()
		if len(done) > 0 {
			slices.Sort(done)
			for i := range done {
				done[i] = s.display(done[i])
			}
			ready(done)
		}
		prev, first = cur, false
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
