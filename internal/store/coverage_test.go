package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// day d of March 2017, for readable windows.
func day(d int) time.Time { return time.Date(2017, 3, d, 0, 0, 0, 0, time.UTC) }

func TestCoverageMerging(t *testing.T) {
	ctx := context.Background()
	w := func(a, b int) Window { return Window{day(a), day(b)} }
	for _, tc := range []struct {
		name string
		add  []Window
		want []Window
	}{
		{"disjoint, sorted", []Window{w(10, 12), w(1, 3), w(5, 6)}, []Window{w(1, 3), w(5, 6), w(10, 12)}},
		{"overlapping", []Window{w(1, 5), w(4, 8)}, []Window{w(1, 8)}},
		{"adjacent", []Window{w(1, 5), w(5, 8)}, []Window{w(1, 8)}},
		{"adjacent before", []Window{w(5, 8), w(1, 5)}, []Window{w(1, 8)}},
		{"contained", []Window{w(1, 10), w(3, 4)}, []Window{w(1, 10)}},
		{"containing", []Window{w(3, 4), w(6, 7), w(1, 10)}, []Window{w(1, 10)}},
		{"bridging three", []Window{w(1, 3), w(5, 6), w(8, 9), w(2, 8)}, []Window{w(1, 9)}},
		{"bridging some", []Window{w(1, 3), w(5, 6), w(12, 13), w(2, 8)}, []Window{w(1, 8), w(12, 13)}},
		{"one millisecond apart", []Window{{day(1), day(2)}, {day(2).Add(time.Millisecond), day(3)}},
			[]Window{{day(1), day(2)}, {day(2).Add(time.Millisecond), day(3)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := openTest(t)
			for _, a := range tc.add {
				must(t, s.AddCoverage(ctx, "zepp", a.From, a.To))
			}
			must(t, s.AddCoverage(ctx, "files", day(1), day(30))) // another source stays apart
			got, err := s.Coverage(ctx, "zepp")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestCoverageOpenBounds(t *testing.T) {
	s, c := openTest(t)
	ctx := context.Background()
	if err := s.AddCoverage(ctx, "zepp", day(5), day(5)); err == nil {
		t.Error("empty window accepted")
	}
	// A first backfill listed the last month only; zero until means now.
	must(t, s.AddCoverage(ctx, "zepp", c.Now().AddDate(0, -1, 0), time.Time{}))
	got, _ := s.Coverage(ctx, "zepp")
	back, ok := CompleteBack(got)
	if !ok || !back.From.Equal(c.Now().AddDate(0, -1, 0)) || !back.To.Equal(c.Now()) {
		t.Fatalf("CompleteBack: %v %v", back, ok)
	}
	// The whole history before that: since the beginning of time.
	must(t, s.AddCoverage(ctx, "zepp", time.Time{}, c.Now().AddDate(0, -1, 0)))
	got, _ = s.Coverage(ctx, "zepp")
	back, ok = CompleteBack(got)
	if !ok || !back.From.IsZero() || len(got) != 1 {
		t.Fatalf("whole history: %v %v (%v)", back, ok, got)
	}
}

func TestCompleteBackAndUncovered(t *testing.T) {
	if _, ok := CompleteBack(nil); ok {
		t.Error("nothing covered, but complete")
	}
	covered := []Window{{day(1), day(3)}, {day(5), day(8)}, {day(10), day(20)}}
	back, ok := CompleteBack(covered)
	if !ok || back != covered[2] {
		t.Errorf("CompleteBack: %v", back)
	}
	for _, tc := range []struct {
		want Window
		gaps []Window
	}{
		{Window{day(1), day(20)}, []Window{{day(3), day(5)}, {day(8), day(10)}}},
		{Window{day(2), day(6)}, []Window{{day(3), day(5)}}},
		{Window{day(6), day(7)}, nil},
		{Window{day(15), day(25)}, []Window{{day(20), day(25)}}},
		{Window{time.Time{}, day(2)}, []Window{{time.Time{}, day(1)}}},
		{Window{day(21), day(22)}, []Window{{day(21), day(22)}}},
	} {
		if got := Uncovered(covered, tc.want); !cmp.Equal(got, tc.gaps) {
			t.Errorf("Uncovered(%v) = %v, want %v", tc.want, got, tc.gaps)
		}
	}
	if got := Uncovered(nil, Window{day(1), day(2)}); !cmp.Equal(got, []Window{{day(1), day(2)}}) {
		t.Errorf("nothing covered: %v", got)
	}
}

// FuzzCoverage adds windows of whole days (two bytes each: start, length)
// and checks the recorded coverage against a simple model: the set of
// covered days. Coverage must be sorted, disjoint and not adjacent, and
// Uncovered must return exactly the rest.
func FuzzCoverage(f *testing.F) {
	f.Add([]byte{1, 2, 5, 1, 3, 2})
	f.Add([]byte{10, 5, 0, 10, 20, 3, 15, 5})
	f.Add([]byte{0, 63, 4, 4})
	s, _ := openTest(f)
	ctx := context.Background()
	base := time.Date(2017, 3, 1, 0, 0, 0, 0, time.UTC)
	at := func(d int) time.Time { return base.AddDate(0, 0, d) }
	run := 0
	f.Fuzz(func(t *testing.T, ops []byte) {
		run++
		source := fmt.Sprint("fuzz-", run)
		var model [64]bool
		for i := 0; i+1 < len(ops) && i < 40; i += 2 {
			from, n := int(ops[i]%64), int(ops[i+1]%8)+1
			to := min(from+n, 64)
			must(t, s.AddCoverage(ctx, source, at(from), at(to)))
			for d := from; d < to; d++ {
				model[d] = true
			}
		}
		got, err := s.Coverage(ctx, source)
		must(t, err)
		var covered [64]bool
		for i, w := range got {
			if i > 0 && !got[i-1].To.Before(w.From) {
				t.Fatalf("windows %v and %v touch or overlap", got[i-1], w)
			}
			for d := range 64 {
				if !at(d).Before(w.From) && at(d).Before(w.To) {
					covered[d] = true
				}
			}
		}
		if covered != model {
			t.Fatalf("coverage %v does not match the days added", got)
		}
		var rest [64]bool
		for _, w := range Uncovered(got, Window{at(0), at(64)}) {
			for d := range 64 {
				if !at(d).Before(w.From) && at(d).Before(w.To) {
					rest[d] = true
				}
			}
		}
		for d := range 64 {
			if rest[d] == model[d] {
				t.Fatalf("day %d: covered %v, uncovered %v", d, model[d], rest[d])
			}
		}
	})
}
