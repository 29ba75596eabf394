package web

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/store"
	"github.com/bandsync/bandsync/internal/workout"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// testNow is the dashboard's and the store's fixed clock.
var testNow = time.Date(2026, 2, 10, 12, 0, 0, 0, time.UTC)

// secretToken is what the fake Strava holds as its access token; no page
// may show it.
const secretToken = "sekrit-strava-access-token-4f1d2c"

// seedWorkout is one workout of the test ledger and how its deliveries stand.
type seedWorkout struct {
	start  time.Time
	sport  workout.Sport
	strava func(ctx context.Context, s *store.Store, id store.WorkoutID, key string) error
	// archived marks the archive delivery done.
	archived bool
}

func done(activity string) func(context.Context, *store.Store, store.WorkoutID, string) error {
	return func(ctx context.Context, s *store.Store, id store.WorkoutID, _ string) error {
		return s.MarkDone(ctx, id, StravaSink, activity)
	}
}

var seeds = []seedWorkout{
	{time.Date(2025, 11, 3, 7, 0, 0, 0, time.UTC), workout.SportRun, done("1001"), true},
	{time.Date(2025, 11, 20, 17, 30, 0, 0, time.UTC), workout.SportRide, func(ctx context.Context, s *store.Store, id store.WorkoutID, _ string) error {
		return s.MarkDuplicate(ctx, id, StravaSink, "1002", "start-time")
	}, true},
	{time.Date(2025, 12, 5, 9, 0, 0, 0, time.UTC), workout.SportWalk, func(ctx context.Context, s *store.Store, id store.WorkoutID, _ string) error {
		return s.MarkFailed(ctx, id, StravaSink, errclass.Permanent, "strava rejected the file: empty track", time.Time{})
	}, true},
	{time.Date(2026, 1, 10, 6, 45, 0, 0, time.UTC), workout.SportRun, func(ctx context.Context, s *store.Store, id store.WorkoutID, _ string) error {
		return s.MarkSkipped(ctx, id, StravaSink, "shorter than a minute")
	}, true},
	{time.Date(2026, 1, 15, 18, 0, 0, 0, time.UTC), workout.SportPoolSwim, nil, false},
	{time.Date(2026, 2, 1, 8, 0, 0, 0, time.UTC), workout.SportRun, func(ctx context.Context, s *store.Store, id store.WorkoutID, key string) error {
		return s.MarkUploading(ctx, id, StravaSink, key, "")
	}, true},
	{time.Date(2026, 2, 2, 19, 0, 0, 0, time.UTC), workout.SportStrength, done("1003"), false},
	// 23:30 UTC on New Year's Eve is 01:30 on New Year's Day where it was
	// recorded: it belongs to January 2025.
	{time.Date(2024, 12, 31, 23, 30, 0, 0, time.UTC), workout.SportTrailRun, done("1004"), true},
}

func refOf(i int, sw seedWorkout) store.Ref {
	return store.Ref{
		Source: "zepp", SourceID: strconv.FormatInt(sw.start.Unix(), 10), Start: sw.start,
		Zone: workout.Zone{Offset: 2 * time.Hour, Known: true}, Sport: sw.sport,
		Fingerprint: fmt.Sprintf("fp-%d", i),
		Summary: workout.Summary{Distance: 5000 + 250*float64(i), Elapsed: 40 * time.Minute, Moving: 36 * time.Minute,
			Calories: 400, AvgHR: 148},
	}
}

// seedStore builds the test ledger in a fresh data directory.
func seedStore(t testing.TB) *store.Store {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, t.TempDir(), store.WithClock(func() time.Time { return testNow }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	refs := make([]store.Ref, len(seeds))
	for i, sw := range seeds {
		refs[i] = refOf(i, sw)
	}
	ups, err := s.UpsertWorkouts(ctx, refs, StravaSink, "archive")
	if err != nil {
		t.Fatal(err)
	}
	for i, sw := range seeds {
		if sw.strava != nil {
			if err := sw.strava(ctx, s, ups[i].ID, refs[i].Key()); err != nil {
				t.Fatalf("seed %d: %v", i, err)
			}
		}
		if sw.archived {
			if err := s.MarkDone(ctx, ups[i].ID, "archive", "2025/"+refs[i].Key()+".fit"); err != nil {
				t.Fatalf("seed %d: %v", i, err)
			}
		}
	}
	if err := s.AddCoverage(ctx, "zepp", time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), testNow.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]time.Time{
		store.MetaRateLimitOpens(StravaSink): testNow.Add(8 * time.Minute),
		store.MetaLastWatch:                  testNow.Add(-5 * time.Minute),
		store.MetaNextWatch:                  testNow.Add(10 * time.Minute),
	} {
		if err := s.SetMetaTime(ctx, k, v); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// fakeBand records every workout as a steady effort with one pause.
type fakeBand struct{}

func (fakeBand) Workout(_ context.Context, rec store.Record) (*workout.Workout, error) {
	return synthWorkout(rec.Start, rec.Sport, rec.Source, rec.SourceID), nil
}

// synthWorkout is a 40-minute workout, a sample every 5 s, paused from
// minute 12 to 15; pace, heart rate, altitude and cadence vary smoothly.
func synthWorkout(start time.Time, sport workout.Sport, source, id string) *workout.Workout {
	w := &workout.Workout{
		Start: start, Zone: workout.Zone{Offset: 2 * time.Hour, Known: true}, Sport: sport,
		Device: workout.Device{Maker: "Xiaomi", Model: "Mi Band 6"},
		Origin: workout.Origin{Source: source, ID: id},
		Pauses: []workout.Interval{{Start: start.Add(12 * time.Minute), End: start.Add(15 * time.Minute)}},
	}
	dist := 0.0
	for t := time.Duration(0); t <= 40*time.Minute; t += 5 * time.Second {
		at := start.Add(t)
		if w.Paused(at) {
			continue
		}
		m := t.Minutes()
		var s workout.Sample
		s.Time = at
		if t > 0 {
			dist += 14 + 2*float64(int(m)%5)/4
		}
		s.SetDistance(dist)
		s.SetHeartRate(uint8(125 + int(m) + int(m)%3))
		s.SetCadence(160 + float64(int(m)%4))
		s.SetAltitude(600 + 10*float64(int(m)%8))
		s.SetPosition(41.39+dist/111000, 2.17+float64(int(m)%6)/2000)
		w.Samples = append(w.Samples, s)
	}
	w.Summary = workout.Summary{Elapsed: 40 * time.Minute, Moving: 37 * time.Minute, Distance: dist, AvgHR: 146, Calories: 410}
	return w
}

// fakeStrava answers with streams made from the band's workout as Strava
// would: a few beats higher, per-leg cadence, its own moving time, Zepp's
// device name. It counts calls, and its errors would leak its token if a
// page showed them.
type fakeStrava struct {
	mu    sync.Mutex
	calls map[string]int
	token string
	// failFor lists activities whose fetch fails with an error that
	// carries the token.
	failFor map[string]bool
}

func newFakeStrava() *fakeStrava { return &fakeStrava{calls: map[string]int{}, token: secretToken} }

func (f *fakeStrava) Streams(_ context.Context, activityID string) (Streams, error) {
	f.mu.Lock()
	f.calls[activityID]++
	fail := f.failFor[activityID]
	f.mu.Unlock()
	if fail {
		return Streams{}, errors.New("GET /activities/" + activityID + "/streams with Authorization: Bearer " + f.token + ": 500")
	}
	var start time.Time
	var sport workout.Sport
	for _, sw := range seeds {
		if a := stravaActivityOf(sw); a == activityID {
			start, sport = sw.start, sw.sport
		}
	}
	if start.IsZero() {
		return Streams{}, errors.New("GET /activities/" + activityID + "/streams with Authorization: Bearer " + f.token + ": 404")
	}
	w := synthWorkout(start, sport, "zepp", "x")
	var s Streams
	for _, smp := range w.Samples {
		s.Time = append(s.Time, smp.Time.Sub(start).Seconds())
		s.HeartRate = append(s.HeartRate, float64(smp.HeartRate)+3)
		s.Cadence = append(s.Cadence, smp.Cadence/2)
		s.Altitude = append(s.Altitude, smp.Altitude+4)
		s.Distance = append(s.Distance, smp.Distance*1.01)
		s.Velocity = append(s.Velocity, 3.1)
		s.LatLng = append(s.LatLng, [2]float64{smp.Lat + 0.00005, smp.Lon})
		s.Moving = append(s.Moving, true)
	}
	st, _ := sport.Strava()
	s.Activity = Activity{ID: activityID, Name: "Morning " + st, SportType: st, DeviceName: "Huami Amazfit Pace",
		Start: start, Elapsed: 40 * time.Minute, Moving: 37 * time.Minute,
		Distance: w.Distance() * 1.01, Calories: 380, AvgHR: 150}
	return s, nil
}

func (f *fakeStrava) count(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[id]
}

// stravaActivityOf is the activity ID a seed is on Strava as, or "".
func stravaActivityOf(sw seedWorkout) string {
	switch sw.start {
	case seeds[0].start:
		return "1001"
	case seeds[1].start:
		return "1002"
	case seeds[6].start:
		return "1003"
	case seeds[7].start:
		return "1004"
	}
	return ""
}

// memCache is a Cache in memory, counting writes.
type memCache struct {
	mu   sync.Mutex
	m    map[string][]byte
	puts int
}

func (c *memCache) Streams(_ context.Context, sink, id string) ([]byte, time.Time, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.m[sink+"/"+id]
	if !ok {
		return nil, time.Time{}, store.ErrNotFound
	}
	return b, testNow, nil
}

func (c *memCache) PutStreams(_ context.Context, sink, id string, data []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string][]byte{}
	}
	c.m[sink+"/"+id] = data
	c.puts++
	return nil
}

// env is a dashboard over the seeded ledger.
type env struct {
	store  *store.Store
	strava *fakeStrava
	srv    *Server
	http   *httptest.Server
	synced chan struct{}
}

func newEnv(t *testing.T, mod func(*Options)) *env {
	t.Helper()
	e := &env{store: seedStore(t), strava: newFakeStrava(), synced: make(chan struct{}, 1)}
	opt := Options{
		Store: e.store, Cache: e.store, Band: fakeBand{}, Strava: e.strava, Feed: NewFeed(),
		SyncNow:     func(context.Context) error { e.synced <- struct{}{}; return nil },
		RetryFailed: func(ctx context.Context) (int, error) { return e.store.RetryFailed(ctx, "") },
		StravaURL:   "https://www.strava.com", Now: func() time.Time { return testNow },
	}
	if mod != nil {
		mod(&opt)
	}
	srv, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	e.http = httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		srv.Close()
		e.http.Close()
	})
	return e
}

// get fetches path and returns the status and body.
func (e *env) get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	resp, err := e.http.Client().Get(e.http.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// workoutID is the store ID of the i-th seed.
func (e *env) workoutID(t *testing.T, i int) store.WorkoutID {
	t.Helper()
	rec, err := e.store.LookupWorkout(context.Background(), "zepp", strconv.FormatInt(seeds[i].start.Unix(), 10))
	if err != nil {
		t.Fatal(err)
	}
	return rec.ID
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n%s", name, lineDiff(string(want), got))
	}
}

// lineDiff shows the first differing lines.
func lineDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d\nwant: %s\n got: %s", i+1, w, g)
		}
	}
	return ""
}
