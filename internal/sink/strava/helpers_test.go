package strava_test

import (
	"testing"
	"time"

	emulator "github.com/bandsync/bandsync/internal/emulator/strava"
	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/sink"
	"github.com/bandsync/bandsync/internal/sink/strava"
	"github.com/bandsync/bandsync/internal/sink/strava/api"
	"github.com/bandsync/bandsync/internal/sink/strava/stravatest"
	"github.com/bandsync/bandsync/internal/workout"
)

// now is the fake clock's start: a Wednesday afternoon, 14:37 UTC.
var now = time.Date(2026, 5, 20, 14, 37, 0, 0, time.UTC)

// synth builds a 30-minute workout with a sample every 10 s and a one-minute
// pause after 10 minutes; gps adds a track.
func synth(sport workout.Sport, start time.Time, id string, gps bool) *workout.Workout {
	w := &workout.Workout{
		Start:  start,
		Zone:   workout.Zone{Offset: time.Hour, Known: true, Name: "Europe/Lisbon"},
		Sport:  sport,
		Device: workout.Device{Maker: "Zepp", Model: "Amazfit Bip 3"},
		Origin: workout.Origin{Source: "zepp", ID: id},
	}
	pause := workout.Interval{Start: start.Add(10 * time.Minute), End: start.Add(11 * time.Minute)}
	w.Pauses = []workout.Interval{pause}
	dist := 0.0
	for t := time.Duration(0); t <= 30*time.Minute; t += 10 * time.Second {
		at := start.Add(t)
		if pause.Contains(at) {
			continue
		}
		var s workout.Sample
		s.Time = at
		if t > 0 {
			dist += 28
		}
		s.SetDistance(dist)
		s.SetHeartRate(uint8(120 + int(t/time.Minute)))
		if gps {
			s.SetPosition(38.70+dist/111000, -9.14)
		}
		w.Samples = append(w.Samples, s)
	}
	w.Summary = workout.Summary{Elapsed: 30 * time.Minute, Moving: 29 * time.Minute, Distance: dist, AvgHR: 135, MaxHR: 150}
	return w
}

func newEnv(t *testing.T, eo emulator.Options, mod func(*strava.Options)) *stravatest.Env {
	t.Helper()
	opt := strava.DefaultOptions()
	if mod != nil {
		mod(&opt)
	}
	return stravatest.NewEnv(t, stravatest.Config{Emulator: eo, Sink: &opt, Clock: stravatest.NewClock(now)})
}

// putAccepted puts w and wants Accepted.
func putAccepted(t *testing.T, env *stravatest.Env, w *workout.Workout) sink.Pending {
	t.Helper()
	key := w.Origin.Key()
	sent := env.Clock.Now()
	res, err := env.Sink.Put(t.Context(), w, key)
	if err != nil {
		t.Fatalf("Put(%s): %v", key, err)
	}
	if res.Outcome != sink.Accepted || res.UploadID == "" {
		t.Fatalf("Put(%s) = %+v, want Accepted with an upload ID", key, res)
	}
	return sink.Pending{Key: key, UploadID: res.UploadID, Start: w.Start, Sent: sent}
}

// confirmOne confirms p after the processing time and wants Created.
func confirmOne(t *testing.T, env *stravatest.Env, p sink.Pending) api.DetailedActivity {
	t.Helper()
	env.Clock.Advance(2 * time.Second)
	cs, err := env.Sink.Confirm(t.Context(), []sink.Pending{p})
	if err != nil {
		t.Fatalf("Confirm: %v", err)
	}
	if len(cs) != 1 || cs[0].Err != nil || cs[0].Result.Outcome != sink.Created {
		t.Fatalf("Confirm = %+v, want Created", cs)
	}
	id, _ := api.ParseID(cs[0].Result.ActivityID)
	a, ok := env.Emulator.Activity(id)
	if !ok {
		t.Fatalf("activity %d not on the emulator", id)
	}
	return a
}

func wantClass(t *testing.T, err error, c errclass.Class) {
	t.Helper()
	if got := errclass.ClassOf(err); got != c {
		t.Fatalf("error %v: class %v, want %v", err, got, c)
	}
}

func wantLimitedUntil(t *testing.T, err error, until time.Time) {
	t.Helper()
	wantClass(t, err, errclass.RateLimited)
	if got := errclass.UntilOf(err); !got.Equal(until) {
		t.Fatalf("Limited until %v, want %v", got, until)
	}
}

// byKey counts the emulator's activities per external_id.
func byKey(env *stravatest.Env) map[string]int {
	out := map[string]int{}
	for _, a := range env.Emulator.Activities() {
		out[a.External()]++
	}
	return out
}
