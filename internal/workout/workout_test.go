package workout

import (
	"math"
	"testing"
	"time"
	"unsafe"
)

var t0 = time.Date(2023, 10, 29, 8, 45, 16, 0, time.UTC)

func at(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

func TestMovingTime(t *testing.T) {
	tests := []struct {
		name    string
		elapsed time.Duration
		pauses  []Interval
		want    time.Duration
	}{
		{"no pauses", time.Hour, nil, time.Hour},
		{"two pauses", time.Hour, []Interval{{at(60), at(120)}, {at(600), at(630)}}, time.Hour - 90*time.Second},
		{"overlapping counted once", time.Hour, []Interval{{at(60), at(120)}, {at(100), at(150)}}, time.Hour - 90*time.Second},
		{"clipped to the workout", 100 * time.Second, []Interval{{at(-50), at(10)}, {at(90), at(500)}}, 80 * time.Second},
		{"pause longer than workout", 10 * time.Second, []Interval{{at(0), at(100)}}, 0},
		{"empty pause ignored", time.Minute, []Interval{{at(10), at(10)}}, time.Minute},
	}
	for _, tt := range tests {
		if got := MovingTime(t0, tt.elapsed, tt.pauses); got != tt.want {
			t.Errorf("%s: MovingTime = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestElapsedAndMovingFallBackToData(t *testing.T) {
	w := &Workout{Start: t0, Pauses: []Interval{{at(100), at(160)}}}
	for s := 0; s <= 600; s += 10 {
		w.Samples = append(w.Samples, Sample{Time: at(s)})
	}
	if got := w.Elapsed(); got != 600*time.Second {
		t.Fatalf("Elapsed = %v, want 10m", got)
	}
	if got := w.Moving(); got != 540*time.Second {
		t.Fatalf("Moving = %v, want 9m", got)
	}
	w.Summary.Elapsed, w.Summary.Moving = 700*time.Second, 620*time.Second
	if w.Elapsed() != 700*time.Second || w.Moving() != 620*time.Second {
		t.Fatalf("reported totals must win: %v %v", w.Elapsed(), w.Moving())
	}
}

func TestAbsentIsNotZero(t *testing.T) {
	var s Sample
	if s.Has != 0 {
		t.Fatal("zero sample must have no fields")
	}
	s.SetHeartRate(0)
	if s.Has&HasHeartRate == 0 {
		t.Fatal("a recorded value must be present even when zero")
	}
	var o Sample
	o.SetCadence(170)
	s.Merge(o)
	if s.Has != HasHeartRate|HasCadence || s.Cadence != 170 {
		t.Fatalf("Merge: has=%b cadence=%v", s.Has, s.Cadence)
	}
}

func TestPace(t *testing.T) {
	if got := Pace(50*time.Minute, 10000); got != 5*time.Minute {
		t.Fatalf("Pace = %v, want 5m0s", got)
	}
	if Pace(time.Minute, 0) != 0 {
		t.Fatal("pace of no distance must be 0")
	}
}

func TestHaversine(t *testing.T) {
	// One degree of latitude is about 111.2 km.
	d := Haversine(0, 0, 1, 0)
	if math.Abs(d-111195) > 100 {
		t.Fatalf("1° of latitude = %.0f m", d)
	}
	if Haversine(40, -3, 40, -3) != 0 {
		t.Fatal("distance to itself must be 0")
	}
}

// straight track north along a meridian at ~3.7 m/s, one point per second
func trackWorkout(seconds int, pauses []Interval) *Workout {
	w := &Workout{Start: t0, Pauses: pauses}
	for s := 0; s <= seconds; s++ {
		var sm Sample
		sm.Time = at(s)
		sm.SetPosition(40+float64(s)*3.7/111195, -3)
		w.Samples = append(w.Samples, sm)
	}
	return w
}

func TestFillDistanceFromGPS(t *testing.T) {
	w := trackWorkout(1000, nil)
	if !w.FillDistanceFromGPS() {
		t.Fatal("nothing filled")
	}
	if d := w.Distance(); math.Abs(d-3700) > 5 {
		t.Fatalf("distance = %.1f, want ≈3700", d)
	}
	if w.FillDistanceFromGPS() {
		t.Fatal("a second fill must not overwrite recorded distances")
	}
	// Movement across a pause is not counted: the track jumps during the pause.
	w = trackWorkout(100, []Interval{{at(50), at(60)}})
	w.FillDistanceFromGPS()
	if d := w.Distance(); math.Abs(d-3.7*90) > 2 {
		t.Fatalf("distance with pause = %.1f, want ≈%.1f", d, 3.7*90)
	}
}

func TestSplits(t *testing.T) {
	w := trackWorkout(1000, []Interval{{at(100), at(130)}})
	w.FillDistanceFromGPS()
	sp := w.Splits(Kilometre)
	if len(sp) != 4 {
		t.Fatalf("got %d splits, want 4 (3 full km + remainder)", len(sp))
	}
	for i, s := range sp[:3] {
		if math.Abs(s.Distance-1000) > 0.01 {
			t.Errorf("split %d distance %.2f", i+1, s.Distance)
		}
	}
	// The first km contains the 30 s pause: its moving time is elapsed − 30 s.
	if sp[0].Elapsed-sp[0].Moving != 30*time.Second {
		t.Errorf("split 1 elapsed %v moving %v: pause not excluded", sp[0].Elapsed, sp[0].Moving)
	}
	if math.Abs(sp[3].Distance-(w.Distance()-3000)) > 0.5 {
		t.Errorf("remainder %.1f", sp[3].Distance)
	}
	if got := w.Splits(Mile); len(got) != 3 {
		t.Errorf("mile splits = %d, want 3", len(got))
	}
	if (&Workout{Start: t0}).Splits(Kilometre) != nil {
		t.Error("no distance: want nil splits")
	}
}

func TestNormalize(t *testing.T) {
	w := &Workout{Start: t0.In(time.FixedZone("x", 3600))}
	var a, b, c Sample
	a.Time, b.Time, c.Time = at(2), at(1), at(2)
	a.SetHeartRate(120)
	c.SetCadence(160)
	w.Samples = []Sample{a, b, c}
	w.Pauses = []Interval{{at(50), at(60)}, {at(10), at(20)}, {at(55), at(70)}, {at(80), at(80)}}
	w.Normalize()
	if w.Start.Location() != time.UTC {
		t.Error("start not UTC")
	}
	if len(w.Samples) != 2 || !w.Samples[0].Time.Equal(at(1)) || w.Samples[1].Has != HasHeartRate|HasCadence {
		t.Errorf("samples not sorted/merged: %+v", w.Samples)
	}
	want := []Interval{{at(10), at(20)}, {at(50), at(70)}}
	if len(w.Pauses) != 2 || w.Pauses[0] != want[0] || w.Pauses[1] != want[1] {
		t.Errorf("pauses = %v, want %v", w.Pauses, want)
	}
}

func TestZone(t *testing.T) {
	w := &Workout{Start: t0, Zone: Zone{Offset: -4 * time.Hour, Known: true}}
	if got := w.LocalStart().Format("15:04 -07:00"); got != "04:45 -04:00" {
		t.Errorf("LocalStart = %s", got)
	}
	w.Zone = Zone{}
	if w.LocalStart().Location() != time.UTC {
		t.Error("unknown zone must be UTC")
	}
}

func TestOriginKey(t *testing.T) {
	o := Origin{Source: "zepp", ID: "1698569116"}
	if o.Key() != "zepp-1698569116" {
		t.Errorf("Key = %q", o.Key())
	}
	if k := (Origin{Source: "files", ID: "a/b c.fit"}).Key(); k != "files-a_b_c.fit" {
		t.Errorf("unsafe characters kept: %q", k)
	}
}

func TestSportTables(t *testing.T) {
	for _, s := range Sports() {
		got, err := ParseSport(s.String())
		if err != nil || got != s {
			t.Errorf("ParseSport(%q) = %v, %v", s, got, err)
		}
		if st, _ := s.Strava(); st == "" {
			t.Errorf("%s has no Strava sport type", s)
		}
		if z := s.ZeppType(); z != 0 {
			if back, ok := SportFromZepp(z); !ok || back != s {
				t.Errorf("Zepp %d round trip: %v", z, back)
			}
		}
		if g := s.GadgetbridgeKind(); g > 1 {
			if back, ok := SportFromGadgetbridge(g); !ok || back != s {
				t.Errorf("Gadgetbridge %#x round trip: %v", g, back)
			}
		}
		sp, sub := s.FIT()
		if back, ok := SportFromFIT(sp, sub); !ok && s != SportOther && s != SportSkateboard {
			t.Errorf("FIT %d/%d of %s not recognised", sp, sub, s)
		} else if ok && back.String() != s.String() && back != SportOther && sp != fitGeneric {
			// Two sports may share a FIT pair only if one is the generic row.
			if _, sub2 := back.FIT(); sub2 != sub {
				t.Errorf("FIT %d/%d maps back to %s, not %s", sp, sub, back, s)
			}
		}
	}
	// The reference's production-proven Zepp codes.
	proven := map[int]Sport{1: SportRun, 6: SportWalk, 8: SportTreadmill, 9: SportRide, 10: SportIndoorRide,
		14: SportPoolSwim, 15: SportOpenWaterSwim, 22: SportHike, 23: SportIndoorRowing, 52: SportStrength,
		105: SportAlpineSki, 130: SportCrossTraining, 207: SportEMountainBike, 208: SportGravelRide, 224: SportMountainHike}
	for code, want := range proven {
		if got, ok := SportFromZepp(code); !ok || got != want {
			t.Errorf("Zepp %d = %v, want %v", code, got, want)
		}
	}
	if got, ok := SportFromZepp(1009); !ok || got != SportRide {
		t.Errorf("multisport leg 1009 = %v", got)
	}
	if got, ok := SportFromZepp(9999); ok || got != SportOther {
		t.Errorf("unknown Zepp code must be other/!ok, got %v %v", got, ok)
	}
	if st, trainer := SportTreadmill.Strava(); st != "Run" || !trainer {
		t.Errorf("treadmill → %s trainer=%v", st, trainer)
	}
	if got, _ := SportFromFIT(2, 58); got != SportIndoorRide {
		t.Errorf("virtual ride = %v", got)
	}
}

func TestSplitsCorruptDistance(t *testing.T) {
	w := &Workout{Start: t0}
	var s Sample
	s.Time = at(10)
	s.SetDistance(1e12) // a corrupt reading: a billion km
	w.Samples = []Sample{s}
	if sp := w.Splits(Kilometre); sp != nil {
		t.Fatalf("got %d splits for a corrupt distance", len(sp))
	}
}

func BenchmarkSplits(b *testing.B) {
	w := trackWorkout(3600, []Interval{{at(100), at(130)}, {at(2000), at(2100)}})
	w.FillDistanceFromGPS()
	b.ReportAllocs()
	for b.Loop() {
		w.Splits(Kilometre)
	}
}

func TestCompleteLaps(t *testing.T) {
	w := &Workout{Start: t0, Summary: Summary{Elapsed: 1000 * time.Second, Distance: 2600}, Pauses: []Interval{{at(900), at(930)}}}
	w.Laps = []Lap{
		{Start: at(0), Elapsed: 400 * time.Second, Distance: 1000},
		{Start: at(400), Elapsed: 380 * time.Second, Distance: 1000},
	}
	got := w.CompleteLaps()
	if len(got) != 3 {
		t.Fatalf("%d laps, want the two plus the rest", len(got))
	}
	rest := got[2]
	if !rest.Start.Equal(at(780)) || rest.Elapsed != 220*time.Second || rest.Distance != 600 || rest.Moving != 190*time.Second {
		t.Fatalf("rest lap %+v", rest)
	}
	w.Laps[1].Elapsed = 600 * time.Second // the laps reach the end
	if got := w.CompleteLaps(); len(got) != 2 {
		t.Fatalf("laps covering the workout got %d", len(got))
	}
	if (&Workout{Start: t0}).CompleteLaps() != nil {
		t.Fatal("no laps: want nil")
	}
}

// TestSampleSize keeps a Sample small: a workout holds thousands, and the
// engine decodes one per worker at a time.
func TestSampleSize(t *testing.T) {
	if got := unsafe.Sizeof(Sample{}); got > 80 {
		t.Errorf("a Sample takes %d bytes, want at most 80 (small fields last)", got)
	}
}

// Validate names the first broken promise, and passes a sound workout.
func TestValidate(t *testing.T) {
	t0 := time.Date(2024, 5, 1, 7, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	sound := func() *Workout {
		w := &Workout{Start: t0, Samples: []Sample{{Time: at(0)}, {Time: at(1)}, {Time: at(2)}},
			Pauses: []Interval{{Start: at(10), End: at(20)}, {Start: at(30), End: at(40)}},
			Laps:   []Lap{{Start: at(0)}, {Start: at(100)}}}
		w.Samples[0].SetHeartRate(120)
		w.Samples[1].SetPosition(48.1, 11.5)
		return w
	}
	if err := sound().Validate(); err != nil {
		t.Fatalf("a sound workout: %v", err)
	}
	for _, c := range []struct {
		want  string
		spoil func(w *Workout)
	}{
		{"sample 2 is not after sample 1", func(w *Workout) { w.Samples[2].Time = at(1) }},
		{"sample 0 has heart rate 7", func(w *Workout) { w.Samples[0].SetHeartRate(7) }},
		{"sample 1 has position 95,11.5", func(w *Workout) { w.Samples[1].SetPosition(95, 11.5) }},
		{"pause 1 is empty", func(w *Workout) { w.Pauses[1].End = w.Pauses[1].Start }},
		{"pause 1 does not start after pause 0 ends", func(w *Workout) { w.Pauses[1].Start = at(20) }},
		{"lap 1 starts before lap 0", func(w *Workout) { w.Laps[1].Start = at(-1) }},
	} {
		w := sound()
		c.spoil(w)
		if err := w.Validate(); err == nil || err.Error() != c.want {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
}
