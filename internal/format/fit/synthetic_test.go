package fit

import (
	"math"
	"time"

	"github.com/bandsync/bandsync/internal/workout"
)

// Synthetic workouts for the encoder tests. Each is built from a seconds
// offset so tests can reason about exact instants.

var synthStart = time.Date(2024, 5, 4, 5, 30, 0, 0, time.UTC)

func at(sec int) time.Time { return synthStart.Add(time.Duration(sec) * time.Second) }

func pause(from, to int) workout.Interval { return workout.Interval{Start: at(from), End: at(to)} }

func inPauses(sec int, ps []workout.Interval) bool {
	for _, p := range ps {
		if p.Contains(at(sec)) {
			return true
		}
	}
	return false
}

// outdoorRun is a run with GPS, heart rate, cadence (odd steps/min, so FIT
// needs fractional cadence), altitude, distance and speed; pauses with no
// samples inside; and a known zone.
func outdoorRun(seconds int, pauses []workout.Interval) *workout.Workout {
	w := &workout.Workout{
		Start:  synthStart,
		Zone:   workout.Zone{Offset: 2 * time.Hour, Known: true},
		Sport:  workout.SportRun,
		Device: workout.Device{Maker: "Zepp", Model: "Amazfit Bip 3"},
		Pauses: pauses,
	}
	dist := 0.0
	for i := 0; i <= seconds; i++ {
		if inPauses(i, pauses) {
			continue
		}
		s := workout.Sample{Time: at(i)}
		s.SetPosition(40.4168+float64(i)*2.1e-5, -3.7038+float64(i)*1.3e-5)
		s.SetAltitude(650 + 8*math.Sin(float64(i)/120))
		s.SetHeartRate(uint8(118 + i%45))
		s.SetCadence(float64(168 + i%5)) // 168..172 steps/min
		s.SetDistance(dist)
		s.SetSpeed(2.95 + float64(i%7)/100)
		w.Samples = append(w.Samples, s)
		dist += 2.98
	}
	last := w.Samples[len(w.Samples)-1]
	w.Summary = workout.Summary{
		Distance: last.Distance, Elapsed: time.Duration(seconds) * time.Second,
		Calories: 312, Ascent: 23.4, Descent: 21.75, AvgHR: 139, MaxHR: 162,
		Steps: 4801, AvgCadence: 170.5, MaxCadence: 178, MaxSpeed: 3.61, TrainingEffect: 2.8,
	}
	return w
}

// treadmillRun has no GPS, its own manual laps and a Zepp firmware version
// FIT cannot hold.
func treadmillRun() *workout.Workout {
	w := &workout.Workout{
		Start:  synthStart,
		Sport:  workout.SportTreadmill,
		Device: workout.Device{Maker: "Huami", Model: "Amazfit GTR 2", Firmware: "0.132.24.1"},
		Pauses: []workout.Interval{pause(400, 420)},
	}
	dist := 0.0
	for i := 0; i <= 1200; i++ {
		if inPauses(i, w.Pauses) {
			continue
		}
		s := workout.Sample{Time: at(i)}
		s.SetHeartRate(uint8(130 + i%20))
		s.SetCadence(162)
		s.SetDistance(dist)
		w.Samples = append(w.Samples, s)
		dist += 2.5
	}
	w.Laps = []workout.Lap{
		{Start: at(0), Elapsed: 600 * time.Second, Distance: 1450, Calories: 60, AvgHR: 139, MaxHR: 149, Trigger: workout.LapManual},
		{Start: at(600), Elapsed: 600 * time.Second, Distance: 1500, Calories: 64, AvgHR: 140, MaxHR: 149, Trigger: workout.LapSessionEnd},
	}
	w.Summary = workout.Summary{Distance: 2950, Calories: 124, AvgHR: 139, MaxHR: 149, Steps: 3186, AvgCadence: 162, MaxCadence: 166}
	return w
}

// ride is a cycling workout: cadence in rpm with a fraction, power, a Garmin
// device with a product id, firmware and serial.
func ride() *workout.Workout {
	w := &workout.Workout{
		Start:  synthStart,
		Zone:   workout.Zone{Offset: -5*time.Hour - 30*time.Minute, Known: true},
		Sport:  workout.SportRide,
		Device: workout.Device{Maker: "Garmin", Model: "Edge 530", Product: 3121, Firmware: "9.1", Serial: 3945849289},
		Pauses: []workout.Interval{pause(500, 560)},
	}
	dist := 0.0
	for i := 0; i <= 900; i++ {
		if inPauses(i, w.Pauses) {
			continue
		}
		s := workout.Sample{Time: at(i)}
		s.SetPosition(51.5+float64(i)*6e-5, -0.12-float64(i)*4e-5)
		s.SetAltitude(12.4 + float64(i%30)/5)
		s.SetHeartRate(uint8(140 + i%10))
		s.SetCadence(85.25 + float64(i%3)) // rpm; .25 needs fractional_cadence
		s.SetPower(uint16(180 + i%60))
		s.SetSpeed(8.1)
		s.SetDistance(dist)
		w.Samples = append(w.Samples, s)
		dist += 8.1
	}
	w.Summary = workout.Summary{Distance: w.Samples[len(w.Samples)-1].Distance, Calories: 290, AvgCadence: 86.25, MaxCadence: 95}
	return w
}

// poolSwim has lengths (one of them a rest), two laps, strokes and a
// Xiaomi device, a maker FIT has no id for.
func poolSwim() *workout.Workout {
	w := &workout.Workout{
		Start:  synthStart,
		Sport:  workout.SportPoolSwim,
		Device: workout.Device{Maker: "Xiaomi", Model: "Smart Band 8"},
	}
	for i := 0; i < 16; i++ {
		l := workout.Length{Start: at(i * 30), Elapsed: 30 * time.Second, Strokes: 18, Stroke: workout.StrokeFreestyle}
		if i == 8 {
			l = workout.Length{Start: at(i * 30), Elapsed: 30 * time.Second, Stroke: workout.StrokeUnknown, Idle: true}
		}
		if i == 12 {
			l.Stroke = workout.StrokeBreaststroke
		}
		w.Lengths = append(w.Lengths, l)
	}
	for i := 0; i <= 480; i += 10 {
		s := workout.Sample{Time: at(i)}
		s.SetHeartRate(uint8(120 + i%30))
		s.SetCadence(36) // strokes/min: unchanged in FIT
		w.Samples = append(w.Samples, s)
	}
	w.Laps = []workout.Lap{
		{Start: at(0), Elapsed: 240 * time.Second, Distance: 200, Trigger: workout.LapManual},
		{Start: at(240), Elapsed: 240 * time.Second, Distance: 175, Trigger: workout.LapSessionEnd},
	}
	w.Summary = workout.Summary{Distance: 375, Elapsed: 480 * time.Second, Calories: 150, PoolLength: 25,
		Strokes: 270, Stroke: workout.StrokeMixed, AvgHR: 133, MaxHR: 149}
	return w
}

// sparseWalk has fields present in some samples and absent in others, and
// a device whose model is unknown.
func sparseWalk() *workout.Workout {
	w := &workout.Workout{
		Start:  synthStart,
		Sport:  workout.SportWalk,
		Device: workout.Device{Maker: "Amazfit"},
	}
	for i := 0; i <= 300; i++ {
		s := workout.Sample{Time: at(i)}
		switch i % 4 {
		case 0:
			s.SetHeartRate(uint8(95 + i%10))
		case 1:
			s.SetPosition(48.85+float64(i)*1e-5, 2.35)
		case 2:
			s.SetCadence(111)
			s.SetDistance(float64(i) * 1.3)
		case 3:
			// time only: the band knew nothing else at this instant
		}
		w.Samples = append(w.Samples, s)
	}
	return w
}
