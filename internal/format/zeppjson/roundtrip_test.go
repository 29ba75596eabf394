package zeppjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
	_ "time/tzdata" // named zones must resolve on any CI machine

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/bandsync/bandsync/internal/workout"
)

// approx compares floats to 1e-9 relative: the swim stroke rate travels as
// strokes/s and max speed as s/m, so a division is undone by a product.
var approx = cmp.Options{
	cmpopts.EquateApprox(1e-9, 1e-9),
	cmpopts.IgnoreFields(workout.Workout{}, "Notes"),
	cmpopts.EquateEmpty(),
}

type synth struct {
	sport    workout.Sport
	gps      bool
	zone     workout.Zone
	device   workout.Device
	pauses   int
	laps     string // "", "km", "manual"
	lengths  int
	power    bool
	duration int // s
}

// makeWorkout builds a workout already at the format's resolution (whole
// seconds, 1e-8°, cm, whole metres), with gaps in every stream so that
// samples carry different field sets.
func makeWorkout(t *testing.T, seed uint64, sy synth) *workout.Workout {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 42))
	start := time.Date(2024, 7, 14, 6, 30, 0, 0, time.UTC).Add(time.Duration(seed) * 24 * time.Hour)
	w := &workout.Workout{
		Start:  start,
		Zone:   sy.zone,
		Sport:  sy.sport,
		Device: sy.device,
		Origin: workout.Origin{Source: Source, ID: fmt.Sprint(start.Unix())},
	}
	if w.Zone.Name != "" {
		loc, err := time.LoadLocation(w.Zone.Name)
		if err != nil {
			t.Fatal(err)
		}
		_, off := start.In(loc).Zone()
		w.Zone.Offset, w.Zone.Known = time.Duration(off)*time.Second, true
	}
	lat, lon := int64(4041234567), int64(-370123456)
	dist, hr := 0.0, 120
	for off := 0; off <= sy.duration; off += 1 + r.IntN(3) {
		s := workout.Sample{Time: start.Add(time.Duration(off) * time.Second)}
		if sy.gps && off%4 != 3 {
			lat += int64(r.IntN(2000)) - 500
			lon += int64(r.IntN(2000)) - 500
			if off%9 != 0 {
				s.SetPosition(float64(lat)/1e8, float64(lon)/1e8)
			}
			if off%7 != 0 {
				s.SetAltitude(float64(60000+r.IntN(5000)) / 100)
			}
		}
		if off%5 != 4 && !sy.sport.Swimming() {
			hr = min(max(hr+r.IntN(7)-3, 60), 200)
			s.SetHeartRate(uint8(hr))
		}
		if off%3 != 2 {
			switch {
			case sy.sport.OnFoot():
				s.SetCadence(float64(150 + r.IntN(40)))
			case sy.sport.Swimming():
				s.SetCadence(float64(r.IntN(40)) * 1.5)
			default:
				s.SetCadence(float64(r.IntN(110)))
			}
		}
		if off%6 != 5 {
			s.SetSpeed(r.Float64() * 5)
		}
		if off%2 == 0 {
			dist += float64(r.IntN(8))
			s.SetDistance(dist)
		}
		if sy.power && off%4 != 1 {
			s.SetPower(uint16(r.IntN(400)))
		}
		if s.Has != 0 {
			w.Samples = append(w.Samples, s)
		}
	}
	for i := range sy.pauses {
		ps := start.Add(time.Duration((i+1)*sy.duration/(sy.pauses+1)) * time.Second)
		w.Pauses = append(w.Pauses, workout.Interval{Start: ps, End: ps.Add(time.Duration(5+r.IntN(60)) * time.Second)})
	}
	elapsed := time.Duration(sy.duration) * time.Second
	switch sy.laps {
	case "km", "manual":
		at := time.Duration(0)
		for i := 0; at+4*time.Minute < elapsed && (sy.laps != "km" || float64(i+1)*1000 <= dist); i++ {
			l := workout.Lap{Start: start.Add(at), Elapsed: time.Duration(200+r.IntN(200)) * time.Second, Trigger: workout.LapManual}
			l.Moving = l.Elapsed - time.Duration(r.IntN(10))*time.Second
			l.Distance = float64(100+r.IntN(900)) + 0.5
			if i%2 == 0 {
				l.AvgHR = 100 + r.IntN(80)
			}
			if sy.laps == "km" {
				l.Distance, l.Trigger = 1000, workout.LapDistance
			}
			w.Laps = append(w.Laps, l)
			at += l.Elapsed
		}
	}
	for i := range sy.lengths {
		w.Lengths = append(w.Lengths, workout.Length{Start: start.Add(time.Duration(i*40) * time.Second), Elapsed: 38 * time.Second, Strokes: 20, Stroke: workout.StrokeFreestyle})
	}
	w.Summary = workout.Summary{
		Distance: dist + 0.25,
		Elapsed:  elapsed,
		Moving:   workout.MovingTime(start, elapsed, w.Pauses),
		Calories: 312.5,
		AvgHR:    141,
		MaxHR:    187,
		MaxSpeed: 5.123456,
	}
	switch {
	case sy.sport.OnFoot():
		w.Summary.Ascent, w.Summary.Descent, w.Summary.Steps = 88, 87, 6543
		w.Summary.AvgCadence, w.Summary.MaxCadence = 171.5, 189
		w.Summary.TrainingEffect = 3.4
	case sy.sport.Swimming():
		w.Summary.AvgHR, w.Summary.MaxHR = 0, 0
		w.Summary.PoolLength, w.Summary.Strokes, w.Summary.Stroke = 25, 584, workout.StrokeBreaststroke
		w.Summary.AvgCadence, w.Summary.MaxCadence = 25.5, 56
	default:
		w.Summary.Ascent, w.Summary.Descent = 410, 402
		w.Summary.AvgCadence, w.Summary.MaxCadence = 84, 121
	}
	w.Normalize()
	return w
}

var synthCases = []struct {
	name string
	sy   synth
}{
	{"run with gps, pauses, km laps, named zone", synth{
		sport: workout.SportRun, gps: true, pauses: 3, laps: "km", duration: 3000,
		zone:   workout.Zone{Name: "Europe/Madrid"},
		device: workout.Device{Maker: "Zepp", Model: "MILI_STUTTGART_W", Firmware: "0.132.24.1"},
	}},
	{"walk, mi band, no laps, no zone", synth{
		sport: workout.SportWalk, gps: true, pauses: 1, duration: 1200,
		device: workout.Device{Maker: "Zepp", Model: "Mi Band"},
	}},
	{"pool swim without gps, rests, manual laps", synth{
		sport: workout.SportPoolSwim, pauses: 4, laps: "manual", duration: 1500, lengths: 40,
		zone: workout.Zone{Name: "America/New_York"}, device: workout.Device{Maker: "Zepp"},
	}},
	{"ride with power and rpm, whole-hour offset zone", synth{
		sport: workout.SportRide, gps: true, power: true, duration: 2400, laps: "manual",
		zone: workout.Zone{Name: "Etc/GMT-3"}, device: workout.Device{Maker: "Zepp"},
	}},
	{"indoor strength, no gps", synth{
		sport: workout.SportStrength, duration: 1800, pauses: 2, device: workout.Device{Maker: "Zepp"},
	}},
	{"unknown-to-zepp sport falls back to its family", synth{
		sport: workout.SportTreadmill, duration: 600, device: workout.Device{Maker: "Zepp"},
	}},
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for i, tc := range synthCases {
		t.Run(tc.name, func(t *testing.T) {
			w := makeWorkout(t, uint64(i+1), tc.sy)
			if (tc.sy.laps != "") != (len(w.Laps) > 0) || len(w.Pauses) != tc.sy.pauses || w.HasGPS() != tc.sy.gps || len(w.Samples) < 100 {
				t.Fatalf("generator: %d laps, %d pauses, gps %v, %d samples", len(w.Laps), len(w.Pauses), w.HasGPS(), len(w.Samples))
			}
			sum, det, err := Encode(w)
			if err != nil {
				t.Fatal(err)
			}
			if only, err := EncodeSummary(w); err != nil || !bytes.Equal(only, sum) {
				t.Fatalf("EncodeSummary differs from Encode's summary (%v):\n%s\n%s", err, only, sum)
			}
			got, err := Decode(sum, det)
			if err != nil {
				t.Fatalf("Decode(Encode(w)): %v\nsummary: %s", err, sum)
			}
			want := *w
			want.Lengths = nil // only their count travels (total_trips)
			if tc.sy.laps == "manual" {
				// lap rows carry no trigger
				want.Laps = append([]workout.Lap(nil), w.Laps...)
				for i := range want.Laps {
					want.Laps[i].Trigger = workout.LapManual
				}
			}
			if diff := cmp.Diff(&want, got, approx); diff != "" {
				t.Errorf("Decode(Encode(w)) differs (-want +got):\n%s", diff)
			}
			s, err := DecodeSummary(sum)
			if err != nil {
				t.Fatal(err)
			}
			if s.Trips != len(w.Lengths) {
				t.Errorf("total_trips = %d, want %d", s.Trips, len(w.Lengths))
			}
			// the encoding is stable: encoding the decoded workout gives the same bytes
			sum2, det2, err := Encode(got)
			if err != nil {
				t.Fatal(err)
			}
			if tc.sy.lengths == 0 && (!bytes.Equal(sum, sum2) || !bytes.Equal(det, det2)) {
				t.Errorf("Encode(Decode(Encode(w))) != Encode(w)")
			}
		})
	}
}

func TestEncodeSportFallback(t *testing.T) {
	for _, tc := range []struct {
		in, want workout.Sport
	}{
		{workout.SportMountainBike, workout.SportRide},
		{workout.SportGolf, workout.SportOther},
		{workout.SportTrailRun, workout.SportTrailRun},
	} {
		w := &workout.Workout{Start: time.Unix(1700000000, 0).UTC(), Sport: tc.in}
		sum, det, err := Encode(w)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(sum, det)
		if err != nil {
			t.Fatal(err)
		}
		if got.Sport != tc.want {
			t.Errorf("%v: decoded as %v, want %v", tc.in, got.Sport, tc.want)
		}
	}
}

// TestEncodeIsCloudShaped checks Encode's output against the grammar: the
// summaries make a valid history page, the detail decodes with the
// response wrapper, and numbers are typed as the cloud types them.
func TestEncodeIsCloudShaped(t *testing.T) {
	var entries [][]byte
	var details [][]byte
	for i, tc := range synthCases {
		sum, det, err := Encode(makeWorkout(t, uint64(i+1), tc.sy))
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(sum) || !json.Valid(det) {
			t.Fatalf("%s: Encode wrote invalid JSON", tc.name)
		}
		entries, details = append(entries, sum), append(details, det)
	}
	page := fmt.Appendf(nil, `{"code":1,"message":"success","data":{"next":-1,"summary":[%s]}}`, bytes.Join(entries, []byte(",")))
	next, sums, err := DecodeHistory(page)
	if err != nil {
		t.Fatal(err)
	}
	if next != -1 || len(sums) != len(entries) {
		t.Fatalf("DecodeHistory: next %d, %d summaries", next, len(sums))
	}
	for i, s := range sums {
		if s.Source != EncodedSource || s.Version != 15 || !bytes.Equal(s.Raw, entries[i]) {
			t.Errorf("summary %d: %+v", i, s)
		}
		// wrapped detail decodes to the same workout as the bare one
		wrapped := fmt.Appendf(nil, `{"code":1,"message":"success","data":%s}`, details[i])
		a, err := Decode(entries[i], wrapped)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := Decode(entries[i], details[i])
		if diff := cmp.Diff(b, a); diff != "" {
			t.Errorf("wrapped detail decodes differently:\n%s", diff)
		}
	}
	var m map[string]any
	if err := json.Unmarshal(entries[0], &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"trackid", "dis", "calorie", "end_time", "run_time", "avg_heart_rate"} {
		if _, ok := m[k].(string); !ok {
			t.Errorf("summary %s is %T, the cloud sends a string", k, m[k])
		}
	}
	for _, k := range []string{"type", "version", "total_step", "max_heart_rate"} {
		if _, ok := m[k].(float64); !ok {
			t.Errorf("summary %s is %T, the cloud sends a number", k, m[k])
		}
	}
}

// TestFixtureReencode: a real workout survives Encode→Decode.
func TestFixtureReencode(t *testing.T) {
	for _, name := range fixtureNames {
		t.Run(name, func(t *testing.T) {
			w, err := Decode(readFixture(t, name))
			if err != nil {
				t.Fatal(err)
			}
			sum, det, err := Encode(w)
			if err != nil {
				t.Fatal(err)
			}
			if only, err := EncodeSummary(w); err != nil || !bytes.Equal(only, sum) {
				t.Fatalf("EncodeSummary differs from Encode's summary (%v):\n%s\n%s", err, only, sum)
			}
			got, err := Decode(sum, det)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(w, got, approx); diff != "" {
				t.Errorf("re-encoded fixture differs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEncodeRejects(t *testing.T) {
	ok := time.Unix(1700000000, 0).UTC()
	for name, w := range map[string]*workout.Workout{
		"nil":           nil,
		"zero start":    {},
		"sample before": {Start: ok, Samples: []workout.Sample{{Time: ok.Add(-time.Second), Has: workout.HasSpeed}}},
		"unsorted": {Start: ok, Samples: []workout.Sample{
			{Time: ok.Add(2 * time.Second), Has: workout.HasSpeed}, {Time: ok.Add(time.Second), Has: workout.HasSpeed}}},
		"beyond limit": {Start: ok, Samples: []workout.Sample{{Time: ok.Add(MaxDuration + time.Second), Has: workout.HasSpeed}}},
	} {
		if _, _, err := Encode(w); err == nil {
			t.Errorf("%s: Encode succeeded", name)
		}
	}
}
