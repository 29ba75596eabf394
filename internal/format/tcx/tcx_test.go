package tcx

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bandsync/bandsync/internal/format/xmllint"
	"github.com/bandsync/bandsync/internal/workout"
)

var t0 = time.Date(2024, 5, 1, 6, 30, 0, 0, time.UTC)

func sec(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }

// synth builds n one-second samples of sport. Every tenth sample has no
// position, every seventh no heart rate; foot cadence is even so that it
// survives the strides-per-minute halving. Samples strictly inside a pause
// are left out, as bands do. Cumulative distance grows 3 m/s except in
// pauses.
func synth(sport workout.Sport, n int, pauses ...workout.Interval) *workout.Workout {
	wo := &workout.Workout{
		Start:  t0,
		Sport:  sport,
		Name:   "Lunch run",
		Device: workout.Device{Maker: "Zepp", Model: "Amazfit Bip 3", Product: 123, Serial: 4567890, Firmware: "0.132.24.1"},
		Pauses: pauses,
	}
	dist := 0.0
	for i := 0; i < n; i++ {
		s := workout.Sample{Time: sec(i)}
		if i > 0 && !wo.Paused(sec(i-1)) {
			dist += 3
		}
		if wo.Paused(s.Time) && !isPauseStart(s.Time, pauses) {
			continue
		}
		if i%10 != 3 {
			s.SetPosition(47.3+float64(i)*2.7e-5, 8.5+math.Sin(float64(i)/50)*1e-3)
		}
		s.SetAltitude(float64(i%5) - 1) // includes 0 m and below sea level
		s.SetDistance(dist)
		if i%7 != 0 {
			s.SetHeartRate(uint8(110 + i%60))
		}
		s.SetCadence(float64(164 + 2*(i%6)))
		s.SetSpeed(2.9 + float64(i%13)/10)
		s.SetPower(uint16(200 + i%50))
		wo.Samples = append(wo.Samples, s)
	}
	wo.Summary.Calories = 321
	return wo
}

func isPauseStart(t time.Time, pauses []workout.Interval) bool {
	for _, p := range pauses {
		if p.Start.Equal(t) {
			return true
		}
	}
	return false
}

func encode(t testing.TB, wo *workout.Workout) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, wo); err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return buf.Bytes()
}

func roundTrip(t *testing.T, wo *workout.Workout) (*workout.Workout, []byte) {
	t.Helper()
	doc := encode(t, wo)
	got, err := Decode(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("Decode: %v\n%s", err, doc)
	}
	return got, doc
}

const wrapperXSD = "testdata/schemas/tcx-ax.xsd"

func withLaps() *workout.Workout {
	pauses := []workout.Interval{{Start: sec(100), End: sec(160)}, {Start: sec(500), End: sec(530)}}
	wo := synth(workout.SportTrailRun, 700, pauses...)
	wo.Laps = []workout.Lap{
		{Start: sec(0), Elapsed: 400 * time.Second, Moving: 340 * time.Second, Distance: 1020, Calories: 150, AvgHR: 140, MaxHR: 169, Trigger: workout.LapManual},
		{Start: sec(400), Elapsed: 299 * time.Second, Moving: 269 * time.Second, Distance: 807, Calories: 171, AvgHR: 150, MaxHR: 168, Trigger: workout.LapTime},
	}
	return wo
}

func TestEncodeValidatesAgainstXSD(t *testing.T) {
	ride := synth(workout.SportRide, 1500, workout.Interval{Start: sec(600), End: sec(700)})
	walk := synth(workout.SportWalk, 50)
	walk.Device, walk.Name = workout.Device{}, ""
	for name, wo := range map[string]*workout.Workout{"laps": withLaps(), "km splits": ride, "one lap": walk} {
		t.Run(name, func(t *testing.T) {
			doc := encode(t, wo)
			for _, schema := range []string{"testdata/schemas/TrainingCenterDatabasev2.xsd", wrapperXSD} {
				if err := xmllint.Validate(t, schema, doc); err != nil {
					t.Errorf("%s rejects Encode's output: %v", schema, err)
				}
			}
		})
	}
}

// TestXSDCatchesBadExtensions proves the wrapper schema checks TPX content.
func TestXSDCatchesBadExtensions(t *testing.T) {
	doc := string(encode(t, synth(workout.SportRun, 3)))
	bad := strings.Replace(doc, "<RunCadence>83</RunCadence>", "<RunCadence>300</RunCadence>", 1)
	if bad == doc {
		t.Fatal("test setup: no RunCadence of 83 in the encoded document")
	}
	if err := xmllint.Validate(t, wrapperXSD, []byte(bad)); err == nil {
		t.Error("wrapper schema accepted RunCadence 300")
	}
}

func TestEncodeDocument(t *testing.T) {
	doc := string(encode(t, withLaps()))
	for _, want := range []string{
		`<Activity Sport="Running">`,
		`<Id>2024-05-01T06:30:00Z</Id>`,
		`<Lap StartTime="2024-05-01T06:36:40Z">`,
		`<TotalTimeSeconds>269</TotalTimeSeconds>`,
		`<TriggerMethod>Time</TriggerMethod>`,
		`<Creator xsi:type="Device_t">`,
		`<Name>Zepp Amazfit Bip 3</Name>`,
		`<UnitId>4567890</UnitId>`,
		`<Notes>Lunch run</Notes>`,
		`<TPX xmlns="http://www.garmin.com/xmlschemas/ActivityExtension/v2">`,
		// sample 1: cadence 166 steps/min = 83 strides/min
		`<Speed>3</Speed>`, `<RunCadence>83</RunCadence>`, `<Watts>201</Watts>`,
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("encoded TCX lacks %s", want)
		}
	}
	// One track per stretch between pauses: two in the first lap, two in the second.
	if got := strings.Count(doc, "<Track>"); got != 4 {
		t.Errorf("%d tracks, want 4", got)
	}
}

// TestRoundTrip checks Decode(Encode(w)) keeps every field TCX carries, and
// that the decoded workout encodes to the same document.
func TestRoundTrip(t *testing.T) {
	splits := synth(workout.SportRide, 1500, workout.Interval{Start: sec(600), End: sec(700)})
	splits.Name = ""
	oneLap := synth(workout.SportTreadmill, 50)
	oneLap.Device = workout.Device{Model: "Forerunner 265"}
	for i := range oneLap.Samples {
		oneLap.Samples[i].Has &^= workout.HasPosition
		oneLap.Samples[i].Lat, oneLap.Samples[i].Lon = 0, 0
	}
	oneLap.Summary = workout.Summary{Calories: 12, AvgHR: 133, MaxHR: 150, MaxSpeed: 4.5}
	for _, tc := range []struct {
		name      string
		in        *workout.Workout
		sport     workout.Sport
		laps      int
		wantLaps  []workout.Lap // nil: not checked
		elapsed   time.Duration
		moving    time.Duration
		calories  float64
		avgHR     int // -1: computed from samples, only checked for plausibility
		maxHR     int
		maxSpeed  float64
		firmware  string
		hasDevice bool
	}{
		{
			name: "laps and pauses", in: withLaps(), sport: workout.SportRun, laps: 2, wantLaps: withLaps().Laps,
			elapsed: 699 * time.Second, moving: 609 * time.Second, calories: 321,
			avgHR: int(math.Round((140*340 + 150*269) / 609.0)), maxHR: 169, maxSpeed: 2.9 + 1.2,
		},
		{
			name: "per-km splits", in: splits, sport: workout.SportRide, laps: 5, // 4197 m
			elapsed: 1499 * time.Second, moving: 1399 * time.Second, calories: 321, avgHR: -1, maxHR: 169, maxSpeed: 2.9 + 1.2,
		},
		{
			name: "one lap, no GPS", in: oneLap, sport: workout.SportRun, laps: 0,
			elapsed: 49 * time.Second, moving: 49 * time.Second, calories: 12, avgHR: 133, maxHR: 150, maxSpeed: 4.5,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, doc := roundTrip(t, tc.in)
			if diff := cmp.Diff(tc.in.Samples, got.Samples); diff != "" {
				t.Errorf("samples (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.in.Pauses, got.Pauses); diff != "" {
				t.Errorf("pauses (-want +got):\n%s", diff)
			}
			if tc.wantLaps != nil {
				if diff := cmp.Diff(tc.wantLaps, got.Laps); diff != "" {
					t.Errorf("laps (-want +got):\n%s", diff)
				}
			} else if tc.laps > 0 {
				splits := tc.in.Splits(workout.Kilometre)
				if len(got.Laps) != tc.laps || len(splits) != tc.laps {
					t.Fatalf("%d laps, %d per-km splits, want %d", len(got.Laps), len(splits), tc.laps)
				}
				var cal float64
				for i, l := range got.Laps {
					s := splits[i]
					if !l.Start.Equal(s.Start) || l.Moving != s.Moving || math.Abs(l.Distance-s.Distance) > 1e-9 || l.Trigger != workout.LapDistance {
						t.Errorf("lap %d = %+v, want split %+v", i, l, s)
					}
					cal += l.Calories
				}
				if cal != tc.calories {
					t.Errorf("split laps share %v kcal, want %v", cal, tc.calories)
				}
			} else if len(got.Laps) != 0 {
				t.Errorf("%d laps, want none (a single lap is the summary)", len(got.Laps))
			}
			sum := got.Summary
			if tc.avgHR < 0 {
				if sum.AvgHR < 110 || sum.AvgHR > 169 {
					t.Errorf("average HR %d outside the samples' 110-169", sum.AvgHR)
				}
				tc.avgHR = sum.AvgHR
			}
			if got.Sport != tc.sport || sum.Elapsed != tc.elapsed || sum.Moving != tc.moving || sum.Calories != tc.calories ||
				sum.AvgHR != tc.avgHR || sum.MaxHR != tc.maxHR || sum.MaxSpeed != tc.maxSpeed {
				t.Errorf("sport %v summary %+v\nwant sport %v elapsed %v moving %v kcal %v HR %d/%d max speed %v",
					got.Sport, sum, tc.sport, tc.elapsed, tc.moving, tc.calories, tc.avgHR, tc.maxHR, tc.maxSpeed)
			}
			if last := tc.in.Samples[len(tc.in.Samples)-1]; math.Abs(sum.Distance-last.Distance) > 1e-9 {
				t.Errorf("summary distance %v, want %v", sum.Distance, last.Distance)
			}
			if !got.Start.Equal(tc.in.Start) || got.Name != tc.in.Name || got.Device != tc.in.Device {
				t.Errorf("start %v name %q device %+v, want %v %q %+v", got.Start, got.Name, got.Device, tc.in.Start, tc.in.Name, tc.in.Device)
			}
			if len(got.Notes) != 0 {
				t.Errorf("unexpected repair notes: %q", got.Notes)
			}
			if again := encode(t, got); !bytes.Equal(doc, again) {
				t.Errorf("re-encoding the decoded workout changed the TCX:\n%s", cmp.Diff(string(doc), string(again)))
			}
		})
	}
}

func TestDecodeFixtures(t *testing.T) {
	for _, tc := range []struct {
		file  string
		speed bool
	}{
		{"garmin_reference_run.tcx", true},
		{"zepp-sportcsv_generated_run.tcx", false},
	} {
		t.Run(tc.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			wo, err := Decode(f)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Date(2026, 6, 19, 4, 43, 15, 0, time.UTC)
			if !wo.Start.Equal(start) || wo.Sport != workout.SportRun || len(wo.Laps) != 0 || wo.Device != (workout.Device{}) {
				t.Errorf("start %v sport %v laps %d device %+v", wo.Start, wo.Sport, len(wo.Laps), wo.Device)
			}
			want := workout.Summary{Distance: 7534, Moving: 2539 * time.Second, Elapsed: 2539 * time.Second, Calories: 526}
			if tc.speed {
				want.MaxSpeed = 2.9673099645529737
			}
			if diff := cmp.Diff(want, wo.Summary); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
			var s0, s1 workout.Sample
			s0.Time = start
			s0.SetDistance(0)
			s1.Time = time.Date(2026, 6, 19, 5, 25, 34, 0, time.UTC)
			s1.SetDistance(7534)
			if tc.speed {
				s1.SetSpeed(2.9670000076293945)
			}
			if diff := cmp.Diff([]workout.Sample{s0, s1}, wo.Samples); diff != "" {
				t.Errorf("samples (-want +got):\n%s", diff)
			}
		})
	}
}

const tcxHead = `<?xml version="1.0" encoding="UTF-8"?>
<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2" xmlns:ax="http://www.garmin.com/xmlschemas/ActivityExtension/v2">
<Activities><Activity Sport="%s"><Id>2024-01-01T10:00:00Z</Id><Lap StartTime="2024-01-01T10:00:00Z">
<TotalTimeSeconds>10</TotalTimeSeconds><DistanceMeters>20</DistanceMeters><Calories>1</Calories><Intensity>Active</Intensity><TriggerMethod>Manual</TriggerMethod>
<Track>%s</Track></Lap></Activity></Activities></TrainingCenterDatabase>`

func TestDecodeTolerance(t *testing.T) {
	in := fmt.Sprintf(tcxHead, "Biking", `
<Trackpoint><Time>2024-01-01T10:00:00</Time><Position><LatitudeDegrees>95</LatitudeDegrees><LongitudeDegrees>8</LongitudeDegrees></Position><HeartRateBpm><Value>0</Value></HeartRateBpm><Cadence>90</Cadence></Trackpoint>
<Trackpoint><AltitudeMeters>3</AltitudeMeters></Trackpoint>
<Trackpoint><Time> 2024-01-01T10:00:05.5Z </Time><HeartRateBpm><Value> 140.0 </Value></HeartRateBpm><Extensions><ax:TPX><ax:RunCadence>80</ax:RunCadence><ax:Watts>250</ax:Watts></ax:TPX></Extensions></Trackpoint>`)
	wo, err := Decode(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(wo.Samples) != 2 || wo.Sport != workout.SportRide {
		t.Fatalf("%d samples sport %v, want 2 and ride", len(wo.Samples), wo.Sport)
	}
	a, b := wo.Samples[0], wo.Samples[1]
	if a.Has != workout.HasCadence || a.Cadence != 90 {
		t.Errorf("first sample %+v: want only its bike cadence of 90 (lat 95 and HR 0 dropped)", a)
	}
	if !b.Time.Equal(time.Date(2024, 1, 1, 10, 0, 5, 5e8, time.UTC)) || b.HeartRate != 140 || b.Cadence != 160 || b.Power != 250 {
		t.Errorf("second sample %+v: want HR 140, run cadence 160 steps/min, 250 W", b)
	}
	notes := strings.Join(wo.Notes, "\n")
	for _, want := range []string{"1 trackpoints without a time", "1 trackpoints with impossible coordinates", "1 heart-rate reading"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes %q lack %q", notes, want)
		}
	}
	for attr, want := range map[string]workout.Sport{"Running": workout.SportRun, "Other": workout.SportOther, "Walking": workout.SportWalk, "Hiking": workout.SportHike} {
		wo, err := Decode(strings.NewReader(fmt.Sprintf(tcxHead, attr, `<Trackpoint><Time>2024-01-01T10:00:00Z</Time></Trackpoint>`)))
		if err != nil || wo.Sport != want {
			t.Errorf("Sport=%q: %v, %v; want %v", attr, wo.Sport, err, want)
		}
	}
}

func TestDecodeBadInput(t *testing.T) {
	ref, err := os.ReadFile("testdata/garmin_reference_run.tcx")
	if err != nil {
		t.Fatal(err)
	}
	cut := ref[:900]
	for _, tc := range []struct {
		name, in string
		is       error
		contains string
	}{
		{name: "empty", in: "", contains: "empty"},
		{name: "not XML", in: "just some text", contains: "not XML"},
		{name: "binary", in: "\x00\x01<\xfe", contains: "XML syntax error"},
		// The XML decoder names the line where the document broke off.
		{name: "truncated", in: string(cut), contains: fmt.Sprintf("line %d: unexpected EOF", bytes.Count(cut, []byte("\n"))+1)},
		{name: "GPX", in: `<gpx version="1.1"><trk/></gpx>`, contains: "<gpx>"},
		{name: "no activity", in: `<TrainingCenterDatabase><Activities/></TrainingCenterDatabase>`, is: ErrNoActivity},
		{name: "empty activity", in: `<TrainingCenterDatabase><Activities><Activity Sport="Running"/></Activities></TrainingCenterDatabase>`, is: ErrNoActivity},
		{name: "bad number", in: fmt.Sprintf(tcxHead, "Running", `<Trackpoint><Time>2024-01-01T10:00:00Z</Time><DistanceMeters>far</DistanceMeters></Trackpoint>`), contains: `"far"`},
		{name: "bad time", in: fmt.Sprintf(tcxHead, "Running", `<Trackpoint><Time>noon</Time></Trackpoint>`), contains: `"noon"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wo, err := Decode(strings.NewReader(tc.in))
			if err == nil {
				t.Fatalf("Decode succeeded with %d samples, want an error", len(wo.Samples))
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q, want %q", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("error %q does not mention %q", err, tc.contains)
			}
		})
	}
}

func TestFirmwareVersion(t *testing.T) {
	for fw, want := range map[string]string{"0.132.24.1": "0.132.24.1", "2.10": "2.10", "1.2.3": "1.2.3", "V1.0a": "", "1": "", "70000.1": "", "": ""} {
		got := decodeDevice(&creator{Name: "Zepp X", Version: encodeVersion(fw)}).Firmware
		if got != want {
			t.Errorf("firmware %q reads back as %q, want %q", fw, got, want)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	wo := synth(workout.SportRun, 3600)
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := Encode(&buf, wo); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
}

func BenchmarkDecode(b *testing.B) {
	doc := encode(b, synth(workout.SportRun, 3600))
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(bytes.NewReader(doc)); err != nil {
			b.Fatal(err)
		}
	}
}

// TestWalkRoundTrip: Sport_t has no walking, so a walk reads back as other,
// with its step cadence intact.
func TestWalkRoundTrip(t *testing.T) {
	in := synth(workout.SportWalk, 30)
	got, doc := roundTrip(t, in)
	if !bytes.Contains(doc, []byte(`Sport="Other"`)) || !bytes.Contains(doc, []byte("<RunCadence>82</RunCadence>")) {
		t.Errorf("walk not written as Sport=Other with RunCadence in strides")
	}
	if got.Sport != workout.SportOther {
		t.Errorf("sport %v, want other", got.Sport)
	}
	if diff := cmp.Diff(in.Samples, got.Samples); diff != "" {
		t.Errorf("samples (-want +got):\n%s", diff)
	}
}

// TestEncodeCorruptTotals: a decoded file with absurd values must still
// encode, quickly (per-km laps of 1e15 m would never finish).
func TestEncodeCorruptTotals(t *testing.T) {
	in := fmt.Sprintf(tcxHead, "Running", `<Trackpoint><Time>2024-01-01T10:00:00Z</Time><DistanceMeters>1e15</DistanceMeters></Trackpoint>`+
		`<Trackpoint><Time>2024-01-01T10:00:01Z</Time><DistanceMeters>5</DistanceMeters></Trackpoint>`)
	wo, err := Decode(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	wo.Summary.Distance, wo.Summary.Calories = math.Inf(1), math.NaN()
	doc := encode(t, wo)
	if n := bytes.Count(doc, []byte("<Lap ")); n != 1 {
		t.Errorf("%d laps, want 1", n)
	}
}
