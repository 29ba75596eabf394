package zepp_test

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	emu "github.com/bandsync/bandsync/internal/emulator/zepp"
	"github.com/bandsync/bandsync/internal/source"
	"github.com/bandsync/bandsync/internal/source/zepp/api"
)

// benchEnv is an emulator with n generated workouts and a logged-in source;
// building it is not timed.
func benchEnv(b testing.TB, n int) (*env, *source.Source) {
	b.Helper()
	e := newEnv(b, emu.Options{})
	e.opts.Logf, e.opts.Warnf = nil, nil
	if err := e.srv.AddGenerated(testEmail, n, 42); err != nil {
		b.Fatal(err)
	}
	e.login(b)
	var s source.Source = e.source(b)
	return e, &s
}

// BenchmarkList5000 lists a history of 5 000 workouts (25 pages).
func BenchmarkList5000(b *testing.B) {
	e, sp := benchEnv(b, 5000)
	s := *sp
	e.srv.ResetRequests()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		n := 0
		for _, err := range s.List(context.Background(), time.Time{}, time.Time{}) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != 5000 {
			b.Fatalf("listed %d", n)
		}
	}
	b.ReportMetric(float64(e.srv.Requests(""))/float64(b.N), "requests/op")
}

// BenchmarkFetch1000 fetches 1 000 details, four at a time (the pacer's
// default concurrency). The emulator generates and encodes each detail on
// demand, inside the timed loop.
func BenchmarkFetch1000(b *testing.B) {
	e, sp := benchEnv(b, 1000)
	s := *sp
	var refs []source.Ref
	for r, err := range s.List(context.Background(), time.Time{}, time.Time{}) {
		if err != nil {
			b.Fatal(err)
		}
		refs = append(refs, r)
	}
	e.srv.ResetRequests()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := fetchAll(s, refs, 4); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(e.srv.Requests(api.PathDetail))/float64(b.N), "details/op")
	b.ReportMetric(float64(e.srv.Requests(""))/float64(b.N), "requests/op")
}

// fetchAll fetches refs with workers goroutines, in order of hand-out, and
// returns the first error.
func fetchAll(s source.Source, refs []source.Ref, workers int) error {
	work := make(chan source.Ref)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range work {
				if _, err := s.Fetch(context.Background(), r); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for _, r := range refs {
		work <- r
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// liveHeapDuringList lists the workouts since since and returns the largest
// growth of the live heap (after a GC) over the heap before listing,
// sampled every 250 workouts.
func liveHeapDuringList(t *testing.T, s source.Source, since time.Time) (growth uint64, listed int) {
	live := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	base := live()
	for _, err := range s.List(context.Background(), since, time.Time{}) {
		if err != nil {
			t.Fatal(err)
		}
		listed++
		if listed%250 == 0 {
			if h := live(); h > base && h-base > growth {
				growth = h - base
			}
		}
	}
	return growth, listed
}

// TestListMemoryDoesNotGrow: listing streams, so the memory the client
// holds while listing 5 000 workouts is about what it holds for 1 000.
// (The client's memory does not depend on what the server holds beyond the
// window listed, so one 5 000-workout emulator serves both listings.)
func TestListMemoryDoesNotGrow(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 5 000 workouts")
	}
	e, sp := benchEnv(t, 5000)
	s := *sp
	var since time.Time
	n := 0
	for r, err := range s.List(context.Background(), time.Time{}, time.Time{}) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 1000 {
			since = r.Start
		}
	}
	// A fresh source for each, so that its summary cache fills during the measurement.
	g1, n1 := liveHeapDuringList(t, e.source(t), since)
	g5, n5 := liveHeapDuringList(t, e.source(t), time.Time{})
	t.Logf("live heap growth while listing: %d workouts %d KiB, %d workouts %d KiB", n1, g1>>10, n5, g5>>10)
	if n1 != 1000 || n5 != 5000 {
		t.Fatalf("listed %d and %d", n1, n5)
	}
	const slack = 2 << 20
	if g5 > g1+slack {
		t.Errorf("listing 5 000 holds %d KiB more than listing 1 000 (%d KiB): memory grows with the history", (g5-g1)>>10, g1>>10)
	}
	if g5 > 8<<20 {
		t.Errorf("listing holds %d KiB", g5>>10)
	}
}
