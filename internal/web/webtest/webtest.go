// Package webtest drives the dashboard in headless Chromium for tests: it
// starts the browser (or skips the test when Chromium is missing, failing
// under BANDSYNC_CI=1), reads the overview's counts, checks that every
// chart drew both the band's and Strava's series, and saves screenshots.
package webtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian's chromium package puts the browser.
const ChromiumPath = "/usr/bin/chromium"

// Browser starts headless Chromium for t, or skips t when it is not
// installed (fails under BANDSYNC_CI=1, where it must be).
func Browser(t testing.TB) context.Context {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		msg := "BROWSER TEST NOT RUN: " + ChromiumPath + " is missing (apt-get install -y chromium)"
		if os.Getenv("BANDSYNC_CI") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(ChromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 1800),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	return ctx
}

// OverviewCounts opens the overview at url and returns its counts by
// "sink:state" (and "sink:total").
func OverviewCounts(ctx context.Context, url string) (map[string]string, error) {
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("#sink-counts"))); err != nil {
		return nil, err
	}
	return chromedp.Run(ctx, chromedp.Evaluate[map[string]string](
		`Object.fromEntries([...document.querySelectorAll("[data-count]")].map(e => [e.dataset.count, e.textContent.trim()]))`))
}

// CheckCharts opens a workout page at url, waits until its charts are drawn
// and reports every chart whose canvas is empty or whose legend lacks the
// band or Strava.
func CheckCharts(ctx context.Context, url string) error {
	if err := chromedp.Do(ctx, chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.CSS("#charts[data-rendered] .uplot canvas"))); err != nil {
		return err
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
		return err
	}
	if len(charts) == 0 {
		return fmt.Errorf("no charts on %s", url)
	}
	var bad []string
	for _, c := range charts {
		labels := strings.Join(c.Labels, ",")
		if !c.Painted || !strings.Contains(labels, "band") || !strings.Contains(labels, "Strava") || strings.Contains(labels, "no data") {
			bad = append(bad, fmt.Sprintf("chart %s: painted %v, legend %v", c.Key, c.Painted, c.Labels))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("want both band and Strava drawn: %s", strings.Join(bad, "; "))
	}
	return nil
}

// Screenshot saves the page as name in $BANDSYNC_ARTIFACTS (else a
// temporary folder) and returns the path.
func Screenshot(ctx context.Context, t testing.TB, name string) string {
	t.Helper()
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("BANDSYNC_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	return path
}
