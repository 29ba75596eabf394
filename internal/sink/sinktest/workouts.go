package sinktest

import (
	"math"
	"time"

	"github.com/bandsync/bandsync/internal/workout"
)

// Kind names a shape of workout the suite puts.
type Kind string

// Kinds of workout. Each stresses something a sink must keep: a GPS track,
// pauses (moving ≠ elapsed), pool lengths without GPS, no distance at all,
// and an indoor distance without GPS.
const (
	KindRun        Kind = "run"
	KindPausedWalk Kind = "paused-walk"
	KindPoolSwim   Kind = "pool-swim"
	KindStrength   Kind = "strength"
	KindTreadmill  Kind = "treadmill"
)

// Kinds lists every Kind.
func Kinds() []Kind {
	return []Kind{KindRun, KindPausedWalk, KindPoolSwim, KindStrength, KindTreadmill}
}

// metresPerDegree is one degree of latitude, close enough for a test track.
const metresPerDegree = 111_195.0

// Workout builds a synthetic workout of kind starting at start (truncated
// to the second) whose Origin is {Source: "sinktest", ID: id}. Its track is
// invented (no real person's route); its totals are consistent with its
// samples so any faithful sink reports them back.
func Workout(kind Kind, start time.Time, id string) *workout.Workout {
	start = start.UTC().Truncate(time.Second)
	w := &workout.Workout{
		Start:  start,
		Zone:   workout.Zone{Offset: time.Hour, Known: true},
		Device: workout.Device{Maker: "Zepp", Model: "Amazfit Bip 3"},
		Origin: workout.Origin{Source: "sinktest", ID: id},
	}
	switch kind {
	case KindRun:
		w.Sport = workout.SportRun
		track(w, 15*time.Minute, 3.0, true, nil)
	case KindPausedWalk:
		w.Sport = workout.SportWalk
		w.Pauses = []workout.Interval{
			{Start: start.Add(8 * time.Minute), End: start.Add(11 * time.Minute)},
			{Start: start.Add(20 * time.Minute), End: start.Add(22 * time.Minute)},
		}
		track(w, 30*time.Minute, 1.4, true, w.Pauses)
	case KindTreadmill:
		w.Sport = workout.SportTreadmill
		track(w, 18*time.Minute, 2.8, false, nil)
	case KindStrength:
		w.Sport = workout.SportStrength
		for i := 0; i <= 20*60; i++ {
			s := workout.Sample{Time: start.Add(time.Duration(i) * time.Second)}
			s.SetHeartRate(uint8(100 + i%40))
			w.Samples = append(w.Samples, s)
		}
		w.Summary = workout.Summary{Elapsed: 20 * time.Minute, Moving: 20 * time.Minute, AvgHR: 120, MaxHR: 139}
	case KindPoolSwim:
		poolSwim(w)
	}
	return w
}

// track fills w with per-second samples moving north at speed m/s, with
// no samples (and no distance gained) inside pauses.
func track(w *workout.Workout, elapsed time.Duration, speed float64, gps bool, pauses []workout.Interval) {
	const lat0, lon0 = 46.5, 6.6
	dist := 0.0
	for i := 0; i <= int(elapsed/time.Second); i++ {
		t := w.Start.Add(time.Duration(i) * time.Second)
		if i > 0 && !w.Paused(t.Add(-time.Second)) {
			dist += speed // the second before t was moving
		}
		if w.Paused(t) {
			continue
		}
		s := workout.Sample{Time: t}
		if gps {
			s.SetPosition(lat0+dist/metresPerDegree, lon0)
			s.SetAltitude(400 + 5*math.Sin(float64(i)/60))
		}
		s.SetDistance(dist)
		s.SetSpeed(speed)
		s.SetHeartRate(uint8(120 + i%30))
		s.SetCadence(160)
		w.Samples = append(w.Samples, s)
	}
	w.Summary = workout.Summary{
		Distance: dist, Elapsed: elapsed, Moving: workout.MovingTime(w.Start, elapsed, pauses),
		AvgHR: 134, MaxHR: 149, AvgCadence: 160,
	}
}

// poolSwim is 40 lengths of 25 m, 30 s each, with a rest length every ten.
func poolSwim(w *workout.Workout) {
	w.Sport = workout.SportPoolSwim
	t := w.Start
	dist := 0.0
	for i := range 44 {
		l := workout.Length{Start: t, Elapsed: 30 * time.Second, Strokes: 18, Stroke: workout.StrokeFreestyle}
		if i%11 == 10 {
			l = workout.Length{Start: t, Elapsed: 30 * time.Second, Stroke: workout.StrokeUnknown, Idle: true}
		} else {
			dist += 25
		}
		w.Lengths = append(w.Lengths, l)
		for j := 0; j < 30; j += 5 {
			s := workout.Sample{Time: t.Add(time.Duration(j) * time.Second)}
			s.SetHeartRate(uint8(110 + i))
			w.Samples = append(w.Samples, s)
		}
		t = t.Add(l.Elapsed)
	}
	elapsed := t.Sub(w.Start)
	w.Summary = workout.Summary{Distance: dist, Elapsed: elapsed, Moving: elapsed, PoolLength: 25, Strokes: 720, Stroke: workout.StrokeFreestyle, AvgHR: 130, MaxHR: 153}
}
