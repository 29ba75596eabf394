package strava_test

import (
	"testing"
	"time"

	emulator "github.com/bandsync/bandsync/internal/emulator/strava"
	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/sink/strava/api"
	"github.com/bandsync/bandsync/internal/workout"
)

func TestStreamsOfUploadedWorkout(t *testing.T) {
	env := newEnv(t, emulator.Options{}, nil)
	w := synth(workout.SportRun, now.Add(-48*time.Hour), "streams-1", true)
	a := confirmOne(t, env, putAccepted(t, env, w))
	id := api.FormatID(a.ID)

	env.Emulator.ResetCounts()
	set, err := env.Sink.Streams(t.Context(), id)
	if err != nil {
		t.Fatalf("Streams(%s): %v", id, err)
	}
	if n := env.Emulator.Count(emulator.RouteStreams); n != 1 {
		t.Errorf("Streams sent %d requests, want 1", n)
	}
	if set.Time == nil || len(set.Time.Data) != len(w.Samples) {
		t.Fatalf("time stream = %+v, want %d points", set.Time, len(w.Samples))
	}
	for name, n := range map[string]int{
		"heartrate": lenInt(set.Heartrate), "latlng": lenLatLng(set.LatLng),
		"distance": lenFloat(set.Distance), "velocity_smooth": lenFloat(set.VelocitySmooth),
	} {
		if n != len(w.Samples) {
			t.Errorf("%s stream has %d points, want %d", name, n, len(w.Samples))
		}
	}
	if set.Moving == nil {
		t.Fatal("no moving stream")
	}
	// The first sample after the one-minute pause comes 70 s after the one
	// before it: the time stream must show the gap.
	gaps := 0
	for i := 1; i < len(set.Time.Data); i++ {
		if set.Time.Data[i]-set.Time.Data[i-1] > 10 {
			gaps++
		}
	}
	if gaps != 1 {
		t.Errorf("time stream has %d gaps, want the one pause", gaps)
	}
	if got, want := set.Heartrate.Data[0], int(w.Samples[0].HeartRate); got != want {
		t.Errorf("first heart rate %d, want %d", got, want)
	}

	act, err := env.Sink.Activity(t.Context(), id)
	if err != nil {
		t.Fatalf("Activity(%s): %v", id, err)
	}
	if act.ID != a.ID || act.MovingTime != int(w.Moving()/time.Second) {
		t.Errorf("Activity = id %d moving %d s, want id %d moving %v", act.ID, act.MovingTime, a.ID, w.Moving())
	}
}

func TestStreamsErrors(t *testing.T) {
	env := newEnv(t, emulator.Options{}, nil)

	_, err := env.Sink.Streams(t.Context(), "999999")
	wantClass(t, err, errclass.NotFound)
	_, err = env.Sink.Activity(t.Context(), "999999")
	wantClass(t, err, errclass.NotFound)

	env.Emulator.ResetCounts()
	_, err = env.Sink.Streams(t.Context(), "../athlete")
	wantClass(t, err, errclass.Usage)
	if n := env.Emulator.APIRequests(); n != 0 {
		t.Errorf("a bad ID sent %d requests", n)
	}
}

func TestStreamsRespectsTheReadBudget(t *testing.T) {
	env := newEnv(t, emulator.Options{}, nil)
	w := synth(workout.SportRide, now.Add(-72*time.Hour), "streams-2", false)
	a := confirmOne(t, env, putAccepted(t, env, w))

	// Spend the read budget of this quarter hour on the sink's side.
	for env.Sink.Budget().Take(true) == nil {
	}
	env.Emulator.ResetCounts()
	_, err := env.Sink.Streams(t.Context(), api.FormatID(a.ID))
	wantLimitedUntil(t, err, now.Truncate(15*time.Minute).Add(15*time.Minute))
	if n := env.Emulator.Count(emulator.RouteStreams); n != 0 {
		t.Errorf("a spent budget still sent %d requests", n)
	}
}

func lenInt(s *api.IntStream) int {
	if s == nil {
		return 0
	}
	return len(s.Data)
}

func lenFloat(s *api.FloatStream) int {
	if s == nil {
		return 0
	}
	return len(s.Data)
}

func lenLatLng(s *api.LatLngStream) int {
	if s == nil {
		return 0
	}
	return len(s.Data)
}
