package web

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bandsync/bandsync/internal/store"
)

// chromiumPath is where Debian's chromium package puts the browser.
const chromiumPath = "/usr/bin/chromium"

// browser starts headless Chromium for the test, or skips the test when
// it is not installed (fails under BANDSYNC_CI=1, where it must be).
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		msg := "BROWSER TEST NOT RUN: " + chromiumPath + " is missing (apt-get install -y chromium)"
		if os.Getenv("BANDSYNC_CI") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 1800),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	return ctx
}

// artifactDir is where screenshots go: $BANDSYNC_ARTIFACTS, else a
// temporary directory.
func artifactDir(t *testing.T) string {
	if d := os.Getenv("BANDSYNC_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// browserStore is the ledger the browser test shows: the one in
// $BANDSYNC_WEB_DATA_DIR (a demo's data directory) when set, else the
// seeded test ledger with fake band and Strava data.
func browserServer(t *testing.T) (*httptest.Server, store.WorkoutID, Store) {
	t.Helper()
	opt := Options{Band: fakeBand{}, Strava: newFakeStrava(), Feed: NewFeed(), Now: func() time.Time { return testNow }}
	var id store.WorkoutID
	if dir := os.Getenv("BANDSYNC_WEB_DATA_DIR"); dir != "" {
		s, err := store.OpenReadOnly(t.Context(), dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		opt.Store, opt.Now = s, nil
		done, _, err := s.Workouts(t.Context(), store.Filter{State: store.Done, Sink: StravaSink, Limit: 1, Order: store.NewestFirst})
		if err != nil || len(done) == 0 {
			t.Fatalf("no workout done on Strava in %s: %v", dir, err)
		}
		id = done[0].Workout.ID
	} else {
		s := seedStore(t)
		opt.Store, opt.Cache = s, s
		rec, err := s.LookupWorkout(t.Context(), "zepp", strconv.FormatInt(seeds[0].start.Unix(), 10))
		if err != nil {
			t.Fatal(err)
		}
		id = rec.ID
	}
	srv, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		srv.Close()
		hs.Close()
	})
	return hs, id, opt.Store
}

func TestBrowserDashboard(t *testing.T) {
	ctx := browser(t)
	hs, id, st := browserServer(t)

	// The overview shows the store's counts.
	if err := chromedp.Do(ctx, chromedp.Navigate(hs.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#sink-counts"))); err != nil {
		t.Fatal(err)
	}
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](
		`Object.fromEntries([...document.querySelectorAll("[data-count]")].map(e => [e.dataset.count, e.textContent.trim()]))`))
	if err != nil {
		t.Fatal(err)
	}
	counts, err := st.Counts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for sink, c := range counts {
		for _, s := range store.States {
			if got, want := shown[sink+":"+string(s)], strconv.Itoa(c.States[s]); got != want {
				t.Errorf("overview %s:%s = %q, store says %s", sink, s, got, want)
			}
		}
		if got := shown[sink+":total"]; got != strconv.Itoa(c.Total()) {
			t.Errorf("overview %s total = %q, store says %d", sink, got, c.Total())
		}
	}

	// A workout's charts draw both series.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(fmt.Sprintf("%s/workouts/%d", hs.URL, id)),
		chromedp.WaitVisible(chromedp.CSS("#charts[data-rendered] .uplot canvas")),
	); err != nil {
		t.Fatal(err)
	}
	type chart struct {
		Key     string   `json:"key"`
		Labels  []string `json:"labels"`
		Painted bool     `json:"painted"`
	}
	charts, err := chromedp.Run(ctx, chromedp.Evaluate[[]chart](`[...document.querySelectorAll("#charts .chart")].map(box => {
		const c = box.querySelector("canvas");
		const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
		let painted = false;
		for (let i = 3; i < px.length; i += 4) { if (px[i] !== 0) { painted = true; break; } }
		return {key: box.dataset.key, painted,
			labels: [...box.querySelectorAll(".u-legend .u-series .u-label")].map(l => l.textContent.trim())};
	})`))
	if err != nil {
		t.Fatal(err)
	}
	if len(charts) == 0 {
		t.Fatal("no charts on the workout page")
	}
	for _, c := range charts {
		if !c.Painted {
			t.Errorf("chart %s: empty canvas", c.Key)
		}
		joined := strings.Join(c.Labels, ",")
		if !strings.Contains(joined, "band") || !strings.Contains(joined, "Strava") || strings.Contains(joined, "no data") {
			t.Errorf("chart %s legend %v, want band and Strava", c.Key, c.Labels)
		}
	}
	if os.Getenv("BANDSYNC_WEB_DATA_DIR") == "" {
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#map[data-rendered="1"] canvas`))); err != nil {
			t.Errorf("map: %v", err)
		}
	}

	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(artifactDir(t), "dashboard-workout.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}
