package compare

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bandsync/bandsync/internal/workout"
)

var start = time.Date(2025, 6, 1, 7, 30, 0, 0, time.UTC)

// run builds a 40-minute run with a sample every 10 s, GPS, heart rate,
// cadence and altitude, and the given pauses (minutes from the start,
// [from, to)); no samples are recorded during a pause.
func run(pauses ...[2]int) *workout.Workout {
	w := &workout.Workout{
		Start: start, Sport: workout.SportRun,
		Device: workout.Device{Maker: "Xiaomi", Model: "Mi Band 6"},
		Origin: workout.Origin{Source: "zepp", ID: "1"},
	}
	for _, p := range pauses {
		w.Pauses = append(w.Pauses, workout.Interval{Start: start.Add(time.Duration(p[0]) * time.Minute), End: start.Add(time.Duration(p[1]) * time.Minute)})
	}
	dist := 0.0
	for t := time.Duration(0); t <= 40*time.Minute; t += 10 * time.Second {
		at := start.Add(t)
		if w.Paused(at) {
			continue
		}
		var s workout.Sample
		s.Time = at
		if t > 0 {
			dist += 30
		}
		s.SetDistance(dist)
		s.SetHeartRate(uint8(130 + int(t/time.Minute)))
		s.SetCadence(170)
		s.SetAltitude(100 + float64(t/time.Minute))
		s.SetPosition(40.4+dist/111000, -3.7)
		w.Samples = append(w.Samples, s)
	}
	w.Summary = workout.Summary{Elapsed: 40 * time.Minute, Distance: dist, AvgHR: 150, Calories: 420}
	w.Summary.Moving = workout.MovingTime(w.Start, w.Summary.Elapsed, w.Pauses)
	return w
}

// stravaOf makes the streams Strava would return for w, as its emulator
// does: one point per sample, running cadence per leg, moving false in
// pauses; the activity's moving time is given.
func stravaOf(w *workout.Workout, moving time.Duration) Streams {
	var s Streams
	for _, smp := range w.Samples {
		s.Time = append(s.Time, smp.Time.Sub(w.Start).Seconds())
		s.HeartRate = append(s.HeartRate, float64(smp.HeartRate))
		s.Cadence = append(s.Cadence, smp.Cadence/2)
		s.Altitude = append(s.Altitude, smp.Altitude)
		s.Distance = append(s.Distance, smp.Distance)
		s.Velocity = append(s.Velocity, 3)
		s.LatLng = append(s.LatLng, [2]float64{smp.Lat, smp.Lon})
		s.Moving = append(s.Moving, !w.Paused(smp.Time))
	}
	s.Activity = Activity{
		ID: "123", SportType: "Run", DeviceName: "Mi Band 6", Start: w.Start,
		Elapsed: w.Elapsed(), Moving: moving, Distance: w.Distance(), Calories: 380, AvgHR: 150,
	}
	return s
}

func row(t *testing.T, rows []Row, name string) Row {
	t.Helper()
	for _, r := range rows {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no row %q in %+v", name, rows)
	return Row{}
}

func TestRowsMovingTime(t *testing.T) {
	paused := run([2]int{5, 6}, [2]int{12, 14}, [2]int{30, 31})
	plain := run()
	tests := []struct {
		name     string
		band     *workout.Workout
		moving   time.Duration
		note     string
		differs  bool
		stravaIs string
	}{
		{"pauses respected", paused, 36 * time.Minute, "Strava's moving time excludes 3 pauses, 4:00, as the band's timer does", false, "36:00"},
		{"no timer events", plain, 38*time.Minute + 30*time.Second, "Strava computes moving time itself from speed when the file has no timer events: it counted 1:30 as standing still", true, "38:30"},
		{"more left out", paused, 35 * time.Minute, "Strava left out 1:00 more than the band's 3 pauses: it also drops stretches it judges as standing still", true, "35:00"},
		{"pauses ignored", paused, 40 * time.Minute, "Strava ignored the band's 3 pauses (4:00) and counts the whole elapsed time as moving", true, "40:00"},
		{"same", plain, 40 * time.Minute, "", false, "40:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := row(t, Rows(tt.band, stravaOf(tt.band, tt.moving)), "Moving time")
			if r.Note != tt.note || r.Differs != tt.differs || r.Strava != tt.stravaIs {
				t.Errorf("moving row = %+v\nwant note %q, differs %v, strava %q", r, tt.note, tt.differs, tt.stravaIs)
			}
		})
	}
}

func TestRowsFromStreamsAlone(t *testing.T) {
	w := run([2]int{10, 12})
	s := stravaOf(w, 0)
	s.Activity = Activity{}
	rows := Rows(w, s)
	// Without the activity Strava's moving time comes from its moving
	// stream: the two-minute pause (a gap in the time stream) leaves 38:00
	// less the one sampling interval that straddles the pause's start.
	if r := row(t, rows, "Moving time"); r.Strava != "37:50" || r.Differs {
		t.Errorf("moving from streams = %+v, want 37:50 and no difference", r)
	}
	if r := row(t, rows, "Distance"); r.Strava != r.Band {
		t.Errorf("distance from streams = %+v, want the band's", r)
	}
	if r := row(t, rows, "Device"); r.Note != "" || r.Strava != none {
		t.Errorf("unknown device = %+v, want no note", r)
	}
}

func TestRowsNotes(t *testing.T) {
	w := run([2]int{5, 7})
	s := stravaOf(w, 38*time.Minute)
	s.Activity.DeviceName = "Huami Amazfit Pace"
	s.Activity.SportType = "Walk"
	s.Activity.AvgHR = 156
	s.Activity.Distance = w.Distance() + 250
	rows := Rows(w, s)
	for name, want := range map[string]string{
		"Device":             `Zepp's own Strava link (and bandsync's legacy identity) labels every band "Huami Amazfit Pace"`,
		"Sport type":         "Strava has it as Walk, not Run: guessed from the file by whoever uploaded it, or changed on strava.com",
		"Average heart rate": "Strava averages heart rate over moving time only; the band's figure includes the 1 pause",
		"Distance":           "Strava measures distance along the GPS track its own way, smoothing out jitter (+0.25 km)",
		"Calories":           "Strava estimates calories itself from heart rate and moving time; the band uses its own model over the whole workout",
		"Average pace":       "The band's app divides elapsed time (pauses included) by distance; Strava divides moving time, so its pace is faster",
	} {
		if r := row(t, rows, name); r.Note != want || !r.Differs {
			t.Errorf("%s row = %+v\nwant note %q", name, r, want)
		}
	}
	s.Activity.DeviceName = ""
	if r := row(t, Rows(w, s), "Device"); !strings.HasPrefix(r.Note, "Strava shows no device") {
		t.Errorf("no device: %+v", r)
	}
	s.Activity.DeviceName = "Amazfit Bip"
	if r := row(t, Rows(w, s), "Device"); !strings.Contains(r.Note, "device table") {
		t.Errorf("another device name: %+v", r)
	}
	// A ride has no pace row.
	w.Sport = workout.SportRide
	for _, r := range Rows(w, s) {
		if r.Name == "Average pace" {
			t.Errorf("a ride has a pace row: %+v", r)
		}
	}
}

func TestBuild(t *testing.T) {
	w := run([2]int{10, 12})
	s := stravaOf(w, 38*time.Minute)
	// Strava's activity starts 3 s after the band's: its points move with it.
	s.Activity.Start = w.Start.Add(3 * time.Second)
	c := Build(w, s)
	var keys []string
	for _, ch := range c.Charts {
		keys = append(keys, ch.Key)
		if !ch.Has(true) || !ch.Has(false) {
			t.Errorf("chart %s lacks a series", ch.Key)
		}
		if len(ch.Band) != len(ch.X) || len(ch.Strava) != len(ch.X) {
			t.Fatalf("chart %s: %d x, %d band, %d strava", ch.Key, len(ch.X), len(ch.Band), len(ch.Strava))
		}
		for i := 1; i < len(ch.X); i++ {
			if ch.X[i] <= ch.X[i-1] {
				t.Fatalf("chart %s: x not ascending at %d", ch.Key, i)
			}
		}
	}
	if diff := cmp.Diff([]string{"hr", "pace", "altitude", "cadence"}, keys); diff != "" {
		t.Errorf("charts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([][2]float64{{600, 720}}, c.Pauses); diff != "" {
		t.Errorf("pauses (-want +got):\n%s", diff)
	}
	hr := c.Charts[0]
	if hr.X[0] != 0 || hr.Band[0] != 130 || !math.IsNaN(hr.Strava[0]) || hr.X[1] != 3 || hr.Strava[1] != 130 {
		t.Errorf("heart rate starts x %v band %v strava %v, want Strava 3 s later", hr.X[:2], hr.Band[:2], hr.Strava[:2])
	}
	cad := c.Charts[3]
	if cad.Band[0] != 170 || cad.Strava[1] != 170 {
		t.Errorf("cadence band %v strava %v, want both 170 steps/min", cad.Band[0], cad.Strava[1])
	}
	// 30 m every 10 s is 3 m/s: 5:33 min/km, for the band and for Strava.
	pace := c.Charts[1]
	if got := pace.Band[len(pace.Band)-2]; math.Abs(got-1000.0/3/60) > 1e-9 {
		t.Errorf("band pace %v, want %v", got, 1000.0/3/60)
	}
	if len(c.BandTrack) != len(w.Samples) || len(c.StravaTrack) != len(w.Samples) {
		t.Errorf("tracks: %d band, %d Strava points, want %d", len(c.BandTrack), len(c.StravaTrack), len(w.Samples))
	}
}

func TestBuildBandOnly(t *testing.T) {
	w := run()
	c := Build(w, Streams{})
	if len(c.Charts) != 4 {
		t.Fatalf("%d charts, want 4", len(c.Charts))
	}
	for _, ch := range c.Charts {
		if ch.Has(false) {
			t.Errorf("chart %s has Strava points without streams", ch.Key)
		}
	}
	raw, err := json.Marshal(c.Charts[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"strava":[null,`) {
		t.Errorf("missing points are not null: %.120s", raw)
	}
}

func TestStreamsJSON(t *testing.T) {
	w := run([2]int{10, 12})
	s := stravaOf(w, 38*time.Minute)
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var got Streams
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

// stravaJSON is the shape Strava answers GET /activities/{id}/streams with
// key_by_type=true.
const stravaJSON = `{
 "time":{"data":[0,1,2,5],"series_type":"distance","original_size":4,"resolution":"high"},
 "latlng":{"data":[[40.1,-3.1],[40.2,-3.2],[40.3,-3.3],[40.4,-3.4]],"series_type":"distance","original_size":4,"resolution":"high"},
 "heartrate":{"data":[120,121,122],"series_type":"distance","original_size":3,"resolution":"high"},
 "moving":{"data":[false,true,true,true],"series_type":"distance","original_size":4,"resolution":"high"},
 "velocity_smooth":{"data":[0,2.5,2.5,2.4],"series_type":"distance","original_size":4,"resolution":"high"}}`

func TestFromStrava(t *testing.T) {
	act := `{"id":17,"resource_state":3,"name":"Morning Run","distance":12.5,"moving_time":5,"elapsed_time":5,
	  "sport_type":"Run","start_date":"2025-06-01T07:30:00Z","device_name":"Amazfit Bip 3","calories":1.5,"average_heartrate":121.5}`
	s, err := FromStrava([]byte(stravaJSON), []byte(act))
	if err != nil {
		t.Fatal(err)
	}
	want := Streams{
		Time:     []float64{0, 1, 2, 5},
		LatLng:   [][2]float64{{40.1, -3.1}, {40.2, -3.2}, {40.3, -3.3}, {40.4, -3.4}},
		Velocity: []float64{0, 2.5, 2.5, 2.4},
		Moving:   []bool{false, true, true, true},
		Activity: Activity{ID: "17", Name: "Morning Run", SportType: "Run", DeviceName: "Amazfit Bip 3", Start: start,
			Elapsed: 5 * time.Second, Moving: 5 * time.Second, Distance: 12.5, Calories: 1.5, AvgHR: 121.5},
	}
	// The heart-rate stream is one point short: it cannot be placed.
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("FromStrava (-want +got):\n%s", diff)
	}
}

func TestStreamsJSONRefuses(t *testing.T) {
	for name, in := range map[string]string{
		"backwards":  `{"time":{"data":[0,5,3]}}`,
		"negative":   `{"time":{"data":[-1,5]}}`,
		"bad id":     `{"activity":{"id":1.5}}`,
		"not json":   `{"time":`,
		"wrong type": `{"time":{"data":"x"}}`,
	} {
		var s Streams
		if err := s.UnmarshalJSON([]byte(in)); !errors.Is(err, ErrStreams) {
			t.Errorf("%s: error %v, want ErrStreams", name, err)
		}
	}
}

func FuzzStreamsJSON(f *testing.F) {
	f.Add([]byte(stravaJSON))
	raw, _ := json.Marshal(stravaOf(run([2]int{1, 2}), time.Minute))
	f.Add(raw)
	f.Add([]byte(`{"activity":{"id":12,"moving_time":1e300,"start_date":"2025-01-01T00:00:00Z"}}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		var s Streams
		if err := s.UnmarshalJSON(in); err != nil {
			return
		}
		out, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("decoded streams do not encode: %v", err)
		}
		var again Streams
		if err := again.UnmarshalJSON(out); err != nil {
			t.Fatalf("encoded streams do not decode: %v\n%s", err, out)
		}
		if diff := cmp.Diff(s, again); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
		w := run([2]int{1, 2})
		_ = Rows(w, s)
		c := Build(w, s)
		if _, err := json.Marshal(c); err != nil {
			t.Fatalf("comparison does not encode: %v", err)
		}
	})
}
