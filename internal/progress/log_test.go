package progress

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// collector records the events it is given.
type collector struct {
	mu sync.Mutex
	ev []Event
}

func (c *collector) Report(e Event) {
	c.mu.Lock()
	c.ev = append(c.ev, e)
	c.mu.Unlock()
}

func (c *collector) items() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, e := range c.ev {
		if e.Kind == Item {
			out = append(out, e.Item)
		}
	}
	return out
}

// waitFor polls until the collector's items are want.
func waitFor(t *testing.T, c *collector, want []string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if slices.Equal(c.items(), want) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("tail saw items %v, want %v", c.items(), want)
}

// A dashboard tailing the log sees the last run so far, then each event of
// the run as it comes, and starts afresh with the next run.
func TestLogTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), LogName)
	log := OpenLog(path)
	tr := NewTracker(log)
	tr.Start(Listing, -1)
	tr.End(Listing)
	tr.Start(Uploading, 3)
	tr.Done(Uploading, "a", "sent")
	log.Flush()

	seen := &collector{}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { Tail(ctx, path, seen, time.Millisecond); close(done) }()
	waitFor(t, seen, []string{"a"})

	tr.Done(Uploading, "b", "sent")
	tr.End(Uploading) // flushes
	waitFor(t, seen, []string{"a", "b"})

	// The next run replaces the file: the tail starts from its top.
	tr.Start(Listing, -1)
	tr.Start(Uploading, 1)
	tr.Done(Uploading, "c", "sent")
	tr.End(Uploading)
	waitFor(t, seen, []string{"a", "b", "c"})
	seen.mu.Lock()
	var starts int
	for _, e := range seen.ev {
		if e.Phase == Listing && e.Kind == Start {
			starts++
		}
	}
	seen.mu.Unlock()
	if starts != 2 {
		t.Errorf("tail saw %d runs start, want 2", starts)
	}
	cancel()
	<-done
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}
}

// Tail waits for a log that does not exist yet.
func TestTailBeforeTheFirstRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), LogName)
	seen := &collector{}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go Tail(ctx, path, seen, time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	log := OpenLog(path)
	defer log.Close()
	tr := NewTracker(log)
	tr.Start(Uploading, 1)
	tr.Done(Uploading, "x", "sent")
	tr.End(Uploading)
	waitFor(t, seen, []string{"x"})
}
