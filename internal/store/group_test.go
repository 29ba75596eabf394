package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// TestWritesShareACommit holds one commit open while other writes arrive,
// then checks that they were committed together and that, inside the
// shared transaction, a write that fails and a write whose context ended
// are undone alone.
func TestWritesShareACommit(t *testing.T) {
	s, _ := openTest(t)
	bg := context.Background()
	const n = 6
	ids := make([]WorkoutID, n)
	for i := range ids {
		ids[i] = addWorkout(t, s, i, "strava")
	}
	bad := addWorkout(t, s, n, "strava")

	reader, err := OpenReadOnly(bg, s.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	release := make(chan struct{})
	commits := 0
	var seenByReader State
	var mu sync.Mutex
	s.beforeCommit = func(_ context.Context, op string) {
		mu.Lock()
		commits++
		c := commits
		mu.Unlock()
		switch c {
		case 1:
			<-release
		case n: // the last write of the second transaction
			d, err := reader.Delivery(bg, ids[1], "strava")
			if err != nil {
				t.Error(err)
			}
			seenByReader = d.State
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, n+2)
	wg.Go(func() { errs[0] = s.MarkUploading(bg, ids[0], "strava", ref(0).Key(), "") })
	waitQueued(t, s, 0) // the first write is committing, the queue empty
	for i := 1; i < n; i++ {
		wg.Go(func() { errs[i] = s.MarkUploading(bg, ids[i], "strava", ref(i).Key(), "") })
	}
	wg.Go(func() { errs[n] = s.MarkDone(bg, bad+100, "strava", "9") }) // no such workout
	canceled, cancel := context.WithCancel(bg)
	wg.Go(func() {
		errs[n+1] = s.MarkUploading(canceled, bad, "strava", ref(n).Key(), "")
	})
	waitQueued(t, s, n+1)
	cancel()
	close(release)
	wg.Wait()

	for i := range n {
		if errs[i] != nil {
			t.Errorf("write %d: %v", i, errs[i])
		}
		mustState(t, s, ids[i], "strava", Uploading)
	}
	if errs[n] == nil {
		t.Errorf("MarkDone of a workout not in the ledger: no error")
	}
	if !errors.Is(errs[n+1], context.Canceled) {
		t.Errorf("canceled write: want context.Canceled, got %v", errs[n+1])
	}
	mustState(t, s, bad, "strava", Pending)
	if seenByReader != Pending {
		t.Errorf("before the shared commit, a reader saw an earlier write of it as %s: the writes were not committed together", seenByReader)
	}
	// The first commit, then one for the five that waited and succeeded
	// (the hook runs once per write that got as far as committing).
	if commits != 1+n-1 {
		t.Errorf("%d writes reached a commit, want %d", commits, n)
	}
}

// waitQueued waits until n writes wait behind the one committing.
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.wmu.Lock()
		got, busy := len(s.writes), s.writing
		s.wmu.Unlock()
		if busy && got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}
