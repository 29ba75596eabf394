package syncer

import (
	"context"
	"fmt"
	"time"

	"github.com/bandsync/bandsync/internal/progress"
	"github.com/bandsync/bandsync/internal/source"
	"github.com/bandsync/bandsync/internal/store"
)

// listBatch is how many listed workouts are recorded in one transaction.
const listBatch = 200

// list records the source's workouts in the windows not yet listed
// completely, plus the recent past, and records each completed window as
// coverage.
func (s *Syncer) list(ctx context.Context, rep *Report) error {
	windows, full, err := s.toList(ctx)
	if err != nil {
		return err
	}
	tr := s.opt.Tracker
	tr.Start(progress.Listing, -1)
	defer tr.End(progress.Listing)
	for _, w := range windows {
		if err := s.listWindow(ctx, rep, w); err != nil {
			if stopErr(err) {
				return err
			}
			rep.ListErr = err
			tr.Warn(fmt.Sprintf("listing %s stopped: %v", s.src.Name(), err))
			return nil
		}
	}
	if full {
		return ledgerErr(s.led.SetMetaTime(ctx, s.fullKey(), s.opt.Now()))
	}
	return nil
}

// fullKey is the meta key of the source's last complete listing.
func (s *Syncer) fullKey() string { return "list." + s.src.Name() + ".full" }

// toList returns the windows to list, newest first: the whole of
// [Since, Until) when the last complete listing is older than FullRelist,
// else the part that coverage leaves out, widened by the recent past. full
// says whether the result covers the whole want.
func (s *Syncer) toList(ctx context.Context) (windows []store.Window, full bool, err error) {
	cov, err := s.led.Coverage(ctx, s.src.Name())
	if err != nil {
		return nil, false, ledgerErr(err)
	}
	now := s.opt.Now()
	want := store.Window{From: s.opt.Since, To: s.opt.Until}
	if want.To.IsZero() || want.To.After(now) {
		want.To = now
	}
	if s.opt.ListAll {
		return []store.Window{want}, false, nil
	}
	last, ok, err := s.led.MetaTime(ctx, s.fullKey())
	if err != nil {
		return nil, false, ledgerErr(err)
	}
	if ok && now.Sub(last) >= s.opt.FullRelist {
		return []store.Window{want}, true, nil
	}
	recent := now.Add(-s.opt.Relist)
	// Forget coverage of the recent past so it is listed again.
	var trimmed []store.Window
	for _, c := range cov {
		if c.To.After(recent) {
			c.To = recent
		}
		if c.To.After(c.From) {
			trimmed = append(trimmed, c)
		}
	}
	out := store.Uncovered(trimmed, want)
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	// Once the whole history has been listed, later runs list the recent
	// past only and a full relist comes around by FullRelist.
	full = len(store.Uncovered(trimmed, store.Window{To: want.To})) == len(out) && s.opt.Since.IsZero() && s.opt.Until.IsZero()
	return out, full, nil
}

// listWindow lists one window. The source lists newest first, so when it
// stops early everything from the oldest workout it listed up to the
// window's end is complete, and is recorded as such.
func (s *Syncer) listWindow(ctx context.Context, rep *Report, w store.Window) error {
	name := s.src.Name()
	until := w.To
	if until.IsZero() {
		until = s.opt.Now()
	}
	var batch []source.Ref
	var oldest time.Time
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := s.record(ctx, rep, batch)
		batch = batch[:0]
		return err
	}
	var listErr error
	for ref, err := range s.src.List(ctx, w.From, w.To) {
		if err != nil {
			listErr = err
			break
		}
		batch = append(batch, ref)
		if oldest.IsZero() || ref.Start.Before(oldest) {
			oldest = ref.Start
		}
		if len(batch) == listBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if s.opt.ListAll {
		if listErr != nil {
			return fmt.Errorf("list %s: %w", name, listErr)
		}
		return nil
	}
	if listErr != nil {
		if !oldest.IsZero() {
			if err := s.led.AddCoverage(ctx, name, oldest, until); err != nil {
				return ledgerErr(err)
			}
		}
		return fmt.Errorf("list %s: %w", name, listErr)
	}
	return ledgerErr(s.led.AddCoverage(ctx, name, w.From, until))
}

// record upserts a page of listed workouts and makes sure each is meant for
// every sink.
func (s *Syncer) record(ctx context.Context, rep *Report, refs []source.Ref) error {
	name := s.src.Name()
	in := make([]store.Ref, len(refs))
	for i, r := range refs {
		in[i] = store.Ref{Source: name, SourceID: r.ID, Start: r.Start, Sport: r.Sport, Fingerprint: r.Fingerprint, Summary: r.Summary}
	}
	names := s.sinkNames()
	ups, err := s.led.UpsertWorkouts(ctx, in, names...)
	if err != nil {
		return ledgerErr(fmt.Errorf("record listed workouts: %w", err))
	}
	for i, u := range ups {
		rep.Listed++
		switch u.Change {
		case store.New:
			rep.New++
		case store.Changed:
			rep.Changed++
			for _, name := range names {
				d, err := s.led.EnsureDelivery(ctx, u.ID, name)
				if err != nil {
					return ledgerErr(err)
				}
				if d.ChangedAtSource {
					rep.ChangedAtSource = append(rep.ChangedAtSource,
						fmt.Sprintf("%s on %s (activity %s)", in[i].Key(), name, d.ActivityID))
				}
			}
		}
		s.opt.Tracker.Done(progress.Listing, "", "")
	}
	return nil
}
