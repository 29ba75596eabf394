// Package sourcetest is the conformance suite of source.Source: every
// provider's tests call Run with a factory, and the suite checks the
// contract stated in package source — ordering, stable IDs, fingerprints,
// since/until, Fetch, cancellation and error classes.
package sourcetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/source"
)

// Mutator changes a provider's data behind the source's back. Providers
// whose data cannot change (a read-only export) leave Fixture.Mutator nil,
// and the suite skips the checks that need it.
type Mutator interface {
	// Change alters the data of the workout listed as ref, as an edit or a
	// re-sync with more detail would, so that its fingerprint must change.
	Change(t *testing.T, ref source.Ref)
	// Remove deletes the workout listed as ref, so that Fetch must fail
	// with errclass.ErrNotFound.
	Remove(t *testing.T, ref source.Ref)
}

// Fixture is what a provider's factory returns with its source.
type Fixture struct {
	// Mutator may be nil (see Mutator).
	Mutator Mutator
	// MaxFetch bounds how many listed workouts the Fetch check fetches
	// (0 = all).
	MaxFetch int
	// Timeout bounds each check (default 2 minutes).
	Timeout time.Duration
}

// Factory returns a fresh source over fresh data for one check: it must
// hold at least three workouts with distinct start times. Cleanup goes
// through t.Cleanup.
type Factory func(t *testing.T) (source.Source, Fixture)

// Run runs every check, each as a subtest with its own source.
func Run(t *testing.T, newSource Factory) {
	checks := []struct {
		name string
		fn   func(t *testing.T, ctx context.Context, s source.Source, f Fixture)
	}{
		{"Order", checkOrder},
		{"StableIDs", checkStable},
		{"Fingerprint", checkFingerprint},
		{"SinceUntil", checkSinceUntil},
		{"Fetch", checkFetch},
		{"Break", checkBreak},
		{"Cancel", checkCancel},
		{"Vanished", checkVanished},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			s, f := newSource(t)
			timeout := f.Timeout
			if timeout <= 0 {
				timeout = 2 * time.Minute
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			c.fn(t, ctx, s, f)
		})
	}
}

// List collects a whole listing, failing t on an error.
func List(t *testing.T, ctx context.Context, s source.Source, since, until time.Time) []source.Ref {
	t.Helper()
	var refs []source.Ref
	for r, err := range s.List(ctx, since, until) {
		if err != nil {
			t.Fatalf("List(%v, %v): %v", since, until, err)
		}
		refs = append(refs, r)
	}
	return refs
}

func listEnough(t *testing.T, ctx context.Context, s source.Source) []source.Ref {
	t.Helper()
	refs := List(t, ctx, s, time.Time{}, time.Time{})
	starts := map[time.Time]bool{}
	for _, r := range refs {
		starts[r.Start] = true
	}
	if len(starts) < 3 {
		t.Fatalf("the fixture must hold at least 3 workouts with distinct starts; listed %d workouts, %d starts", len(refs), len(starts))
	}
	return refs
}

func checkOrder(t *testing.T, ctx context.Context, s source.Source, _ Fixture) {
	refs := listEnough(t, ctx, s)
	seen := map[string]int{}
	for i, r := range refs {
		if r.ID == "" {
			t.Errorf("ref %d has an empty ID", i)
		}
		if r.Fingerprint == "" {
			t.Errorf("ref %s has an empty fingerprint", r.ID)
		}
		if r.Start.IsZero() || r.Start.Location() != time.UTC {
			t.Errorf("ref %s: Start %v is not a UTC time", r.ID, r.Start)
		}
		if j, dup := seen[r.ID]; dup {
			t.Errorf("ID %s listed twice (positions %d and %d)", r.ID, j, i)
		}
		seen[r.ID] = i
		if i == 0 {
			continue
		}
		p := refs[i-1]
		if r.Start.After(p.Start) || r.Start.Equal(p.Start) && r.ID <= p.ID {
			t.Errorf("not newest first with ties by ID: %s (%v) after %s (%v)", r.ID, r.Start, p.ID, p.Start)
		}
	}
}

func checkStable(t *testing.T, ctx context.Context, s source.Source, _ Fixture) {
	a := listEnough(t, ctx, s)
	b := List(t, ctx, s, time.Time{}, time.Time{})
	if len(a) != len(b) {
		t.Fatalf("two listings of unchanged data differ in length: %d, %d", len(a), len(b))
	}
	for i := range a {
		if a[i].ID != b[i].ID || !a[i].Start.Equal(b[i].Start) || a[i].Fingerprint != b[i].Fingerprint || a[i].Sport != b[i].Sport {
			t.Errorf("listing %d differs: %+v then %+v", i, a[i], b[i])
		}
	}
}

func checkFingerprint(t *testing.T, ctx context.Context, s source.Source, f Fixture) {
	if f.Mutator == nil {
		t.Skip("no Mutator: the provider's data cannot change")
	}
	before := listEnough(t, ctx, s)
	target := before[len(before)/2]
	f.Mutator.Change(t, target)
	after := List(t, ctx, s, time.Time{}, time.Time{})
	byID := map[string]source.Ref{}
	for _, r := range after {
		byID[r.ID] = r
	}
	for _, r := range before {
		a, ok := byID[r.ID]
		switch {
		case !ok:
			t.Errorf("%s vanished after changing %s", r.ID, target.ID)
		case r.ID == target.ID && a.Fingerprint == r.Fingerprint:
			t.Errorf("fingerprint of changed workout %s did not change (%s)", r.ID, r.Fingerprint)
		case r.ID != target.ID && a.Fingerprint != r.Fingerprint:
			t.Errorf("fingerprint of unchanged workout %s changed", r.ID)
		}
	}
}

func checkSinceUntil(t *testing.T, ctx context.Context, s source.Source, _ Fixture) {
	all := listEnough(t, ctx, s)
	// Distinct starts, newest first; pick an inner window.
	var starts []time.Time
	for _, r := range all {
		if len(starts) == 0 || !starts[len(starts)-1].Equal(r.Start) {
			starts = append(starts, r.Start)
		}
	}
	until := starts[len(starts)/3]   // newer bound, excluded
	since := starts[len(starts)*2/3] // older bound, included
	windows := [][2]time.Time{
		{since, until},
		{since, time.Time{}},
		{time.Time{}, until},
		{since.Add(time.Second), until.Add(time.Second)}, // between starts where possible
		{until, until}, // empty
	}
	for _, w := range windows {
		got := List(t, ctx, s, w[0], w[1])
		var want []source.Ref
		for _, r := range all {
			if (w[0].IsZero() || !r.Start.Before(w[0])) && (w[1].IsZero() || r.Start.Before(w[1])) {
				want = append(want, r)
			}
		}
		if !slices.EqualFunc(got, want, func(a, b source.Ref) bool { return a.ID == b.ID }) {
			t.Errorf("List(%v, %v): got %d workouts %v, want %d %v", w[0], w[1], len(got), ids(got), len(want), ids(want))
		}
	}
}

func ids(refs []source.Ref) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = r.ID
	}
	if len(out) > 12 {
		out = append(out[:12], "…")
	}
	return out
}

func checkFetch(t *testing.T, ctx context.Context, s source.Source, f Fixture) {
	refs := listEnough(t, ctx, s)
	if f.MaxFetch > 0 && len(refs) > f.MaxFetch {
		refs = refs[:f.MaxFetch]
	}
	for _, r := range refs {
		w, err := s.Fetch(ctx, r)
		if err != nil {
			t.Errorf("Fetch(%s): %v", r.ID, err)
			continue
		}
		if w.Origin.Source != s.Name() || w.Origin.ID != r.ID {
			t.Errorf("Fetch(%s): Origin = %+v, want {%s %s}", r.ID, w.Origin, s.Name(), r.ID)
		}
		if !w.Start.Equal(r.Start) {
			t.Errorf("Fetch(%s): Start = %v, listed %v", r.ID, w.Start, r.Start)
		}
		if w.Sport != r.Sport {
			t.Errorf("Fetch(%s): Sport = %v, listed %v", r.ID, w.Sport, r.Sport)
		}
		if err := w.Validate(); err != nil {
			t.Errorf("Fetch(%s): the workout is not sound: %v", r.ID, err)
		}
	}
}

func checkBreak(t *testing.T, ctx context.Context, s source.Source, _ Fixture) {
	listEnough(t, ctx, s)
	n := 0
	for _, err := range s.List(ctx, time.Time{}, time.Time{}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if n == 2 {
			break // the iterator must not call yield again (that would panic)
		}
	}
	if n != 2 {
		t.Fatalf("stopped after %d refs, want 2", n)
	}
}

func checkCancel(t *testing.T, ctx context.Context, s source.Source, _ Fixture) {
	refs := listEnough(t, ctx, s)

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	start := time.Now()
	n := 0
	var listErr error
	for r, err := range s.List(canceled, time.Time{}, time.Time{}) {
		if err != nil {
			listErr = err
			break
		}
		n++
		_ = r
	}
	if !errors.Is(listErr, context.Canceled) {
		t.Errorf("List with a canceled context: got %d refs and error %v, want an error matching context.Canceled", n, listErr)
	}
	if n != 0 {
		t.Errorf("List with a canceled context yielded %d refs before its error", n)
	}
	if _, err := s.Fetch(canceled, refs[0]); !errors.Is(err, context.Canceled) {
		t.Errorf("Fetch with a canceled context: %v, want an error matching context.Canceled", err)
	}

	// Canceled mid-listing: the next yield is the context's error.
	mid, cancelMid := context.WithCancel(ctx)
	defer cancelMid()
	got, errs := 0, 0
	for _, err := range s.List(mid, time.Time{}, time.Time{}) {
		if err != nil {
			errs++
			if !errors.Is(err, context.Canceled) {
				t.Errorf("List canceled mid-way: error %v, want context.Canceled", err)
			}
			break
		}
		got++
		if got == 1 {
			cancelMid()
		} else {
			t.Errorf("List yielded a ref after its context was canceled")
			break
		}
	}
	if errs != 1 {
		t.Errorf("List canceled mid-way ended without the context's error")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("cancellation took %v", d)
	}
}

func checkVanished(t *testing.T, ctx context.Context, s source.Source, f Fixture) {
	if f.Mutator == nil {
		t.Skip("no Mutator: the provider's data cannot change")
	}
	refs := listEnough(t, ctx, s)
	gone := refs[len(refs)-1]
	f.Mutator.Remove(t, gone)
	_, err := s.Fetch(ctx, gone)
	if !errors.Is(err, errclass.ErrNotFound) {
		t.Fatalf("Fetch of a removed workout: %v (class %v), want errclass.ErrNotFound", err, errclass.ClassOf(err))
	}
	for _, r := range List(t, ctx, s, time.Time{}, time.Time{}) {
		if r.ID == gone.ID {
			t.Errorf("removed workout %s is still listed", gone.ID)
		}
	}
	// The others are still fetchable.
	if _, err := s.Fetch(ctx, refs[0]); err != nil {
		t.Errorf("Fetch(%s) after removing another workout: %v", refs[0].ID, err)
	}
}
