package files

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// bigFolder writes n workouts of the given number of one-second samples
// spread over folders of 100, cycling through FIT, GPX, TCX and gzipped
// FIT.
func bigFolder(tb testing.TB, n, samples int) string {
	tb.Helper()
	dir := tb.TempDir()
	exts := []string{".fit", ".gpx", ".tcx", ".fit.gz"}
	base := time.Date(2015, 1, 1, 6, 0, 0, 0, time.UTC)
	for i := range n {
		w := synthetic(base.Add(time.Duration(i)*26*time.Hour), samples)
		write(tb, filepath.Join(dir, fmt.Sprintf("y%02d", i/100), fmt.Sprintf("w%05d%s", i, exts[i%len(exts)])), w)
	}
	return dir
}

func listCount(tb testing.TB, s *Source) int {
	n := 0
	for _, err := range s.List(context.Background(), time.Time{}, time.Time{}) {
		if err != nil {
			tb.Fatal(err)
		}
		n++
	}
	return n
}

// BenchmarkFolder2000 lists a folder of 2 000 files and fetches them all:
// "cold" with a new Source each time (every file read, hashed and decoded
// once by List, then again by Fetch), "warm-list" listing again with the
// same Source (a stat per file).
func BenchmarkFolder2000(b *testing.B) {
	const n = 2000
	dir := bigFolder(b, n, 1800) // 30-minute workouts
	b.Run("cold-list+fetch", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s, err := New(dir, Options{})
			if err != nil {
				b.Fatal(err)
			}
			refs := 0
			for r, err := range s.List(context.Background(), time.Time{}, time.Time{}) {
				if err != nil {
					b.Fatal(err)
				}
				if _, err := s.Fetch(context.Background(), r); err != nil {
					b.Fatal(err)
				}
				refs++
			}
			if refs != n {
				b.Fatalf("listed %d", refs)
			}
		}
	})
	b.Run("warm-list", func(b *testing.B) {
		s, _ := New(dir, Options{})
		listCount(b, s)
		b.ReportAllocs()
		for b.Loop() {
			if got := listCount(b, s); got != n {
				b.Fatalf("listed %d", got)
			}
		}
	})
}

// TestMemoryPerFile: what a listing keeps between runs grows by a few
// hundred bytes per file, not by a decoded workout (300 samples, about
// 25 KB as samples, more as decoded XML) per file.
func TestMemoryPerFile(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 1 200 files")
	}
	heapAfterList := func(n int) (uint64, *Source) {
		dir := bigFolder(t, n, 300)
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		s, err := New(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := listCount(t, s); got != n {
			t.Fatalf("listed %d of %d", got, n)
		}
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		return after.HeapAlloc - min(after.HeapAlloc, before.HeapAlloc), s
	}
	small, s1 := heapAfterList(200)
	large, s2 := heapAfterList(1200)
	perFile := float64(int64(large)-int64(small)) / 1000
	t.Logf("heap kept by the index: %d B for 200 files, %d B for 1 200: %.0f B per file", small, large, perFile)
	if perFile > 2048 {
		t.Errorf("the index keeps %.0f B per file; it should keep no samples", perFile)
	}
	runtime.KeepAlive(s1)
	runtime.KeepAlive(s2)
}
