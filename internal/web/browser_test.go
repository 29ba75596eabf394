package web

import (
	"fmt"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bandsync/bandsync/internal/store"
	"github.com/bandsync/bandsync/internal/web/webtest"
)

// browserServer serves the ledger the browser test shows: the one in
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
	ctx := webtest.Browser(t)
	hs, id, st := browserServer(t)

	// The overview shows the store's counts.
	shown, err := webtest.OverviewCounts(ctx, hs.URL+"/")
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
	if err := webtest.CheckCharts(ctx, fmt.Sprintf("%s/workouts/%d", hs.URL, id)); err != nil {
		t.Fatal(err)
	}
	if os.Getenv("BANDSYNC_WEB_DATA_DIR") == "" {
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#map[data-rendered="1"] canvas`))); err != nil {
			t.Errorf("map: %v", err)
		}
	}
	webtest.Screenshot(ctx, t, "dashboard-workout.png")
}
