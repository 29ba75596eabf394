package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bandsync/bandsync/internal/store"
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

// TestDemoDashboardInBrowser runs `bandsync demo --serve`, opens its
// dashboard in headless Chromium, checks the overview's numbers against
// `bandsync status --json`, opens a workout and waits until every chart
// shows the band's and Strava's series, and saves a screenshot.
func TestDemoDashboardInBrowser(t *testing.T) {
	const chromium = "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		msg := "BROWSER TEST NOT RUN: " + chromium + " is missing (apt-get install -y chromium)"
		if os.Getenv("BANDSYNC_CI") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if testing.Short() {
		t.Skip("runs the demo and a browser")
	}
	dir := t.TempDir()
	out := &syncBuffer{}
	f := &Factory{IO: IOStreams{In: strings.NewReader(""), Out: out, ErrOut: out}, Getenv: func(string) string { return "" }, Quiet: true, dataDir: dir}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- demoRun(ctx, f, &DemoOptions{IO: f.IO, Quiet: true, Workouts: 24, Seed: 3, Serve: true})
	}()
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
	var url string
	for deadline := time.Now().Add(2 * time.Minute); url == "" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if m := regexp.MustCompile(`Dashboard: (http://127\.0\.0\.1:[0-9]+/)`).FindStringSubmatch(out.String()); m != nil {
			url = m[1]
		}
		select {
		case err := <-done:
			t.Fatalf("the demo ended early: %v\n%s", err, out.String())
		default:
		}
	}
	if url == "" {
		t.Fatalf("no dashboard URL:\n%s", out.String())
	}

	// What `bandsync status --json` says.
	status, err := gatherStatus(ctx, demoDataFactory(dir))
	if err != nil {
		t.Fatal(err)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1200, 1800))
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	bctx, cancelT := context.WithTimeout(bctx, 90*time.Second)
	defer cancelT()

	if err := chromedp.Do(bctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("#sink-counts"))); err != nil {
		t.Fatal(err)
	}
	shown, err := chromedp.Run(bctx, chromedp.Evaluate[map[string]string](
		`Object.fromEntries([...document.querySelectorAll("[data-count]")].map(e => [e.dataset.count, e.textContent.trim()]))`))
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
	if err := chromedp.Do(bctx, chromedp.Navigate(url+"workouts?state=done&sink=strava"),
		chromedp.WaitVisible(chromedp.CSS(`a[href^="/workouts/"]`))); err != nil {
		t.Fatal(err)
	}
	href, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector('a[href^="/workouts/"]').getAttribute("href")`))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(bctx, chromedp.Navigate(strings.TrimSuffix(url, "/")+href),
		chromedp.WaitVisible(chromedp.CSS("#charts[data-rendered] .uplot canvas"))); err != nil {
		t.Fatal(err)
	}
	type chart struct {
		Key     string   `json:"key"`
		Labels  []string `json:"labels"`
		Painted bool     `json:"painted"`
	}
	charts, err := chromedp.Run(bctx, chromedp.Evaluate[[]chart](`[...document.querySelectorAll("#charts .chart")].map(box => {
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
		t.Fatal("no charts")
	}
	for _, c := range charts {
		labels := strings.Join(c.Labels, ",")
		if !c.Painted || !strings.Contains(labels, "band") || !strings.Contains(labels, "Strava") {
			t.Errorf("chart %s: painted %v, legend %v; want both band and Strava", c.Key, c.Painted, c.Labels)
		}
	}
	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	art := os.Getenv("BANDSYNC_ARTIFACTS")
	if art == "" {
		art = t.TempDir()
	}
	if err := os.MkdirAll(art, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(art, "demo-dashboard-workout.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// demoDataFactory is a Factory reading a demo's data dir, as `bandsync
// --data-dir DIR status --json` would.
func demoDataFactory(dir string) *Factory {
	return &Factory{IO: IOStreams{In: strings.NewReader("")}, Getenv: func(string) string { return "" }, dataDir: dir}
}
