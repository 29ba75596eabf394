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

// TestNoteUploadIDRidesTheNextCommit checks that a noted upload ID starts
// no commit of its own, and is committed by the next write, by a read, or
// by Close, in order, and that a note refused by the ledger spoils nothing.
func TestNoteUploadIDRidesTheNextCommit(t *testing.T) {
	bg := context.Background()
	dir := t.TempDir()
	s, err := Open(bg, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	ids := make([]WorkoutID, 4)
	for i := range ids {
		ids[i] = addWorkout(t, s, i, "strava")
		if err := s.MarkUploading(bg, ids[i], "strava", ref(i).Key(), ""); err != nil {
			t.Fatal(err)
		}
	}
	reader, err := OpenReadOnly(bg, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	committed := func(id WorkoutID) string {
		t.Helper()
		d, err := reader.Delivery(bg, id, "strava")
		if err != nil {
			t.Fatal(err)
		}
		return d.UploadID
	}

	// The next write carries it; a note under another key is refused
	// alone.
	s.NoteUploadID(bg, ids[0], "strava", ref(0).Key(), "u-0")
	s.NoteUploadID(bg, ids[1], "strava", "not-its-key", "u-bad")
	if got := committed(ids[0]); got != "" {
		t.Fatalf("a note was committed on its own (upload ID %q)", got)
	}
	if err := s.MarkDone(bg, ids[3], "strava", "903"); err != nil {
		t.Fatal(err)
	}
	if got := committed(ids[0]); got != "u-0" {
		t.Errorf("after the next write, upload ID %q, want u-0", got)
	}
	if got := committed(ids[1]); got != "" {
		t.Errorf("a refused note was recorded: %q", got)
	}

	// A read sees it, having committed it.
	s.NoteUploadID(bg, ids[1], "strava", ref(1).Key(), "u-1")
	if d := mustState(t, s, ids[1], "strava", Uploading); d.UploadID != "u-1" {
		t.Errorf("a read after the note: upload ID %q, want u-1", d.UploadID)
	}
	if got := committed(ids[1]); got != "u-1" {
		t.Errorf("after a read, upload ID %q committed, want u-1", got)
	}

	// A later write of the same delivery lands after the note.
	s.NoteUploadID(bg, ids[2], "strava", ref(2).Key(), "u-2")
	if err := s.MarkDone(bg, ids[2], "strava", "902"); err != nil {
		t.Fatal(err)
	}
	if d := mustState(t, s, ids[2], "strava", Done); d.ActivityID != "902" {
		t.Errorf("activity %q, want 902", d.ActivityID)
	}

	// Close commits what is left.
	s.NoteUploadID(bg, ids[0], "strava", ref(0).Key(), "u-0b")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := committed(ids[0]); got != "u-0b" {
		t.Errorf("after Close, upload ID %q, want u-0b", got)
	}
}
