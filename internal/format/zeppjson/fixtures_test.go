package zeppjson

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bandsync/bandsync/internal/workout"
)

// The fixtures are real cloud responses from H3llK33p3r/zepp-fit-extractor
// (Apache-2.0, see testdata/README.md); expected-invariants.derived.json
// holds aggregates derived from them independently of this decoder.
var fixtureNames = []string{"run_1698569116", "walk_1542558074", "swimming_1654683111"}

func readFixture(t testing.TB, name string) (summary, detail []byte) {
	t.Helper()
	var err error
	if summary, err = os.ReadFile(filepath.Join("testdata", name+"_summary.json")); err != nil {
		t.Fatal(err)
	}
	if detail, err = os.ReadFile(filepath.Join("testdata", name+"_detail.json")); err != nil {
		t.Fatal(err)
	}
	return summary, detail
}

type invariants struct {
	TrackID          int64          `json:"trackid"`
	Source           string         `json:"source"`
	Type             int            `json:"type"`
	VersionSummary   int            `json:"version_summary"`
	VersionDetail    int            `json:"version_detail"`
	Elapsed          int64          `json:"elapsed_s_end_minus_trackid"`
	RunTime          int64          `json:"run_time_s"`
	Dis              float64        `json:"dis_m"`
	TimeEntries      int            `json:"time_entries"`
	TimeSum          int32          `json:"time_sum_s"`
	TimeZeroDeltas   int            `json:"time_zero_deltas"`
	LatLonEntries    int            `json:"latlon_entries"`
	LatLonEmpty      int            `json:"latlon_empty_entries"`
	FirstPoint       []float64      `json:"first_point_deg"`
	LastPoint        []float64      `json:"last_point_deg"`
	LastPointOffset  int64          `json:"last_point_offset_s"`
	AltEntries       int            `json:"altitude_entries"`
	AltSentinels     int            `json:"altitude_sentinel_-2000000_count"`
	AltMinMax        []float64      `json:"altitude_valid_min_max_m"`
	HREntries        int            `json:"hr_entries"`
	HREmptyDt        int            `json:"hr_empty_dt_entries"`
	HRDtSum          int32          `json:"hr_dt_sum_s_empty_as_1"`
	HRMinMaxMean     []float64      `json:"hr_min_max_mean_bpm_nonzero"`
	HRAllZero        bool           `json:"hr_all_zero"`
	SummaryHR        []any          `json:"summary_avg_max_min_hr"`
	GaitEntries      int            `json:"gait_entries"`
	GaitDtSum        int32          `json:"gait_dt_sum_s"`
	GaitStepSum      int64          `json:"gait_step_sum"`
	SummarySteps     int            `json:"summary_total_step"`
	GaitCadence      []float64      `json:"gait_cadence_spm_mean_max_nonzero"`
	SummaryFrequency []any          `json:"summary_avg_frequency_max_frequency"`
	DistEntries      int            `json:"distance_entries"`
	DistDtSum        int32          `json:"distance_dt_sum_s"`
	DistSum          float64        `json:"distance_delta_sum_m"`
	SpeedEntries     int            `json:"speed_entries"`
	SpeedDtSum       int32          `json:"speed_dt_sum_s"`
	SpeedMax         float64        `json:"speed_max_mps"`
	Pauses           []pauseInvRow  `json:"pauses"`
	PauseTotal       int64          `json:"pause_total_s"`
	KiloRows         int            `json:"kilo_pace_rows"`
	MileRows         int            `json:"mile_pace_rows"`
	LapRows          int            `json:"lap_rows"`
	Extra            map[string]any `json:"-"`
}

type pauseInvRow struct {
	Start    int64 `json:"start_unix"`
	Offset   int64 `json:"offset_from_trackid_s"`
	Duration int64 `json:"duration_s"`
	Type     int   `json:"type"`
}

func loadInvariants(t *testing.T) map[string]invariants {
	t.Helper()
	b, err := os.ReadFile("testdata/expected-invariants.derived.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Workouts map[string]invariants `json:"workouts"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Workouts) != len(fixtureNames) {
		t.Fatalf("invariants list %d workouts, want %d", len(f.Workouts), len(fixtureNames))
	}
	return f.Workouts
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func lastOffOf(pts []valPoint) int32 {
	if len(pts) == 0 {
		return 0
	}
	return pts[len(pts)-1].off
}

// TestFixtureStreams checks the stream layer (parseDetail) against every
// per-stream invariant.
func TestFixtureStreams(t *testing.T) {
	for name, want := range loadInvariants(t) {
		t.Run(name, func(t *testing.T) {
			summary, raw := readFixture(t, name)
			s, err := DecodeSummary(summary)
			if err != nil {
				t.Fatal(err)
			}
			d, err := parseDetail(raw)
			if err != nil {
				t.Fatal(err)
			}
			check := func(what string, got, want any) {
				t.Helper()
				if got != want {
					t.Errorf("%s = %v, want %v", what, got, want)
				}
			}
			check("summary trackid", s.TrackID, want.TrackID)
			check("detail trackid", d.trackID, want.TrackID)
			check("summary source", s.Source, want.Source)
			check("detail source", d.source, want.Source)
			check("type", s.Type, want.Type)
			check("summary version", s.Version, want.VersionSummary)
			check("detail version", d.version, want.VersionDetail)
			check("end_time-trackid", s.EndTime-s.TrackID, want.Elapsed)
			check("run_time", s.RunTime, want.RunTime)
			check("dis", s.Distance, want.Dis)

			check("time entries", d.timeEntries, want.TimeEntries)
			check("time zero deltas", d.timeZeroDeltas, want.TimeZeroDeltas)
			if len(d.gps) > 0 {
				check("time sum", d.gps[len(d.gps)-1].off, want.TimeSum)
			}
			check("latlon entries", d.llEntries, want.LatLonEntries)
			check("latlon empty", d.llEmpty, want.LatLonEmpty)
			check("altitude entries", d.altEntries, want.AltEntries)
			check("altitude sentinels", d.altSentinels, want.AltSentinels)

			check("hr entries", len(d.hr), want.HREntries)
			check("hr empty dt", d.hrEmptyDt, want.HREmptyDt)
			check("hr dt sum", lastOffOf(d.hr), want.HRDtSum)
			var hrMin, hrMax, hrSum, hrN float64
			for _, p := range d.hr {
				if p.v == 0 {
					continue
				}
				if hrN == 0 || p.v < hrMin {
					hrMin = p.v
				}
				hrMax, hrSum, hrN = math.Max(hrMax, p.v), hrSum+p.v, hrN+1
			}
			if want.HRAllZero {
				check("non-zero hr readings", hrN, 0.0)
			} else {
				check("hr min", hrMin, want.HRMinMaxMean[0])
				check("hr max", hrMax, want.HRMinMaxMean[1])
				if !near(hrSum/hrN, want.HRMinMaxMean[2], 0.005) {
					t.Errorf("hr mean = %.3f, want %.2f", hrSum/hrN, want.HRMinMaxMean[2])
				}
			}
			check("summary avg hr", float64(s.AvgHR), mustFloat(t, want.SummaryHR[0]))
			check("summary max hr", float64(s.MaxHR), mustFloat(t, want.SummaryHR[1]))
			check("summary min hr", float64(s.MinHR), mustFloat(t, want.SummaryHR[2]))

			check("gait entries", len(d.gait), want.GaitEntries)
			check("gait dt sum", lastOffOf(d.gait), want.GaitDtSum)
			check("gait steps", d.gaitSteps, want.GaitStepSum)
			check("total_step", s.Steps, want.SummarySteps)
			if want.GaitCadence != nil {
				var sum, n, mx float64
				for _, p := range d.gait {
					if p.v != 0 {
						sum, n, mx = sum+p.v, n+1, math.Max(mx, p.v)
					}
				}
				if !near(sum/n, want.GaitCadence[0], 0.005) || mx != want.GaitCadence[1] {
					t.Errorf("gait cadence mean/max = %.3f/%v, want %v", sum/n, mx, want.GaitCadence)
				}
				check("avg_frequency", s.AvgFrequency, mustFloat(t, want.SummaryFrequency[0]))
				check("max_frequency", float64(s.MaxFrequency), mustFloat(t, want.SummaryFrequency[1]))
			}

			check("distance entries", len(d.distance), want.DistEntries)
			check("distance dt sum", lastOffOf(d.distance), want.DistDtSum)
			if n := len(d.distance); n > 0 {
				check("distance sum", d.distance[n-1].v, want.DistSum)
			}
			check("speed entries", len(d.speed), want.SpeedEntries)
			check("speed dt sum", lastOffOf(d.speed), want.SpeedDtSum)
			mx := 0.0
			for _, p := range d.speed {
				mx = math.Max(mx, p.v)
			}
			check("speed max", mx, want.SpeedMax)

			check("pause rows", len(d.pauses), len(want.Pauses))
			for i, p := range want.Pauses {
				if i < len(d.pauses) {
					got := d.pauses[i]
					check("pause start", got.start, p.Start)
					check("pause offset", got.start-d.trackID, p.Offset)
					check("pause duration", got.dur, p.Duration)
					check("pause type", got.typ, p.Type)
				}
			}
			check("kilo_pace rows", len(d.kilo), want.KiloRows)
			check("mile_pace rows", d.mileRows, want.MileRows)
			check("lap rows", len(d.laps), want.LapRows)
		})
	}
}

func mustFloat(t *testing.T, v any) float64 {
	t.Helper()
	switch v := v.(type) {
	case float64:
		return v
	case string:
		f, err := parseFloat([]byte(v))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	t.Fatalf("unexpected %T", v)
	return 0
}

// TestFixtureWorkouts checks the decoded workouts against the invariants
// and the facts the reference states about each fixture.
func TestFixtureWorkouts(t *testing.T) {
	for name, want := range loadInvariants(t) {
		t.Run(name, func(t *testing.T) {
			w, err := Decode(readFixture(t, name))
			if err != nil {
				t.Fatal(err)
			}
			start := time.Unix(want.TrackID, 0).UTC()
			if !w.Start.Equal(start) || w.Start.Location() != time.UTC {
				t.Errorf("Start = %v, want %v UTC", w.Start, start)
			}
			if w.Origin != (workout.Origin{Source: "zepp", ID: itoa(want.TrackID)}) {
				t.Errorf("Origin = %+v", w.Origin)
			}
			if sport, _ := workout.SportFromZepp(want.Type); w.Sport != sport {
				t.Errorf("Sport = %v, want %v", w.Sport, sport)
			}
			if got := w.Summary.Elapsed; got != time.Duration(want.Elapsed)*time.Second {
				t.Errorf("Elapsed = %v, want %d s", got, want.Elapsed)
			}
			if got := w.Summary.Moving; got != time.Duration(want.RunTime)*time.Second {
				t.Errorf("Moving = %v, want %d s", got, want.RunTime)
			}
			if w.Summary.Distance != want.Dis {
				t.Errorf("Distance = %v, want %v", w.Summary.Distance, want.Dis)
			}
			// every sample's time is on a stream timestamp, strictly increasing
			for i := 1; i < len(w.Samples); i++ {
				if !w.Samples[i].Time.After(w.Samples[i-1].Time) {
					t.Fatalf("sample %d not after sample %d", i, i-1)
				}
			}
			var pos []workout.Sample
			altMin, altMax := math.Inf(1), math.Inf(-1)
			for _, s := range w.Samples {
				if s.Has == 0 {
					t.Fatalf("empty sample at %v", s.Time)
				}
				if s.Has&workout.HasPosition != 0 {
					pos = append(pos, s)
				}
				if s.Has&workout.HasAltitude != 0 {
					altMin, altMax = math.Min(altMin, s.Altitude), math.Max(altMax, s.Altitude)
				}
				if s.Has&workout.HasHeartRate != 0 && !workout.ValidHeartRate(int(s.HeartRate)) {
					t.Errorf("implausible heart rate %d kept at %v", s.HeartRate, s.Time)
				}
			}
			// positions: one per distinct GPS second (an entry with Δt=0
			// after the first shares its predecessor's second)
			shared := want.TimeZeroDeltas
			if len(pos) > 0 && pos[0].Time.Equal(w.Start) {
				shared-- // the first entry's Δt=0 is from the trackid
			}
			if got, wantN := len(pos), want.LatLonEntries-want.LatLonEmpty-shared; got != wantN {
				t.Errorf("%d samples with a position, want %d", got, wantN)
			}
			if want.FirstPoint != nil {
				first, last := pos[0], pos[len(pos)-1]
				if first.Lat != want.FirstPoint[0] || first.Lon != want.FirstPoint[1] {
					t.Errorf("first position %v,%v, want %v", first.Lat, first.Lon, want.FirstPoint)
				}
				if last.Lat != want.LastPoint[0] || last.Lon != want.LastPoint[1] {
					t.Errorf("last position %v,%v, want %v", last.Lat, last.Lon, want.LastPoint)
				}
				if off := int64(last.Time.Sub(w.Start) / time.Second); off != want.LastPointOffset {
					t.Errorf("last position at +%d s, want +%d s", off, want.LastPointOffset)
				}
				if altMin != want.AltMinMax[0] || altMax != want.AltMinMax[1] {
					t.Errorf("altitude %v…%v m, want %v", altMin, altMax, want.AltMinMax)
				}
			}
			if len(want.Pauses) != len(w.Pauses) {
				t.Fatalf("%d pauses, want %d", len(w.Pauses), len(want.Pauses))
			}
			var paused time.Duration
			for i, p := range want.Pauses {
				got := w.Pauses[i]
				if got.Start.Unix() != p.Start || got.Duration() != time.Duration(p.Duration)*time.Second {
					t.Errorf("pause %d = %v+%v, want %d+%ds", i, got.Start, got.Duration(), p.Start, p.Duration)
				}
				paused += got.Duration()
			}
			if paused != time.Duration(want.PauseTotal)*time.Second {
				t.Errorf("paused %v, want %d s", paused, want.PauseTotal)
			}
			// moving time: elapsed minus the pauses, which the reported
			// run_time matches within the reference's ±3 s
			moving := workout.MovingTime(w.Start, w.Elapsed(), w.Pauses)
			if moving != time.Duration(want.Elapsed-want.PauseTotal)*time.Second {
				t.Errorf("MovingTime = %v, want elapsed-pauses = %d s", moving, want.Elapsed-want.PauseTotal)
			}
			if d := moving - w.Moving(); d < -3*time.Second || d > 3*time.Second {
				t.Errorf("MovingTime %v and run_time %v differ by more than 3 s", moving, w.Moving())
			}
			if got := len(w.Laps); got != max(want.KiloRows, want.LapRows) {
				t.Errorf("%d laps, want %d", got, max(want.KiloRows, want.LapRows))
			}
		})
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestFixtureSpecifics(t *testing.T) {
	t.Run("walk: the gaode location provider is noted (GCJ-02 inside China)", func(t *testing.T) {
		w, err := Decode(readFixture(t, "walk_1542558074"))
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, n := range w.Notes {
			found = found || strings.Contains(n, "gaode")
		}
		if !found {
			t.Errorf("no note names the gaode provider: %q", w.Notes)
		}
		run, err := Decode(readFixture(t, "run_1698569116"))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range run.Notes {
			if strings.Contains(n, "gaode") {
				t.Errorf("the run has no provider but got %q", n)
			}
		}
	})
	t.Run("swim: no GPS, no heart rate, laps and pool totals kept", func(t *testing.T) {
		w, err := Decode(readFixture(t, "swimming_1654683111"))
		if err != nil {
			t.Fatal(err)
		}
		if w.HasGPS() {
			t.Error("swim has GPS samples")
		}
		var withCadence int
		for _, s := range w.Samples {
			if s.Has&(workout.HasHeartRate|workout.HasPosition|workout.HasAltitude) != 0 {
				t.Fatalf("swim sample at %v has %b", s.Time, s.Has)
			}
			if s.Has&workout.HasCadence != 0 {
				withCadence++
			}
		}
		if withCadence == 0 {
			t.Error("stroke_speed gave no cadence")
		}
		sm := w.Summary
		if sm.PoolLength != 25 || sm.Strokes != 584 || sm.Stroke != workout.StrokeFreestyle || sm.AvgHR != 0 || sm.MaxHR != 0 {
			t.Errorf("summary = %+v", sm)
		}
		if !near(sm.MaxCadence, 56, 1e-5) || !near(sm.AvgCadence, 25, 1e-5) {
			t.Errorf("stroke rate avg/max = %v/%v per min, want 25/56", sm.AvgCadence, sm.MaxCadence)
		}
		// lap rows: idx,moving_s,distance_m,…,avg_hr,cum_s (col 9 = moving/distance)
		wantLaps := []workout.Lap{
			{Start: w.Start, Elapsed: 319 * time.Second, Moving: 319 * time.Second, Distance: 236},
			{Start: w.Start.Add(319 * time.Second), Elapsed: 715 * time.Second, Moving: 706 * time.Second, Distance: 512},
		}
		if len(w.Laps) != len(wantLaps) {
			t.Fatalf("laps = %+v", w.Laps)
		}
		for i, l := range wantLaps {
			if w.Laps[i] != l {
				t.Errorf("lap %d = %+v, want %+v", i, w.Laps[i], l)
			}
		}
		if len(w.Lengths) != 0 {
			t.Errorf("invented %d lengths", len(w.Lengths))
		}
		if !hasNote(w, "40 pool lengths") || !hasNote(w, "only 0 bpm") {
			t.Errorf("notes = %q", w.Notes)
		}
		s, _ := readFixture(t, "swimming_1654683111")
		sum, _ := DecodeSummary(s)
		if sum.Trips != 40 || sum.PoolLength != 25 || sum.SWOLF != 48 || sum.SwimStyle != 2 {
			t.Errorf("typed summary = %+v", sum)
		}
	})
	t.Run("walk: Mi Band, km laps with heart rate, outliers noted", func(t *testing.T) {
		w, err := Decode(readFixture(t, "walk_1542558074"))
		if err != nil {
			t.Fatal(err)
		}
		if w.Device != (workout.Device{Maker: "Zepp", Model: "Mi Band"}) {
			t.Errorf("Device = %+v", w.Device)
		}
		// kilo_pace: 0,724,…,116,725;1,802,…,118,1527;2,805,…,118,2388
		want := []struct{ moving, elapsed, hr int }{{724, 725, 116}, {802, 802, 118}, {805, 861, 118}}
		for i, l := range w.Laps {
			wl := want[i]
			if l.Moving != time.Duration(wl.moving)*time.Second || l.Elapsed != time.Duration(wl.elapsed)*time.Second ||
				l.AvgHR != wl.hr || l.Distance != 1000 || l.Trigger != workout.LapDistance {
				t.Errorf("lap %d = %+v, want %+v", i, l, wl)
			}
		}
		// the third km holds the 6+2+47 s pauses: moving = elapsed - 55 (±1)
		if l := w.Laps[2]; workout.MovingTime(l.Start, l.Elapsed, w.Pauses) != 806*time.Second {
			t.Errorf("lap 3 moving by pauses = %v", workout.MovingTime(l.Start, l.Elapsed, w.Pauses))
		}
		if !hasNote(w, "gait cadence values outside") {
			t.Errorf("notes = %q", w.Notes)
		}
		for _, s := range w.Samples {
			if s.Has&workout.HasCadence != 0 && s.Cadence > 300 {
				t.Fatalf("cadence outlier %v kept", s.Cadence)
			}
		}
	})
	t.Run("run: faithful samples, km splits", func(t *testing.T) {
		w, err := Decode(readFixture(t, "run_1698569116"))
		if err != nil {
			t.Fatal(err)
		}
		if w.Device != (workout.Device{Maker: "Zepp"}) || w.Zone.Known {
			t.Errorf("Device %+v, Zone %+v", w.Device, w.Zone)
		}
		if len(w.Notes) != 0 {
			t.Errorf("clean run has notes %q", w.Notes)
		}
		// the first sample (+0 s) is GPS only: its altitude is a sentinel
		// and heart_rate starts at +1 s
		if s := w.Samples[0]; s.Has != workout.HasPosition || !s.Time.Equal(w.Start) {
			t.Errorf("first sample = %+v", s)
		}
		if s := w.Samples[1]; s.Has&workout.HasHeartRate == 0 || s.HeartRate != 81 {
			t.Errorf("second sample = %+v, want heart rate 81", s)
		}
		last := w.Samples[len(w.Samples)-1]
		if last.Distance != 9960 || last.Time.Sub(w.Start) != 3157*time.Second {
			t.Errorf("last sample = %+v", last)
		}
		if len(w.Laps) != 9 || w.Laps[0].Elapsed != 327*time.Second || w.Laps[8].End().Sub(w.Start) != 2874*time.Second {
			t.Errorf("laps = %+v", w.Laps)
		}
		if w.Summary.TrainingEffect != 5 || !near(w.Summary.MaxSpeed, 4.926, 0.001) || w.Summary.Steps != 8996 {
			t.Errorf("summary = %+v", w.Summary)
		}
		// kilo_pace geohash of km 1 matches the decoded track there
		e := encoder{w: w, t0: w.Start.Unix()}
		if got := e.geohashAt(w.Laps[0].End()); got[:7] != "u0frcyx" {
			t.Errorf("geohash at km 1 = %s, want u0frcyx…", got)
		}
	})
}

func hasNote(w *workout.Workout, sub string) bool {
	for _, n := range w.Notes {
		if strings.Contains(n, sub) {
			return true
		}
	}
	return false
}
