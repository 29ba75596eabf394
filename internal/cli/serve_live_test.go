package cli

import (
	"bufio"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bandsync/bandsync/internal/progress"
)

// The dashboard shows a sync that runs in another process live: it
// follows the data dir's progress log. Here the demo's own run is there
// when the page opens, then a run "elsewhere" (a Log on the same file)
// comes through the page's event stream as it happens.
func TestServeFollowsAnotherProcessesSync(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo")
	}
	dir := t.TempDir()
	ctx := t.Context()
	url := startDemoServe(t, dir, &DemoOptions{Workouts: 20, Seed: 5, ProcessingDelay: time.Millisecond})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"events", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	await := func(what string) {
		t.Helper()
		timeout := time.After(20 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("event stream ended before %q", what)
				}
				if strings.Contains(l, what) {
					return
				}
			case <-timeout:
				t.Fatalf("no %q on the event stream", what)
			}
		}
	}
	// The demo's run, from the log.
	await(`"phase":"uploading","done":20,"total":20`)

	// A run in "another process".
	log := progress.OpenLog(filepath.Join(dir, progress.LogName))
	defer log.Close()
	tr := progress.NewTracker(log)
	tr.Start(progress.Listing, -1)
	tr.End(progress.Listing)
	tr.Start(progress.Uploading, 2)
	tr.Done(progress.Uploading, "2026-11-26 07:00 run", "on strava as 1")
	log.Flush()
	await(`"workout":"2026-11-26 07:00 run"`)
}
