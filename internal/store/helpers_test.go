package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bandsync/bandsync/internal/workout"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// openTest opens a store in a fresh directory with a test clock, closed at
// the end of the test.
func openTest(t testing.TB) (*Store, *clock) {
	t.Helper()
	c := newClock()
	s, err := Open(context.Background(), t.TempDir(), WithClock(c.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, c
}

// ref returns a plausible zepp workout: the i-th, one a day from 2024.
func ref(i int) Ref {
	return Ref{
		Source:      "zepp",
		SourceID:    fmt.Sprint(1700000000 + i*86400),
		Start:       time.Date(2024, 1, 1, 7, 30, 0, 0, time.UTC).AddDate(0, 0, i),
		Zone:        workout.Zone{Offset: 2 * time.Hour, Known: true},
		Sport:       workout.Sports()[i%len(workout.Sports())],
		Fingerprint: fmt.Sprintf("fp-%d-a", i),
		Summary: workout.Summary{
			Distance: 5000 + float64(i), Elapsed: 31 * time.Minute, Moving: 29*time.Minute + 500*time.Millisecond,
			Calories: 320.5, Ascent: 41, AvgHR: 151, MaxHR: 178, Steps: 5400,
		},
	}
}

// addWorkout upserts ref(i) with a delivery to sink and returns its ID.
func addWorkout(t testing.TB, s *Store, i int, sink string) WorkoutID {
	t.Helper()
	ctx := context.Background()
	id, _, err := s.UpsertWorkout(ctx, ref(i))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnsureDelivery(ctx, id, sink); err != nil {
		t.Fatal(err)
	}
	return id
}

func mustState(t testing.TB, s *Store, id WorkoutID, sink string, want State) Delivery {
	t.Helper()
	d, err := s.Delivery(context.Background(), id, sink)
	if err != nil {
		t.Fatal(err)
	}
	if d.State != want {
		t.Fatalf("workout %d on %s: state %s, want %s", id, sink, d.State, want)
	}
	return d
}
