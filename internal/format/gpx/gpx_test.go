package gpx

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

// synthRun builds a run of n one-second samples. Every tenth sample has no
// position (an HR-only reading, as bands record before a GPS fix), every
// seventh has no heart rate. Cadence is even, so it survives the
// strides-per-minute halving exactly. Samples strictly inside a pause are
// left out, as bands do.
func synthRun(n int, pauses ...workout.Interval) *workout.Workout {
	wo := &workout.Workout{
		Start:  t0,
		Sport:  workout.SportTrailRun,
		Name:   "Morning trail",
		Device: workout.Device{Maker: "Zepp", Model: "Amazfit Bip 3"},
		Pauses: pauses,
	}
	for i := 0; i < n; i++ {
		s := workout.Sample{Time: t0.Add(time.Duration(i) * time.Second)}
		if (&workout.Workout{Pauses: pauses}).Paused(s.Time) && !isPauseStart(s.Time, pauses) {
			continue
		}
		if i%10 != 3 {
			s.SetPosition(47.3+float64(i)*2.7e-5, 8.5+math.Sin(float64(i)/50)*1e-3)
			s.SetAltitude(410.25 + 12*math.Sin(float64(i)/300))
			s.SetSpeed(2.9 + float64(i%13)/10)
		}
		if i%7 != 0 {
			s.SetHeartRate(uint8(110 + i%60))
		}
		s.SetCadence(float64(164 + 2*(i%6)))
		wo.Samples = append(wo.Samples, s)
	}
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

func decodeFile(t *testing.T, name string) *workout.Workout {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	wo, err := Decode(f)
	if err != nil {
		t.Fatalf("Decode(%s): %v", name, err)
	}
	return wo
}

const wrapperXSD = "testdata/schemas/gpx-tpx.xsd"

func TestEncodeValidatesAgainstXSD(t *testing.T) {
	pauses := []workout.Interval{{Start: t0.Add(100 * time.Second), End: t0.Add(160 * time.Second)}}
	walk := synthRun(120)
	walk.Sport, walk.Device, walk.Name = workout.SportWalk, workout.Device{}, ""
	ride := synthRun(90)
	ride.Sport = workout.SportRide
	for name, wo := range map[string]*workout.Workout{
		"run with pause": synthRun(300, pauses...),
		"walk no device": walk,
		"ride":           ride,
	} {
		t.Run(name, func(t *testing.T) {
			doc := encode(t, wo)
			for _, schema := range []string{"testdata/schemas/gpx.xsd", wrapperXSD} {
				if err := xmllint.Validate(t, schema, doc); err != nil {
					t.Errorf("%s rejects Encode's output: %v", schema, err)
				}
			}
		})
	}
}

// TestXSDCatchesBadExtensions proves the wrapper schema checks extension
// content, so TestEncodeValidatesAgainstXSD would catch a bad hr.
func TestXSDCatchesBadExtensions(t *testing.T) {
	doc := string(encode(t, synthRun(3)))
	bad := strings.Replace(doc, "<gpxtpx:hr>111</gpxtpx:hr>", "<gpxtpx:hr>0</gpxtpx:hr>", 1)
	if bad == doc {
		t.Fatal("test setup: no hr of 111 in the encoded document")
	}
	if err := xmllint.Validate(t, wrapperXSD, []byte(bad)); err == nil {
		t.Error("wrapper schema accepted hr = 0")
	}
}

func TestEncodeDocument(t *testing.T) {
	doc := string(encode(t, synthRun(20)))
	for _, want := range []string{
		`creator="Zepp Amazfit Bip 3 (via bandsync)"`,
		`version="1.1"`,
		`xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v2"`,
		`<time>2024-05-01T06:30:00Z</time>`,
		`<type>trail-run</type>`,
		`<name>Morning trail</name>`,
		// sample 1: HR 111, cadence 166 steps/min = 83 strides/min
		`<gpxtpx:hr>111</gpxtpx:hr><gpxtpx:cad>83</gpxtpx:cad><gpxtpx:speed>3</gpxtpx:speed>`,
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("encoded GPX lacks %s", want)
		}
	}
	if got := strings.Count(doc, "<trkpt "); got != 18 {
		t.Errorf("%d trkpt, want 18 (20 samples, 2 without position)", got)
	}
}

// TestRoundTrip checks Decode(Encode(w)) keeps every field GPX carries.
func TestRoundTrip(t *testing.T) {
	pauses := []workout.Interval{
		{Start: t0.Add(100 * time.Second), End: t0.Add(160 * time.Second)},
		{Start: t0.Add(400 * time.Second), End: t0.Add(401 * time.Second)},
	}
	in := synthRun(600, pauses...)
	in.Start = t0.Add(-5 * time.Second) // started before the first fix
	got, err := Decode(bytes.NewReader(encode(t, in)))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}

	var want []workout.Sample
	for _, s := range in.Samples {
		if s.Has&workout.HasPosition != 0 {
			want = append(want, s)
		}
	}
	ignoreDistance := cmp.Transformer("noDistance", func(s workout.Sample) workout.Sample {
		s.Has &^= workout.HasDistance
		s.Distance = 0
		return s
	})
	if diff := cmp.Diff(want, got.Samples, ignoreDistance); diff != "" {
		t.Errorf("samples differ (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(pauses, got.Pauses); diff != "" {
		t.Errorf("pauses differ (-want +got):\n%s", diff)
	}
	if !got.Start.Equal(in.Start) || got.Sport != in.Sport || got.Name != in.Name || got.Device != in.Device {
		t.Errorf("got start %v sport %v name %q device %+v, want %v %v %q %+v",
			got.Start, got.Sport, got.Name, got.Device, in.Start, in.Sport, in.Name, in.Device)
	}
	if len(got.Notes) != 0 {
		t.Errorf("unexpected repair notes: %q", got.Notes)
	}

	// Distance is recomputed from the positions, without the moves across pauses.
	var dist float64
	for i := 1; i < len(want); i++ {
		a, b := want[i-1], want[i]
		if !(&workout.Workout{Pauses: pauses}).Paused(a.Time) {
			dist += workout.Haversine(a.Lat, a.Lon, b.Lat, b.Lon)
		}
	}
	if last := got.Samples[len(got.Samples)-1]; last.Has&workout.HasDistance == 0 || math.Abs(last.Distance-dist) > 1e-6 {
		t.Errorf("final distance %.3f m (has=%v), want %.3f m", last.Distance, last.Has&workout.HasDistance != 0, dist)
	}

	// A decoded workout encodes back to the same document.
	again := encode(t, got)
	if first := encode(t, in); !bytes.Equal(first, again) {
		t.Errorf("re-encoding the decoded workout changed the GPX:\n%s", cmp.Diff(string(first), string(again)))
	}
}

func TestRoundTripCadenceUnits(t *testing.T) {
	for _, tc := range []struct {
		sport    workout.Sport
		cad, out float64
	}{
		{workout.SportRun, 170, 170},
		{workout.SportRun, 171, 172}, // strides are whole: odd steps round up
		{workout.SportWalk, 110.4, 110},
		{workout.SportRide, 87, 87},  // rpm as is
		{workout.SportRide, 300, -1}, // above the schema's 254: not written
		{workout.SportOther, 42, 42},
	} {
		wo := &workout.Workout{Start: t0, Sport: tc.sport}
		s := workout.Sample{Time: t0}
		s.SetPosition(1, 2)
		s.SetCadence(tc.cad)
		wo.Samples = []workout.Sample{s}
		got, err := Decode(bytes.NewReader(encode(t, wo)))
		if err != nil {
			t.Fatalf("%v %v: %v", tc.sport, tc.cad, err)
		}
		gs := got.Samples[0]
		switch {
		case tc.out < 0 && gs.Has&workout.HasCadence != 0:
			t.Errorf("%v cadence %v: read back %v, want absent", tc.sport, tc.cad, gs.Cadence)
		case tc.out >= 0 && (gs.Has&workout.HasCadence == 0 || gs.Cadence != tc.out):
			t.Errorf("%v cadence %v: read back %v (has=%v), want %v", tc.sport, tc.cad, gs.Cadence, gs.Has&workout.HasCadence != 0, tc.out)
		}
	}
}

func TestEncodeWithoutPositions(t *testing.T) {
	wo := &workout.Workout{Start: t0, Sport: workout.SportTreadmill}
	s := workout.Sample{Time: t0}
	s.SetHeartRate(120)
	bad := workout.Sample{Time: t0.Add(time.Second)}
	bad.SetPosition(95, 10)
	wo.Samples = []workout.Sample{s, bad}
	if err := Encode(&bytes.Buffer{}, wo); !errors.Is(err, ErrNoPosition) {
		t.Errorf("Encode of a workout without valid positions: %v, want ErrNoPosition", err)
	}
}

func TestDecodeFixtures(t *testing.T) {
	ts := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		file        string
		n           int
		first, last string
		start       string
		hr          []uint8 // per sample when given
		ele         []float64
		pauses      []workout.Interval
		sport       workout.Sport
		name        string
		device      workout.Device
	}{
		{
			file: "gadgetbridge/gpx-exporter-test-SampleTrack.gpx", n: 14,
			first: "2019-01-01T00:00:00Z", last: "2019-01-01T00:00:13Z", start: "2019-01-01T00:00:00Z",
			name: "Test Track",
		},
		{
			file: "gadgetbridge/gpx-parser-test-multiple-segments.gpx", n: 4,
			first: "2023-04-08T16:03:08Z", last: "2023-04-08T16:56:57Z", start: "2023-04-08T16:03:08Z",
			hr: []uint8{123, 56, 85, 150}, ele: []float64{790, 296, 205, 209},
			pauses: []workout.Interval{{Start: ts("2023-04-08T16:17:19Z"), End: ts("2023-04-08T16:34:44Z")}},
			name:   "Test Multiple Segments",
		},
		{
			file: "gadgetbridge/gpx-parser-test-order.gpx", n: 2,
			first: "2023-04-08T16:03:08Z", last: "2023-04-08T16:17:19Z", start: "2023-04-08T16:03:08Z",
			hr: []uint8{123, 56}, ele: []float64{790, 296}, name: "Order Test",
		},
		{
			file: "amazfit/amazfit-sports-watch-run.gpx", n: 1216,
			first: "2018-05-14T09:54:12Z", last: "2018-05-14T10:36:23Z", start: "2018-05-14T09:54:10Z",
			sport: workout.SportRun, name: "Sport",
			device: workout.Device{Maker: "Huami", Model: "Amazfit Sports Watch"},
		},
	} {
		t.Run(tc.file, func(t *testing.T) {
			wo := decodeFile(t, tc.file)
			if len(wo.Samples) != tc.n {
				t.Fatalf("%d samples, want %d", len(wo.Samples), tc.n)
			}
			if got := wo.Samples[0].Time; !got.Equal(ts(tc.first)) {
				t.Errorf("first sample at %v, want %s", got, tc.first)
			}
			if got := wo.Samples[tc.n-1].Time; !got.Equal(ts(tc.last)) {
				t.Errorf("last sample at %v, want %s", got, tc.last)
			}
			if !wo.Start.Equal(ts(tc.start)) {
				t.Errorf("start %v, want %s", wo.Start, tc.start)
			}
			for i, s := range wo.Samples {
				if s.Has&workout.HasPosition == 0 || s.Has&workout.HasDistance == 0 {
					t.Fatalf("sample %d lacks position or distance: has %b", i, s.Has)
				}
				if tc.hr != nil && (s.Has&workout.HasHeartRate == 0 || s.HeartRate != tc.hr[i]) {
					t.Errorf("sample %d HR %d, want %d", i, s.HeartRate, tc.hr[i])
				}
				if tc.ele != nil && s.Altitude != tc.ele[i] {
					t.Errorf("sample %d altitude %v, want %v", i, s.Altitude, tc.ele[i])
				}
			}
			if diff := cmp.Diff(tc.pauses, wo.Pauses); diff != "" {
				t.Errorf("pauses (-want +got):\n%s", diff)
			}
			if wo.Sport != tc.sport || wo.Name != tc.name || wo.Device != tc.device {
				t.Errorf("sport %v name %q device %+v, want %v %q %+v", wo.Sport, wo.Name, wo.Device, tc.sport, tc.name, tc.device)
			}
			if len(wo.Notes) != 0 {
				t.Errorf("unexpected repair notes: %q", wo.Notes)
			}
		})
	}
}

// TestDecodeAmazfitHeartRate checks the Amazfit file's heart rate, which it
// writes twice per point (bare <heartrate> and ns3:TrackPointExtension).
func TestDecodeAmazfitHeartRate(t *testing.T) {
	wo := decodeFile(t, "amazfit/amazfit-sports-watch-run.gpx")
	for i, s := range wo.Samples {
		if s.Has&workout.HasHeartRate == 0 {
			t.Fatalf("sample %d at %v has no heart rate", i, s.Time)
		}
	}
	if first, last := wo.Samples[0].HeartRate, wo.Samples[len(wo.Samples)-1].HeartRate; first != 89 || last != 154 {
		t.Errorf("HR first %d last %d, want 89 and 154", first, last)
	}
	if d := wo.Distance(); d < 5000 || d > 12000 {
		t.Errorf("distance from GPS %.0f m: implausible for a 42-minute run", d)
	}
}

const gpxHead = `<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="%s" xmlns="http://www.topografix.com/GPX/1/1"
 xmlns:a="http://www.garmin.com/xmlschemas/TrackPointExtension/v1"
 xmlns:b="http://www.garmin.com/xmlschemas/TrackPointExtension/v2"
 xmlns:bogus="https://www8.garmin.com/xmlschemas/TrackPointExtensionv2.xsd"
 xmlns:gpxdata="http://www.cluetrust.com/XML/GPXDATA/1/0">
<trk><type>%s</type><trkseg>
`

func doc(creator, typ string, pts ...string) string {
	return fmt.Sprintf(gpxHead, creator, typ) + strings.Join(pts, "\n") + "\n</trkseg></trk></gpx>"
}

func TestDecodeExtensionVariants(t *testing.T) {
	in := doc("Amazfit GTR 4", "Walking",
		// TrackPointExtension v1
		`<trkpt lat="1" lon="2"><time>2024-01-01T10:00:00Z</time><extensions><a:TrackPointExtension><a:hr>101</a:hr><a:cad>50</a:cad></a:TrackPointExtension></extensions></trkpt>`,
		// v2 with speed
		`<trkpt lat="1" lon="2.0001"><time>2024-01-01T10:00:01Z</time><extensions><b:TrackPointExtension><b:hr>102</b:hr><b:cad>51</b:cad><b:speed>1.5</b:speed></b:TrackPointExtension></extensions></trkpt>`,
		// Gadgetbridge's misspelt namespace (the XSD URL)
		`<trkpt lat="1" lon="2.0002"><time>2024-01-01T10:00:02Z</time><extensions><bogus:TrackPointExtension><bogus:hr>103</bogus:hr></bogus:TrackPointExtension></extensions></trkpt>`,
		// Cluetrust gpxdata
		`<trkpt lat="1" lon="2.0003"><time>2024-01-01T10:00:03Z</time><extensions><gpxdata:hr>104</gpxdata:hr><gpxdata:cadence>52</gpxdata:cadence><gpxdata:distance>33.5</gpxdata:distance></extensions></trkpt>`,
		// bare elements, HR 0
		`<trkpt lat="1" lon="2.0004"><time>2024-01-01T10:00:04Z</time><extensions><heartrate>0</heartrate><power>250</power></extensions></trkpt>`,
	)
	wo, err := Decode(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if wo.Sport != workout.SportWalk || wo.Device != (workout.Device{Maker: "Zepp", Model: "Amazfit GTR 4"}) {
		t.Errorf("sport %v device %+v", wo.Sport, wo.Device)
	}
	type row struct {
		HR       uint8
		Cad      float64
		Speed    float64
		Distance float64
		Power    uint16
		Has      workout.Fields
	}
	var got []row
	for _, s := range wo.Samples {
		got = append(got, row{s.HeartRate, s.Cadence, s.Speed, s.Distance, s.Power, s.Has &^ workout.HasPosition})
	}
	const hc, hcs = workout.HasHeartRate | workout.HasCadence, workout.HasHeartRate | workout.HasCadence | workout.HasSpeed
	want := []row{
		{101, 100, 0, 0, 0, hc}, // walking: strides doubled to steps
		{102, 102, 1.5, 0, 0, hcs},
		{103, 0, 0, 0, 0, workout.HasHeartRate},
		{104, 104, 0, 33.5, 0, hc | workout.HasDistance},
		{0, 0, 0, 0, 250, workout.HasPower}, // HR 0 is "no reading"
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("samples (-want +got):\n%s", diff)
	}
	if len(wo.Notes) != 1 || !strings.Contains(wo.Notes[0], "1 heart-rate reading") {
		t.Errorf("notes %q, want one about the HR of 0", wo.Notes)
	}
}

func TestDecodeGPX10(t *testing.T) {
	in := `<?xml version="1.0"?>
<gpx version="1.0" creator="GPSBabel" xmlns="http://www.topografix.com/GPX/1/0">
<time>2008-10-12T09:00:00Z</time>
<trk><name>Old ride</name><type>cycling</type><trkseg>
<trkpt lat="46.5" lon="6.6"><ele>372.5</ele><time>2008-10-12T09:00:05Z</time><course>90</course><speed>6.5</speed></trkpt>
<trkpt lat="46.5001" lon="6.6001"><ele>373</ele><time>2008-10-12T09:00:06Z</time><speed>6.6</speed></trkpt>
</trkseg></trk></gpx>`
	wo, err := Decode(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(wo.Samples) != 2 || wo.Sport != workout.SportRide || wo.Name != "Old ride" {
		t.Fatalf("got %d samples, sport %v, name %q", len(wo.Samples), wo.Sport, wo.Name)
	}
	if s := wo.Samples[0]; s.Speed != 6.5 || s.Altitude != 372.5 || s.Lat != 46.5 {
		t.Errorf("first sample %+v", s)
	}
}

func TestDecodeBadInput(t *testing.T) {
	sample, err := os.ReadFile("testdata/gadgetbridge/gpx-exporter-test-SampleTrack.gpx")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, in string
		is       error
		contains string
	}{
		{name: "empty", in: "", contains: "empty"},
		{name: "not XML", in: "lat,lon,time\n1,2,3\n", contains: "not XML"},
		{name: "binary", in: "\x00\x01\x02<\xff", contains: "XML syntax error"},
		// The XML decoder names the line where the document broke off.
		{name: "truncated", in: string(sample[:1200]), contains: fmt.Sprintf("line %d: unexpected EOF", bytes.Count(sample[:1200], []byte("\n"))+1)},
		{name: "TCX", in: `<TrainingCenterDatabase><Activities/></TrainingCenterDatabase>`, contains: "<gpx>"},
		{name: "no track points", in: `<gpx version="1.1"><trk><trkseg/></trk></gpx>`, is: ErrNoTrackPoints},
		{name: "route without times", in: doc("x", "", `<trkpt lat="1" lon="2"/>`, `<trkpt lat="1" lon="3"><ele>4</ele></trkpt>`), is: ErrNoTimestamps},
		{name: "bad time", in: doc("x", "", `<trkpt lat="1" lon="2"><time>yesterday</time></trkpt>`), contains: "yesterday"},
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
	if ErrNoTimestamps.Error() != "GPX has no timestamps: cannot place the track in time" {
		t.Errorf("ErrNoTimestamps reads %q", ErrNoTimestamps)
	}
}

// TestDecodeRepairs covers input Decode repairs instead of rejecting.
func TestDecodeRepairs(t *testing.T) {
	in := doc("Gadgetbridge 0.83.0", "kitesurf-ish",
		`<trkpt lat="95" lon="2"><time>2024-01-01T10:00:00Z</time><extensions><a:TrackPointExtension><a:hr>120</a:hr></a:TrackPointExtension></extensions></trkpt>`,
		`<trkpt lat="1" lon="2"><ele>5</ele></trkpt>`,
		`<trkpt lat="1" lon="2.001"><time>2024-01-01T10:00:02Z</time></trkpt>`,
	)
	wo, err := Decode(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(wo.Samples) != 2 {
		t.Fatalf("%d samples, want 2 (the point without time dropped)", len(wo.Samples))
	}
	if s := wo.Samples[0]; s.Has&workout.HasPosition != 0 || s.Has&workout.HasHeartRate == 0 || s.HeartRate != 120 {
		t.Errorf("lat 95 point: has %b HR %d, want its HR kept and no position", s.Has, s.HeartRate)
	}
	if wo.Sport != workout.SportOther || wo.Device != (workout.Device{}) {
		t.Errorf("sport %v device %+v, want other and no device (Gadgetbridge is an app)", wo.Sport, wo.Device)
	}
	notes := strings.Join(wo.Notes, "\n")
	for _, want := range []string{`unknown GPX track type "kitesurf-ish"`, "1 track points without a time dropped", "1 track points with impossible coordinates"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes %q lack %q", notes, want)
		}
	}
}

func TestSportFromName(t *testing.T) {
	for name, want := range map[string]workout.Sport{
		"Running": workout.SportRun, "running": workout.SportRun, "RUNNING": workout.SportRun,
		"trail-run": workout.SportTrailRun, "TrailRun": workout.SportTrailRun, "TRAIL_RUN": workout.SportTrailRun,
		"Trail run": workout.SportTrailRun, "treadmill": workout.SportTreadmill, "OUTDOOR_CYCLING": workout.SportRide,
		"road_biking": workout.SportRide, "Ride": workout.SportRide, "MountainBikeRide": workout.SportMountainBike,
		"walking": workout.SportWalk, "hiking": workout.SportHike, "Hike": workout.SportHike,
		"swimming": workout.SportOpenWaterSwim, "POOL_SWIM": workout.SportPoolSwim,
		"WeightTraining": workout.SportStrength, "Workout": workout.SportOther, "E_BIKE": workout.SportEBike,
	} {
		if got, ok := SportFromName(name); !ok || got != want {
			t.Errorf("SportFromName(%q) = %v, %v; want %v", name, got, ok, want)
		}
	}
	for _, name := range []string{"", "9", "flying carpet"} {
		if got, ok := SportFromName(name); ok {
			t.Errorf("SportFromName(%q) = %v, want unknown", name, got)
		}
	}
	for _, s := range workout.Sports() {
		if got, ok := SportFromName(s.String()); !ok || got != s {
			t.Errorf("SportFromName(%q) = %v, %v", s.String(), got, ok)
		}
	}
}

func TestDeviceName(t *testing.T) {
	for _, d := range []workout.Device{
		{Maker: "Zepp", Model: "Amazfit Bip 3"},
		{Maker: "Xiaomi", Model: "Xiaomi Smart Band 8"},
		{Maker: "Huami", Model: "Amazfit Pace"},
		{Model: "Forerunner 265"},
		{Maker: "Garmin"},
	} {
		name := DeviceName(d)
		if back := DeviceFromName(name + creatorSuffix); DeviceName(back) != name {
			t.Errorf("%+v: name %q reads back as %+v (%q)", d, name, back, DeviceName(back))
		}
	}
	if got := DeviceFromName("Amazfit Bip 3"); got != (workout.Device{Maker: "Zepp", Model: "Amazfit Bip 3"}) {
		t.Errorf("Amazfit Bip 3 -> %+v", got)
	}
	if got := DeviceName(workout.Device{}); got != "" {
		t.Errorf("empty device named %q", got)
	}
}

func BenchmarkEncode(b *testing.B) {
	wo := synthRun(3600)
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
	doc := encode(b, synthRun(3600))
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(bytes.NewReader(doc)); err != nil {
			b.Fatal(err)
		}
	}
}

func TestStretches(t *testing.T) {
	at := func(sec ...int) []workout.Sample {
		var out []workout.Sample
		for _, s := range sec {
			out = append(out, workout.Sample{Time: t0.Add(time.Duration(s) * time.Second)})
		}
		return out
	}
	secs := func(runs [][]workout.Sample) [][]int {
		var out [][]int
		for _, r := range runs {
			var v []int
			for _, s := range r {
				v = append(v, int(s.Time.Sub(t0)/time.Second))
			}
			out = append(out, v)
		}
		return out
	}
	iv := func(a, b int) workout.Interval {
		return workout.Interval{Start: t0.Add(time.Duration(a) * time.Second), End: t0.Add(time.Duration(b) * time.Second)}
	}
	for _, tc := range []struct {
		name   string
		pauses []workout.Interval
		want   [][]int
	}{
		{"no pause", nil, [][]int{{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}}},
		{"boundaries on samples", []workout.Interval{iv(2, 5)}, [][]int{{0, 1, 2}, {5, 6, 7, 8, 9}}},
		{"boundaries between samples", []workout.Interval{{Start: t0.Add(2500 * time.Millisecond), End: t0.Add(4500 * time.Millisecond)}}, [][]int{{0, 1, 2}, {5, 6, 7, 8, 9}}},
		{"two pauses, unsorted", []workout.Interval{iv(7, 8), iv(1, 3)}, [][]int{{0, 1}, {3, 4, 5, 6, 7}, {8, 9}}},
		{"pause at the start", []workout.Interval{iv(-5, 2)}, [][]int{{2, 3, 4, 5, 6, 7, 8, 9}}},
		{"pause to the end", []workout.Interval{iv(8, 20)}, [][]int{{0, 1, 2, 3, 4, 5, 6, 7, 8}}},
	} {
		got := secs(Stretches(at(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), tc.pauses))
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}
