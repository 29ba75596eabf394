package progress

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"
)

type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) Report(e Event) { r.mu.Lock(); r.events = append(r.events, e); r.mu.Unlock() }

func TestTrackerCounts(t *testing.T) {
	rec := &recorder{}
	tr := NewTracker(rec)
	tr.Start(Listing, -1)
	tr.Grow(Listing, 200)
	tr.Grow(Listing, 50)
	tr.Start(Uploading, 3)
	tr.Done(Uploading, "2023-10-29 run", "created")
	tr.Done(Uploading, "2023-10-30 walk", "duplicate")
	until := time.Date(2026, 1, 1, 14, 45, 0, 0, time.UTC)
	tr.Waiting("waiting for Strava's rate-limit window", until)
	tr.End(Uploading)
	ev := rec.events
	if ev[2].Total != 250 || ev[2].Done != 0 {
		t.Errorf("grow: %+v", ev[2])
	}
	if ev[5].Done != 2 || ev[5].Total != 3 || ev[5].Outcome != "duplicate" {
		t.Errorf("item: %+v", ev[5])
	}
	if !ev[6].Until.Equal(until) || ev[6].Kind != Wait {
		t.Errorf("wait: %+v", ev[6])
	}
	var nilTracker *Tracker
	nilTracker.Done(Uploading, "x", "y") // must not panic
}

func TestLines(t *testing.T) {
	var buf bytes.Buffer
	tr := NewTracker(NewLines(&buf))
	tr.Start(Uploading, 2)
	tr.Done(Uploading, "2023-10-29 run", "created")
	tr.Warn("unknown Zepp sport code 999: uploaded as Workout")
	tr.End(Uploading)
	want := "uploading: 2 to do\nuploading 1/2: 2023-10-29 run created\nwarning: unknown Zepp sport code 999: uploaded as Workout\nuploading: done (1)\n"
	if buf.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", buf.String(), want)
	}
}

func TestJSONLines(t *testing.T) {
	var buf bytes.Buffer
	tr := NewTracker(NewJSON(&buf))
	tr.Start(Fetching, 1)
	tr.Done(Fetching, "w", "ok")
	sc := bufio.NewScanner(&buf)
	n := 0
	for sc.Scan() {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %d not JSON: %v", n, err)
		}
		n++
	}
	if n != 2 {
		t.Fatalf("%d lines", n)
	}
	if !strings.Contains(buf.String(), `"event":"item"`) && n != 2 {
		t.Fatal("item event missing")
	}
}

func TestBarsRenderAndClose(t *testing.T) {
	var buf syncBuffer
	b := NewBars(&buf)
	tr := NewTracker(b)
	tr.Start(Uploading, 3)
	for range 3 {
		tr.Done(Uploading, "w", "created")
	}
	tr.Waiting("waiting for Strava's rate-limit window", time.Now().Add(time.Minute))
	tr.End(Uploading)
	b.Close()
	out := buf.String()
	if !strings.Contains(out, "uploading") || !strings.Contains(out, "3/3") {
		t.Errorf("bar output lacks phase or count:\n%q", out)
	}
	if !strings.Contains(out, "waiting") {
		t.Errorf("wait line missing:\n%q", out)
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.buf.String() }
