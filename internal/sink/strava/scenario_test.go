package strava_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	emulator "github.com/bandsync/bandsync/internal/emulator/strava"
	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/sink"
	"github.com/bandsync/bandsync/internal/sink/strava"
	"github.com/bandsync/bandsync/internal/sink/strava/api"
	"github.com/bandsync/bandsync/internal/workout"
)

// TestBackfillRequestsPerUpload backfills 300 recent runs under Strava's
// default limits, waiting out each window as a --wait sync would, and
// checks the request count, that nothing broke the limit, and that every
// workout is on Strava exactly once.
func TestBackfillRequestsPerUpload(t *testing.T) {
	env := newEnv(t, emulator.Options{}, nil)
	const n = 300
	first := now.Add(-6 * 24 * time.Hour)
	ws := make([]*workout.Workout, n)
	for i := range ws {
		ws[i] = synth(workout.SportRun, first.Add(time.Duration(i)*25*time.Minute), fmt.Sprint(1700000000+i), true)
	}
	ctx := t.Context()
	if err := env.Sink.Prefetch(ctx, sink.Window{After: first.Add(-time.Hour), Before: now}); err != nil {
		t.Fatal(err)
	}
	var pending []sink.Pending
	waits := 0
	for _, w := range ws {
		for {
			sent := env.Clock.Now()
			res, err := env.Sink.Put(ctx, w, w.Origin.Key())
			if errclass.ClassOf(err) == errclass.RateLimited {
				until := errclass.UntilOf(err)
				if !until.After(env.Clock.Now()) || until.Sub(env.Clock.Now()) > 15*time.Minute {
					t.Fatalf("limited until %v at %v", until, env.Clock.Now())
				}
				env.Clock.Set(until)
				waits++
				continue
			}
			if err != nil {
				t.Fatalf("Put: %v", err)
			}
			if res.Outcome != sink.Accepted {
				t.Fatalf("Put = %+v", res)
			}
			pending = append(pending, sink.Pending{Key: w.Origin.Key(), UploadID: res.UploadID, Start: w.Start, Sent: sent})
			env.Clock.Advance(time.Second)
			break
		}
	}
	if waits == 0 {
		t.Error("300 uploads fit in one quarter hour: the budget did not stop at 200")
	}
	env.Clock.Advance(5 * time.Second)
	cs, err := env.Sink.Confirm(ctx, pending)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Err != nil || c.Result.Outcome != sink.Created {
			t.Fatalf("%s: %+v", c.Pending.Key, c)
		}
	}
	counts := byKey(env)
	for _, w := range ws {
		if c := counts[strava.ExternalID(w.Origin.Key())]; c != 1 {
			t.Errorf("%s is on Strava %d times", w.Origin.Key(), c)
		}
	}
	if got := len(env.Emulator.Activities()); got != n {
		t.Errorf("%d activities, want %d", got, n)
	}
	reqs := env.Emulator.APIRequests()
	t.Logf("%d API requests for %d uploads (%.3f each), %d waits; %v", reqs, n, float64(reqs)/n, waits, env.Emulator.Counts())
	if float64(reqs) > 1.02*n {
		t.Errorf("%d API requests for %d uploads, want ≤ %.0f", reqs, n, 1.02*n)
	}
	if env.Emulator.Count(emulator.RouteUpload) != n || env.Emulator.Count(emulator.RouteUpdate) != 0 {
		t.Errorf("counts %v: want %d uploads and no PUT", env.Emulator.Counts(), n)
	}
	if r := env.Emulator.Rejected(); r != 0 {
		t.Errorf("%d requests broke the rate limit", r)
	}
}

// TestLostUploadResponse: the upload is made but its answer is lost. Put
// says the outcome is unknown; the listing finds it; a second Put does not
// POST again.
func TestLostUploadResponse(t *testing.T) {
	env := newEnv(t, emulator.Options{}, nil)
	w := synth(workout.SportRun, now.Add(-2*time.Hour), "lost", true)
	key := w.Origin.Key()
	env.Emulator.Inject(emulator.RouteUpload, emulator.FaultLoseResponse)
	sent := env.Clock.Now()
	_, err := env.Sink.Put(t.Context(), w, key)
	if !errors.Is(err, strava.ErrOutcomeUnknown) {
		t.Fatalf("Put with a lost answer: %v, want ErrOutcomeUnknown", err)
	}
	wantClass(t, err, errclass.Retryable)
	if !strings.Contains(err.Error(), "outcome unknown") {
		t.Errorf("error %q does not say the outcome is unknown", err)
	}
	env.Clock.Advance(2 * time.Second)

	// Confirm finds it by external_id though it has no upload ID.
	cs, err := env.Sink.Confirm(t.Context(), []sink.Pending{{Key: key, Start: w.Start, Sent: sent}})
	if err != nil || cs[0].Result.Outcome != sink.Created {
		t.Fatalf("Confirm = %+v, %v; want Created", cs, err)
	}
	acts, err := env.Sink.List(t.Context(), sink.Window{After: w.Start.Add(-time.Minute), Before: w.Start.Add(time.Minute)})
	if err != nil || len(acts) != 1 || acts[0].ExternalID != key || acts[0].ID != cs[0].Result.ActivityID {
		t.Fatalf("List = %+v, %v", acts, err)
	}
	res, err := env.Sink.Put(t.Context(), w, key)
	if err != nil || res.Outcome != sink.Duplicate || res.ActivityID != acts[0].ID || res.MatchedBy != "external_id" {
		t.Fatalf("second Put = %+v, %v; want Duplicate by external_id", res, err)
	}
	if c := env.Emulator.Count(emulator.RouteUpload); c != 1 {
		t.Errorf("%d upload POSTs, want 1", c)
	}
	if n := len(env.Emulator.Activities()); n != 1 {
		t.Errorf("%d activities, want 1", n)
	}
}

// TestLostUploadRetryPutLists: a Put repeated after a lost answer lists
// before posting, in the same process.
func TestLostUploadRetryPutLists(t *testing.T) {
	env := newEnv(t, emulator.Options{}, nil)
	w := synth(workout.SportRun, now.Add(-2*time.Hour), "lost2", true)
	env.Emulator.Inject(emulator.RouteUpload, emulator.FaultReset)
	if _, err := env.Sink.Put(t.Context(), w, w.Origin.Key()); !errors.Is(err, strava.ErrOutcomeUnknown) {
		t.Fatalf("Put with a reset: %v", err)
	}
	// The reset came before the upload was made: the retry lists, finds
	// nothing and uploads.
	lists := env.Emulator.Count(emulator.RouteActivities)
	p := putAccepted(t, env, w)
	if env.Emulator.Count(emulator.RouteActivities) != lists+1 {
		t.Error("the Put after an unknown outcome did not list first")
	}
	confirmOne(t, env, p)
}

func TestDuplicateError(t *testing.T) {
	for _, c := range []struct {
		name      string
		atPost    bool
		html      bool
		wantCount int // requests beyond the POST to learn the ID
	}{
		{"post/text", true, false, 0},
		{"post/html", true, true, 0},
		// One listing (a page and the empty page after it) and one poll.
		{"processing/text", false, false, 3},
		{"processing/html", false, true, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := newEnv(t, emulator.Options{DuplicatesAtPost: c.atPost, DuplicateHTML: c.html},
				func(o *strava.Options) { o.ZeppLink = strava.ZeppLinkKeepBoth })
			w := synth(workout.SportRun, now.Add(-3*time.Hour), "dup", true)
			other := env.Emulator.Add(emulator.Seed{Workout: w, Name: "Morning <Run>", DeviceName: "Garmin Forerunner 255"})
			res, err := env.Sink.Put(t.Context(), w, w.Origin.Key())
			if err != nil {
				t.Fatal(err)
			}
			if c.atPost {
				if res.Outcome != sink.Duplicate || res.ActivityID != api.FormatID(other) || res.MatchedBy != "duplicate-error" {
					t.Fatalf("Put = %+v, want Duplicate of %d", res, other)
				}
				return
			}
			if res.Outcome != sink.Accepted {
				t.Fatalf("Put = %+v, want Accepted", res)
			}
			env.Clock.Advance(15 * time.Second)
			before := env.Emulator.APIRequests()
			cs, err := env.Sink.Confirm(t.Context(), []sink.Pending{{Key: w.Origin.Key(), UploadID: res.UploadID, Start: w.Start, Sent: now}})
			if err != nil {
				t.Fatal(err)
			}
			got := cs[0]
			if got.Err != nil || got.Result.Outcome != sink.Duplicate || got.Result.ActivityID != api.FormatID(other) {
				t.Fatalf("Confirm = %+v, want Duplicate of %d", got, other)
			}
			if n := env.Emulator.APIRequests() - before; n != c.wantCount {
				t.Errorf("Confirm took %d requests, want %d", n, c.wantCount)
			}
			if n := len(env.Emulator.Activities()); n != 1 {
				t.Errorf("%d activities, want 1", n)
			}
		})
	}
}

func TestZeppLinkCoexistence(t *testing.T) {
	w := synth(workout.SportRun, now.Add(-26*time.Hour), "1698569116", true)
	// Zepp's link posts the same workout a little differently: start 40 s
	// later, elapsed a minute shorter.
	zepp := *w
	zepp.Start = w.Start.Add(40 * time.Second)
	zepp.Summary.Elapsed -= time.Minute

	t.Run("skip", func(t *testing.T) {
		env := newEnv(t, emulator.Options{}, nil)
		id := env.Emulator.AddZeppLink(&zepp)
		res, err := env.Sink.Put(t.Context(), w, w.Origin.Key())
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != sink.Duplicate || res.ActivityID != api.FormatID(id) || res.MatchedBy != "start-time" {
			t.Fatalf("Put = %+v, want Duplicate of %d by start-time", res, id)
		}
		if env.Emulator.Count(emulator.RouteUpload) != 0 {
			t.Error("uploaded a workout Zepp's link already posted")
		}
		// An unrelated workout an hour later is not taken for it.
		later := synth(workout.SportRun, w.Start.Add(time.Hour), "1698572716", true)
		putAccepted(t, env, later)
		// Nor is a ride at the same time.
		ride := synth(workout.SportRide, w.Start, "ride", true)
		if res, err := env.Sink.Put(t.Context(), ride, ride.Origin.Key()); err != nil || res.Outcome == sink.Duplicate {
			t.Errorf("a ride at the run's start: %+v, %v", res, err)
		}
	})
	t.Run("keep-both", func(t *testing.T) {
		env := newEnv(t, emulator.Options{}, func(o *strava.Options) { o.ZeppLink = strava.ZeppLinkKeepBoth })
		env.Emulator.AddZeppLink(&zepp)
		p := putAccepted(t, env, w)
		a := confirmOne(t, env, p)
		if a.DeviceName == emulator.ZeppLinkDevice {
			t.Errorf("bandsync's upload shows Zepp's link device %q", a.DeviceName)
		}
		if n := len(env.Emulator.Activities()); n != 2 {
			t.Errorf("%d activities, want Zepp's and bandsync's", n)
		}
	})
}

func TestFixups(t *testing.T) {
	recent := now.Add(-24 * time.Hour)
	for _, c := range []struct {
		name       string
		sport      workout.Sport
		gps        bool
		start      time.Time
		opt        func(*strava.Options)
		honour     bool
		wantSport  api.SportType
		wantPUT    bool
		wantHidden bool
	}{
		{"recent run", workout.SportRun, true, recent, nil, false, "Run", false, false},
		{"treadmill", workout.SportTreadmill, false, recent, nil, false, "Run", false, false},
		{"indoor ride as Ride", workout.SportIndoorRide, false, recent, nil, false, "Ride", false, false},
		{"indoor ride as VirtualRide", workout.SportIndoorRide, false, recent,
			func(o *strava.Options) { o.IndoorRide = "VirtualRide" }, false, "VirtualRide", true, false},
		{"VirtualRide honoured at upload", workout.SportIndoorRide, false, recent,
			func(o *strava.Options) { o.IndoorRide = "VirtualRide" }, true, "VirtualRide", false, false},
		{"walk", workout.SportWalk, true, recent, nil, false, "Walk", false, false},
		{"pool swim", workout.SportPoolSwim, false, recent, nil, false, "Swim", false, false},
		{"trail run", workout.SportTrailRun, true, recent, nil, false, "TrailRun", true, false},
		{"rowing machine", workout.SportIndoorRowing, false, recent, nil, false, "Rowing", false, false},
		{"pilates", workout.SportPilates, false, recent, nil, false, "Pilates", true, false},
		{"old run muted", workout.SportRun, true, now.Add(-30 * 24 * time.Hour), nil, false, "Run", true, true},
		{"old run, mute off", workout.SportRun, true, now.Add(-30 * 24 * time.Hour),
			func(o *strava.Options) { o.BackfillMute = false }, false, "Run", false, false},
		{"gear", workout.SportRun, true, recent, func(o *strava.Options) { o.GearID = "g12345" }, false, "Run", true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := newEnv(t, emulator.Options{HonourUploadSportType: c.honour}, c.opt)
			w := synth(c.sport, c.start, "fix", c.gps)
			a := confirmOne(t, env, putAccepted(t, env, w))
			puts := env.Emulator.Count(emulator.RouteUpdate)
			if (puts > 0) != c.wantPUT || puts > 1 {
				t.Errorf("%d PUTs, want PUT=%v (at most one)", puts, c.wantPUT)
			}
			if a.SportType != c.wantSport {
				t.Errorf("sport_type %q, want %q", a.SportType, c.wantSport)
			}
			if _, trainer := c.sport.Strava(); trainer && !a.Trainer && a.SportType != "VirtualRide" {
				t.Error("indoor workout not marked trainer")
			}
			if a.HideFromHome != c.wantHidden {
				t.Errorf("hide_from_home %v, want %v", a.HideFromHome, c.wantHidden)
			}
			if env.Options.GearID != "" && a.Gear() != env.Options.GearID {
				t.Errorf("gear %q, want %q", a.Gear(), env.Options.GearID)
			}
		})
	}
}

// TestResumedConfirmFixesWhatItRemembers: a later process that Confirms
// uploads from an earlier run fixes them only when told the workout.
func TestResumedConfirm(t *testing.T) {
	env := newEnv(t, emulator.Options{}, func(o *strava.Options) { o.IndoorRide = "VirtualRide" })
	w := synth(workout.SportIndoorRide, now.Add(-time.Hour), "resume", false)
	p := putAccepted(t, env, w)
	fresh, err := strava.New(env.Options)
	if err != nil {
		t.Fatal(err)
	}
	fresh.Remember(p.Key, w)
	env.Clock.Advance(2 * time.Second)
	cs, err := fresh.Confirm(t.Context(), []sink.Pending{p})
	if err != nil || cs[0].Result.Outcome != sink.Created {
		t.Fatalf("Confirm = %+v, %v", cs, err)
	}
	id, _ := api.ParseID(cs[0].Result.ActivityID)
	if a, _ := env.Emulator.Activity(id); a.SportType != "VirtualRide" {
		t.Errorf("sport_type %q after a resumed Confirm, want VirtualRide", a.SportType)
	}
}

// TestStragglerPolledOnce: an upload the listing does not show is polled
// only after the processing time, and at most once a second.
func TestStragglerPolling(t *testing.T) {
	env := newEnv(t, emulator.Options{ProcessingDelay: -1}, nil)
	var ps []sink.Pending
	for i := range 3 {
		ps = append(ps, putAccepted(t, env, synth(workout.SportRun, now.Add(-time.Duration(i+1)*time.Hour), fmt.Sprint("s", i), true)))
	}
	cs, err := env.Sink.Confirm(t.Context(), ps)
	if err != nil {
		t.Fatal(err)
	}
	if env.Emulator.Count(emulator.RouteUploadStatus) != 0 {
		t.Error("polled before the processing time")
	}
	for _, c := range cs {
		if c.Result.Outcome != sink.Accepted {
			t.Errorf("%+v, want still Accepted", c)
		}
	}
	env.Clock.Advance(20 * time.Second)
	start := env.Clock.Now()
	if _, err := env.Sink.Confirm(t.Context(), ps); err != nil {
		t.Fatal(err)
	}
	if n := env.Emulator.Count(emulator.RouteUploadStatus); n != 3 {
		t.Errorf("%d polls, want one per straggler", n)
	}
	if d := env.Clock.Now().Sub(start); d < 2*time.Second {
		t.Errorf("3 polls within %v: faster than once a second", d)
	}
}

func TestBadFileIsPermanent(t *testing.T) {
	env := newEnv(t, emulator.Options{}, nil)
	// Put always sends a sound file, so post a broken one as another
	// client would, and confirm it.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("data_type", "fit.gz")
	_ = mw.WriteField("external_id", "zepp-broken.fit")
	part, _ := mw.CreateFormFile("file", "zepp-broken.fit.gz")
	_, _ = part.Write([]byte("not gzip at all"))
	_ = mw.Close()
	resp, err := env.Client.Post(env.Server.URL+"/api/v3/uploads", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	var up api.Upload
	err = json.NewDecoder(resp.Body).Decode(&up)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %v, %v", resp.Status, err)
	}
	env.Clock.Advance(15 * time.Second)
	p := sink.Pending{Key: "zepp-broken", UploadID: up.IDStr, Start: now.Add(-time.Hour), Sent: now}
	cs, err := env.Sink.Confirm(t.Context(), []sink.Pending{p})
	if err != nil {
		t.Fatal(err)
	}
	if cs[0].Err == nil || errclass.ClassOf(cs[0].Err) != errclass.Permanent || !strings.Contains(cs[0].Err.Error(), "malformed") {
		t.Errorf("Confirm of a broken file = %+v, want a permanent error saying it is malformed", cs[0])
	}
}

func TestRateLimits(t *testing.T) {
	t.Run("quarter", func(t *testing.T) {
		env := newEnv(t, emulator.Options{}, nil)
		env.Emulator.SetUsage(api.Pair{Quarter: 189, Day: 500}, api.Pair{Quarter: 10, Day: 100})
		w := synth(workout.SportRun, now.Add(-time.Hour), "q", true)
		_, err := env.Sink.Put(t.Context(), w, w.Origin.Key())
		wantLimitedUntil(t, err, time.Date(2026, 5, 20, 14, 45, 0, 0, time.UTC))
		if env.Emulator.Count(emulator.RouteUpload) != 0 || env.Emulator.Rejected() != 0 {
			t.Errorf("counts %v, %d rejected: a request went beyond the budget", env.Emulator.Counts(), env.Emulator.Rejected())
		}
		// Reads still have the reserve.
		if _, err := env.Sink.List(t.Context(), sink.Window{After: now.Add(-time.Hour)}); err != nil {
			t.Errorf("List within the read reserve: %v", err)
		}
		env.Clock.Set(errclass.UntilOf(err))
		putAccepted(t, env, w)
	})
	t.Run("daily", func(t *testing.T) {
		env := newEnv(t, emulator.Options{}, nil)
		env.Emulator.SetUsage(api.Pair{Quarter: 5, Day: 1899}, api.Pair{Quarter: 5, Day: 100})
		w := synth(workout.SportRun, now.Add(-time.Hour), "d", true)
		_, err := env.Sink.Put(t.Context(), w, w.Origin.Key())
		wantLimitedUntil(t, err, time.Date(2026, 5, 21, 0, 0, 0, 0, time.UTC))
		if !strings.Contains(err.Error(), "00:00") {
			t.Errorf("error %q does not say when it resumes", err)
		}
	})
	t.Run("read", func(t *testing.T) {
		env := newEnv(t, emulator.Options{}, nil)
		env.Emulator.SetUsage(api.Pair{Quarter: 98, Day: 500}, api.Pair{Quarter: 98, Day: 500})
		win := sink.Window{After: now.Add(-time.Hour)}
		for range 2 {
			if _, err := env.Sink.List(t.Context(), win); err != nil {
				t.Fatalf("List within the read limit: %v", err)
			}
		}
		before := env.Emulator.APIRequests()
		_, err := env.Sink.List(t.Context(), win)
		wantLimitedUntil(t, err, time.Date(2026, 5, 20, 14, 45, 0, 0, time.UTC))
		if env.Emulator.APIRequests() != before || env.Emulator.Rejected() != 0 {
			t.Error("a read went beyond the read limit")
		}
		// Uploads do not count as reads.
		putAccepted(t, env, synth(workout.SportRun, now.Add(-30*time.Minute), "r", true))
	})
	t.Run("429", func(t *testing.T) {
		env := newEnv(t, emulator.Options{}, nil)
		env.Emulator.Inject(emulator.AnyAPIRoute, emulator.FaultRateLimited)
		_, err := env.Sink.List(t.Context(), sink.Window{After: now.Add(-time.Hour)})
		wantLimitedUntil(t, err, time.Date(2026, 5, 20, 14, 45, 0, 0, time.UTC))
		// The sink now holds off until the window opens.
		before := env.Emulator.APIRequests()
		if _, err := env.Sink.List(t.Context(), sink.Window{After: now.Add(-time.Hour)}); errclass.ClassOf(err) != errclass.RateLimited {
			t.Errorf("List after a 429 in the same window: %v", err)
		}
		if env.Emulator.APIRequests() != before {
			t.Error("sent a request in a window Strava said was spent")
		}
		env.Clock.Set(time.Date(2026, 5, 20, 14, 45, 0, 0, time.UTC))
		if _, err := env.Sink.List(t.Context(), sink.Window{After: now.Add(-time.Hour)}); err != nil {
			t.Errorf("List in the next window: %v", err)
		}
	})
}

func TestAuthErrors(t *testing.T) {
	env := newEnv(t, emulator.Options{}, nil)
	env.Emulator.Revoke()
	w := synth(workout.SportRun, now.Add(-time.Hour), "auth", true)
	_, err := env.Sink.Put(t.Context(), w, w.Origin.Key())
	wantClass(t, err, errclass.ReAuth)
	if !errors.Is(err, errclass.ErrReAuth) || errclass.HintOf(err) != strava.ReAuthHint {
		t.Errorf("hint %q, want %q", errclass.HintOf(err), strava.ReAuthHint)
	}
	if strings.Contains(err.Error(), env.Token) {
		t.Error("the error shows the access token")
	}
}

func TestDeviceAndMovingTime(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		t.Run(fmt.Sprint("legacy=", legacy), func(t *testing.T) {
			env := newEnv(t, emulator.Options{}, func(o *strava.Options) { o.LegacyIdentity = legacy })
			w := synth(workout.SportRun, now.Add(-time.Hour), "dev", true)
			a := confirmOne(t, env, putAccepted(t, env, w))
			want := "Amazfit Bip 3"
			if legacy {
				want = emulator.ZeppLinkDevice
			}
			if a.DeviceName != want {
				t.Errorf("device_name %q, want %q", a.DeviceName, want)
			}
			if got := time.Duration(a.MovingTime) * time.Second; got != w.Moving() {
				t.Errorf("moving_time %v, want the band's %v", got, w.Moving())
			}
			if got := time.Duration(a.ElapsedTime) * time.Second; got != w.Elapsed() {
				t.Errorf("elapsed_time %v, want %v", got, w.Elapsed())
			}
			if a.Description == nil || !strings.Contains(*a.Description, "bandsync") || !strings.Contains(*a.Description, "Amazfit Bip 3") {
				t.Errorf("description %v does not name bandsync and the band", a.Description)
			}
		})
	}
}
