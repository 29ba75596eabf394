package strava

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/sink/strava/api"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func headers(overallUsed, readUsed api.Pair) http.Header {
	h := http.Header{}
	api.SetRateLimits(h, api.RateLimits{
		Overall: api.Bucket{Limit: api.Pair{Quarter: 200, Day: 2000}, Usage: overallUsed},
		Read:    api.Bucket{Limit: api.Pair{Quarter: 100, Day: 1000}, Usage: readUsed},
	})
	return h
}

func TestBudgetWindows(t *testing.T) {
	clk := &testClock{t: time.Date(2026, 5, 20, 14, 37, 0, 0, time.UTC)}
	b := NewBudget(clk.now)
	b.Observe(headers(api.Pair{Quarter: 190, Day: 400}, api.Pair{Quarter: 20, Day: 50}), clk.now())
	// Uploads stop at 190 (a reserve of 10 for reads); reads go on to 200.
	err := b.Take(false)
	if errclass.ClassOf(err) != errclass.RateLimited || !errclass.UntilOf(err).Equal(time.Date(2026, 5, 20, 14, 45, 0, 0, time.UTC)) {
		t.Fatalf("upload at 190/200: %v (until %v)", err, errclass.UntilOf(err))
	}
	for i := range 10 {
		if err := b.Take(true); err != nil {
			t.Fatalf("read %d within the reserve: %v", i, err)
		}
	}
	if err := b.Take(true); errclass.ClassOf(err) != errclass.RateLimited {
		t.Fatalf("read 201: %v", err)
	}
	// A late answer from the closed window does not fill the new one.
	sent := clk.now()
	clk.set(time.Date(2026, 5, 20, 14, 45, 0, 0, time.UTC))
	b.Observe(headers(api.Pair{Quarter: 200, Day: 410}, api.Pair{Quarter: 30, Day: 60}), sent)
	if o, _ := b.Remaining(); o.Quarter != 200 || o.Day != 2000-410 {
		t.Errorf("remaining after the window turned: %+v", o)
	}
	if err := b.Take(false); err != nil {
		t.Errorf("upload in a new quarter: %v", err)
	}
	// The daily limit: until UTC midnight.
	b.Observe(headers(api.Pair{Quarter: 3, Day: 1900}, api.Pair{Quarter: 1, Day: 60}), clk.now())
	if err := b.Take(false); !errclass.UntilOf(err).Equal(time.Date(2026, 5, 21, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("upload at 1900/2000 a day: %v", err)
	}
	// A 429 for the read quarter blocks reads until 15:00.
	clk.set(time.Date(2026, 5, 20, 14, 50, 0, 0, time.UTC))
	until := b.Refused(headers(api.Pair{Quarter: 150, Day: 1500}, api.Pair{Quarter: 100, Day: 600}), clk.now())
	if !until.Equal(time.Date(2026, 5, 20, 15, 0, 0, 0, time.UTC)) {
		t.Errorf("429 until %v", until)
	}
	if err := b.Take(true); errclass.ClassOf(err) != errclass.RateLimited {
		t.Errorf("read after a 429: %v", err)
	}
}

func TestKeyOf(t *testing.T) {
	for ext, want := range map[string]string{
		"zepp-1698569116.fit": "zepp-1698569116", "zepp-1.fit.fit": "zepp-1", "zepp-1.fit.gz": "zepp-1",
		"garmin_push_123": "", ".fit": "", "": "",
	} {
		if got := keyOf(ext); got != want {
			t.Errorf("keyOf(%q) = %q, want %q", ext, got, want)
		}
	}
}
