package cli

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bandsync/bandsync/internal/store"
	"github.com/bandsync/bandsync/internal/web/webtest"
)

// syncBuffer is a bytes.Buffer safe to read while the demo writes it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}
func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.buf.String() }

// startDemoServe runs `bandsync demo --serve` over the data dir dir until
// the test ends and returns its dashboard's URL.
func startDemoServe(t *testing.T, dir string, opts *DemoOptions) string {
	t.Helper()
	out := &syncBuffer{}
	f := &Factory{IO: IOStreams{In: strings.NewReader(""), Out: out, ErrOut: out}, Getenv: func(string) string { return "" }, Quiet: true, dataDir: dir}
	opts.IO, opts.Quiet, opts.Serve = f.IO, true, true
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- demoRun(ctx, f, opts) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("demo: %v\n%s", err, out.String())
			}
		case <-time.After(20 * time.Second):
			t.Error("the demo did not stop")
		}
	})
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if m := regexp.MustCompile(`Dashboard: (http://127\.0\.0\.1:[0-9]+/)`).FindStringSubmatch(out.String()); m != nil {
			return m[1]
		}
		select {
		case err := <-done:
			t.Fatalf("the demo ended early: %v\n%s", err, out.String())
		default:
		}
	}
	t.Fatalf("no dashboard URL:\n%s", out.String())
	return ""
}

// TestDemoDashboardInBrowser runs `bandsync demo --serve`, opens its
// dashboard in headless Chromium, checks the overview's numbers against
// `bandsync status --json`, opens a workout and waits until every chart
// shows the band's and Strava's series, and saves a screenshot.
func TestDemoDashboardInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo and a browser")
	}
	dir := t.TempDir()
	ctx := t.Context()
	url := startDemoServe(t, dir, &DemoOptions{Workouts: 24, Seed: 3})

	// Started after the demo, the browser closes before it (cleanups run
	// last first), as a person closes the tab before pressing Ctrl-C.
	bctx := webtest.Browser(t)

	// The overview shows what `bandsync status --json` says.
	status, err := gatherStatus(ctx, demoDataFactory(dir))
	if err != nil {
		t.Fatal(err)
	}
	shown, err := webtest.OverviewCounts(bctx, url)
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range status.Sinks {
		want := map[store.State]int{store.Done: s.Done, store.Duplicate: s.Duplicate, store.Skipped: s.Skipped,
			store.Failed: s.Failed, store.Pending: s.Pending, store.Uploading: s.Uploading}
		for state, n := range want {
			if got := shown[name+":"+string(state)]; got != strconv.Itoa(n) {
				t.Errorf("overview %s:%s = %q, status --json says %d", name, state, got, n)
			}
		}
	}
	if status.Sinks["strava"].Done == 0 {
		t.Fatalf("the demo uploaded nothing: %+v", status)
	}

	// A workout on Strava: both series in every chart.
	st, err := store.OpenReadOnly(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	list, _, err := st.Workouts(ctx, store.Filter{State: store.Done, Sink: "strava", Limit: 1, Order: store.NewestFirst})
	st.Close()
	if err != nil || len(list) == 0 {
		t.Fatalf("no workout done on Strava: %v", err)
	}
	if err := webtest.CheckCharts(bctx, fmt.Sprintf("%sworkouts/%d", url, list[0].Workout.ID)); err != nil {
		t.Fatal(err)
	}
	webtest.Screenshot(bctx, t, "demo-dashboard-workout.png")
}

// demoDataFactory is a Factory reading a demo's data dir, as `bandsync
// --data-dir DIR status --json` would.
func demoDataFactory(dir string) *Factory {
	return &Factory{IO: IOStreams{In: strings.NewReader("")}, Getenv: func(string) string { return "" }, dataDir: dir}
}
