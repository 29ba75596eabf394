package fit

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/muktihari/fit/profile/typedef"

	"github.com/bandsync/bandsync/internal/workout"
)

type encodeCase struct {
	name string
	w    *workout.Workout
	opt  EncodeOptions
	// What the file must say about the device, as Garmin's SDK prints it
	// (manufacturer nil: no manufacturer field), and what Decode returns.
	sdkManufacturer any
	sdkProductName  *string
	wantDevice      workout.Device
}

func str(s string) *string { return &s }

func encodeCases() []encodeCase {
	return []encodeCase{
		{"outdoor run with pauses", outdoorRun(1800, []workout.Interval{pause(300, 330), pause(700, 760), pause(1200, 1210)}), EncodeOptions{},
			"zepp", str("Amazfit Bip 3"), workout.Device{Maker: "Zepp", Model: "Amazfit Bip 3"}},
		{"treadmill run without GPS", treadmillRun(), EncodeOptions{},
			"zepp", str("Amazfit GTR 2"), workout.Device{Maker: "Zepp", Model: "Amazfit GTR 2"}},
		{"ride", ride(), EncodeOptions{},
			"garmin", str("Edge 530"), workout.Device{Maker: "Garmin", Model: "Edge 530", Product: 3121, Firmware: "9.1", Serial: 3945849289}},
		{"pool swim", poolSwim(), EncodeOptions{},
			nil, str("Xiaomi Smart Band 8"), workout.Device{Maker: "Xiaomi", Model: "Smart Band 8"}},
		{"sparse walk", sparseWalk(), EncodeOptions{},
			"zepp", nil, workout.Device{Maker: "Zepp"}},
		{"legacy Zepp identity", outdoorRun(600, nil), EncodeOptions{LegacyZeppIdentity: true},
			"zepp", str("Huami Amazfit Pace"), workout.Device{Maker: "Zepp", Model: "Huami Amazfit Pace"}},
	}
}

// TestEncodeGarminSDK writes each synthetic workout and has Garmin's own SDK
// read it back: it must pass the integrity check, decode without errors and
// hold the workout's values.
func TestEncodeGarminSDK(t *testing.T) {
	for _, c := range encodeCases() {
		t.Run(c.name, func(t *testing.T) {
			path := writeFIT(t, c.w, c.opt)
			res := garminSDK(t, path)
			checkWithSDK(t, res, c.w)
			if !cmp.Equal(res.FileID.Manufacturer, c.sdkManufacturer) {
				t.Errorf("file_id manufacturer = %v, want %v", res.FileID.Manufacturer, c.sdkManufacturer)
			}
			if !cmp.Equal(res.FileID.ProductName, c.sdkProductName) {
				t.Errorf("file_id product_name = %v, want %v", deref(res.FileID.ProductName), deref(c.sdkProductName))
			}
			if len(res.DeviceInfos) != 1 {
				t.Fatalf("%d device_info messages, want 1 (the creator)", len(res.DeviceInfos))
			}
			di := res.DeviceInfos[0]
			if di.DeviceIndex != "creator" || !cmp.Equal(di.Manufacturer, c.sdkManufacturer) || !cmp.Equal(di.ProductName, c.sdkProductName) {
				t.Errorf("device_info = index %v manufacturer %v product_name %v, want creator %v %v",
					di.DeviceIndex, di.Manufacturer, deref(di.ProductName), c.sdkManufacturer, deref(c.sdkProductName))
			}
			if c.wantDevice.Product != 0 && (res.FileID.Product == nil || *res.FileID.Product != int(c.wantDevice.Product)) {
				t.Errorf("file_id product = %v, want %d", val(res.FileID.Product), c.wantDevice.Product)
			}
			if c.wantDevice.Product == 0 && res.FileID.Product != nil {
				t.Errorf("file_id product = %d, want none", *res.FileID.Product)
			}
		})
	}
}

// TestEncodeRoundTrip decodes what Encode wrote and compares it with the
// workout: every field FIT carries must come back, within FIT's scales.
func TestEncodeRoundTrip(t *testing.T) {
	for _, c := range encodeCases() {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Encode(&buf, c.w, c.opt); err != nil {
				t.Fatal(err)
			}
			got, err := Decode(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			want := roundTripWant(c.w)
			want.Device = c.wantDevice
			if diff := cmp.Diff(want, got, roundTripOpts...); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
			checkLaps(t, c.w, got.Laps)
		})
	}
}

// roundTripWant is what Decode must return for w: the same workout with the
// totals Encode derives made explicit, and without what FIT has no field
// for (the name, the zone's IANA name, Origin).
func roundTripWant(w *workout.Workout) *workout.Workout {
	want := *w
	want.Name, want.Origin, want.Notes = "", workout.Origin{}, nil
	want.Zone.Name = ""
	want.Summary.Elapsed, want.Summary.Moving, want.Summary.Distance = w.Elapsed(), w.Moving(), w.Distance()
	if !w.Sport.Swimming() {
		want.Summary.Stroke = 0
	}
	want.Samples = append([]workout.Sample(nil), w.Samples...)
	for i := range want.Samples {
		want.Samples[i].Time = want.Samples[i].Time.Truncate(time.Second)
	}
	want.Laps = nil // checked by checkLaps
	return &want
}

var roundTripOpts = []cmp.Option{
	cmpopts.IgnoreFields(workout.Workout{}, "Laps", "Notes"),
	cmpopts.EquateEmpty(),
	// Summary values: FIT keeps hundredths of metres, 1/128 of a cadence
	// step, tenths of training effect, milliseconds.
	cmpopts.EquateApprox(0, 0.01),
	cmp.Comparer(sampleEqual),
}

// sampleEqual compares samples within the resolution of each FIT field.
func sampleEqual(a, b workout.Sample) bool {
	near := func(x, y, tol float64) bool { return math.Abs(x-y) <= tol }
	return a.Time.Equal(b.Time) && a.Has == b.Has &&
		near(a.Lat, b.Lat, 1e-7) && near(a.Lon, b.Lon, 1e-7) && // a semicircle is 8.4e-8°
		near(a.Altitude, b.Altitude, 0.1) && // 1/5 m
		a.HeartRate == b.HeartRate &&
		near(a.Cadence, b.Cadence, 1.0/128) &&
		near(a.Distance, b.Distance, 0.005) &&
		near(a.Speed, b.Speed, 0.0005) &&
		a.Power == b.Power
}

// checkLaps compares decoded laps with the workout's own, or with one lap
// per kilometre when it has none.
func checkLaps(t *testing.T, w *workout.Workout, got []workout.Lap) {
	t.Helper()
	if len(w.Laps) > 0 {
		want := append([]workout.Lap(nil), w.Laps...)
		for i := range want {
			want[i].Moving = workout.MovingTime(want[i].Start, want[i].Elapsed, w.Pauses)
		}
		if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 0.01)); diff != "" {
			t.Errorf("laps (-want +got):\n%s", diff)
		}
		return
	}
	splits := w.Splits(workout.Kilometre)
	if len(splits) == 0 {
		if len(got) != 1 || !got[0].Start.Equal(w.Start) || got[0].Elapsed != w.Elapsed() || got[0].Trigger != workout.LapSessionEnd {
			t.Errorf("laps = %+v, want one lap over the whole workout", got)
		}
		return
	}
	if len(got) != len(splits) {
		t.Fatalf("%d laps, want %d (one per km)", len(got), len(splits))
	}
	var sum float64
	for i, l := range got {
		s := splits[i]
		if !l.Start.Equal(s.Start.Truncate(time.Second)) || math.Abs(l.Distance-s.Distance) > 0.01 ||
			(l.Elapsed-s.Elapsed).Abs() > time.Millisecond || (l.Moving-s.Moving).Abs() > time.Millisecond {
			t.Errorf("lap %d = start %v %v m elapsed %v moving %v; want %v %v m %v %v",
				i, l.Start, l.Distance, l.Elapsed, l.Moving, s.Start, s.Distance, s.Elapsed, s.Moving)
		}
		wantTrig := workout.LapDistance
		if i == len(got)-1 {
			wantTrig = workout.LapSessionEnd
		}
		if l.Trigger != wantTrig {
			t.Errorf("lap %d trigger %v, want %v", i, l.Trigger, wantTrig)
		}
		if l.AvgHR == 0 && w.Samples[0].Has&workout.HasHeartRate != 0 {
			t.Errorf("lap %d has no average heart rate", i)
		}
		sum += l.Distance
	}
	if math.Abs(sum-w.Distance()) > 0.05 {
		t.Errorf("laps add up to %.2f m, workout is %.2f m", sum, w.Distance())
	}
}

// checkWithSDK compares Garmin's reading of an encoded file with the workout.
func checkWithSDK(t *testing.T, res *garminCheck, w *workout.Workout) {
	t.Helper()
	if !res.OK || !res.IsFIT || !res.CheckIntegrity || len(res.DecodeErrors) > 0 {
		t.Fatalf("Garmin SDK: ok=%v isFIT=%v checkIntegrity=%v errors=%v", res.OK, res.IsFIT, res.CheckIntegrity, res.DecodeErrors)
	}
	if res.FileID.Type == nil || *res.FileID.Type != "activity" {
		t.Errorf("file_id type = %v, want activity", deref(res.FileID.Type))
	}
	if got := sdkTime(t, res.Session.StartTime); !got.Equal(w.Start.Truncate(time.Second)) {
		t.Errorf("session start_time = %v, want %v", got, w.Start)
	}
	secs := func(p *float64, what string) float64 {
		if p == nil {
			t.Fatalf("session %s missing", what)
		}
		return *p
	}
	if got, want := secs(res.Session.TotalTimerTime, "total_timer_time"), w.Moving().Seconds(); math.Abs(got-want) > 1 {
		t.Errorf("session total_timer_time = %v s, want the moving time %v s", got, want)
	}
	if got, want := secs(res.Session.TotalElapsedTime, "total_elapsed_time"), w.Elapsed().Seconds(); math.Abs(got-want) > 1 {
		t.Errorf("session total_elapsed_time = %v s, want %v s", got, want)
	}
	if res.Activity.TotalTimerTime == nil || math.Abs(*res.Activity.TotalTimerTime-w.Moving().Seconds()) > 1 {
		t.Errorf("activity total_timer_time = %v, want %v s", val(res.Activity.TotalTimerTime), w.Moving().Seconds())
	}
	for i, l := range res.Laps {
		if l.TotalTimerTime == nil || l.TotalElapsedTime == nil || *l.TotalTimerTime > *l.TotalElapsedTime+0.001 {
			t.Errorf("lap %d: timer %v elapsed %v", i, val(l.TotalTimerTime), val(l.TotalElapsedTime))
		}
	}
	if d := w.Distance(); d > 0 {
		got := secs(res.Session.TotalDistance, "total_distance")
		if math.Abs(got-d) > d*0.005 {
			t.Errorf("session total_distance = %v m, want %v m (±0.5%%)", got, d)
		}
	}
	sport, sub := w.Sport.FIT()
	if got, want := deref(res.Session.Sport), camel(typedef.Sport(sport).String()); got != want {
		t.Errorf("session sport = %q, want %q", got, want)
	}
	if got, want := deref(res.Session.SubSport), camel(typedef.SubSport(sub).String()); got != want {
		t.Errorf("session sub_sport = %q, want %q", got, want)
	}
	if res.SessionCount != 1 || res.Activity.NumSessions == nil || *res.Activity.NumSessions != 1 {
		t.Errorf("%d sessions, activity.num_sessions %v; want 1", res.SessionCount, val(res.Activity.NumSessions))
	}

	// Timer: one stop per pause plus the final one, one start per pause
	// plus the first. Garmin's reading of the pauses must give back the
	// moving time.
	var stops, starts int
	for _, e := range res.TimerEvents {
		switch e.EventType {
		case "stopAll":
			stops++
		case "start":
			starts++
		default:
			t.Errorf("timer event %q", e.EventType)
		}
	}
	if stops != len(w.Pauses)+1 || starts != len(w.Pauses)+1 {
		t.Errorf("%d timer stops and %d starts for %d pauses", stops, starts, len(w.Pauses))
	}

	// Records: one per sample, fields only where the sample has them.
	if res.RecordCount != len(w.Samples) {
		t.Fatalf("%d records, want %d (one per sample)", res.RecordCount, len(w.Samples))
	}
	for i, r := range res.Records {
		s := w.Samples[i]
		if got := sdkTime(t, &r.Timestamp); !got.Equal(s.Time.Truncate(time.Second)) {
			t.Fatalf("record %d at %v, want %v", i, got, s.Time)
		}
		if s.Has&workout.HasHeartRate != 0 {
			if r.HeartRate == nil || *r.HeartRate != int(s.HeartRate) {
				t.Errorf("record %d heart_rate = %v, want %d", i, val(r.HeartRate), s.HeartRate)
			}
		} else if r.HeartRate != nil {
			t.Errorf("record %d heart_rate = %d, want absent", i, *r.HeartRate)
		}
		if s.Has&workout.HasPosition != 0 {
			if r.PositionLat == nil || r.PositionLong == nil ||
				*r.PositionLat != semicircles(s.Lat) || *r.PositionLong != semicircles(s.Lon) ||
				math.Abs(degrees(*r.PositionLat)-s.Lat) > 1e-7 {
				t.Errorf("record %d position = %v,%v, want %v,%v", i, val(r.PositionLat), val(r.PositionLong), s.Lat, s.Lon)
			}
		} else if r.PositionLat != nil || r.PositionLong != nil {
			t.Errorf("record %d has a position, want none", i)
		}
		if s.Has&workout.HasCadence != 0 {
			want := s.Cadence
			if w.Sport.OnFoot() {
				want /= 2 // FIT counts strides: steps/min ÷ 2
			}
			got := -1.0
			if r.Cadence != nil {
				got = *r.Cadence
				if r.FractionalCadence != nil {
					got += *r.FractionalCadence
				}
			}
			if math.Abs(got-want) > 1.0/128 {
				t.Errorf("record %d cadence = %v (+fraction %v), want %v", i, val(r.Cadence), val(r.FractionalCadence), want)
			}
		} else if r.Cadence != nil {
			t.Errorf("record %d cadence = %v, want absent", i, *r.Cadence)
		}
		if s.Has&workout.HasDistance != 0 {
			if r.Distance == nil || math.Abs(*r.Distance-s.Distance) > 0.005 {
				t.Errorf("record %d distance = %v, want %v", i, val(r.Distance), s.Distance)
			}
		} else if r.Distance != nil {
			t.Errorf("record %d distance = %v, want absent", i, *r.Distance)
		}
		if s.Has&workout.HasAltitude != 0 {
			if r.EnhancedAltitude == nil || math.Abs(*r.EnhancedAltitude-s.Altitude) > 0.1 {
				t.Errorf("record %d altitude = %v, want %v", i, val(r.EnhancedAltitude), s.Altitude)
			}
		} else if r.EnhancedAltitude != nil {
			t.Errorf("record %d altitude = %v, want absent", i, *r.EnhancedAltitude)
		}
		if s.Has&workout.HasPower != 0 && (r.Power == nil || *r.Power != int(s.Power)) {
			t.Errorf("record %d power = %v, want %d", i, val(r.Power), s.Power)
		}
	}

	wantLaps := len(w.Laps)
	if wantLaps == 0 {
		wantLaps = max(1, len(w.Splits(workout.Kilometre)))
	}
	if res.LapCount != wantLaps || res.Session.NumLaps == nil || *res.Session.NumLaps != wantLaps {
		t.Errorf("%d laps (session.num_laps %v), want %d", res.LapCount, val(res.Session.NumLaps), wantLaps)
	}
	if res.LengthCount != len(w.Lengths) {
		t.Errorf("%d lengths, want %d", res.LengthCount, len(w.Lengths))
	}
	if w.Zone.Known {
		ts := sdkTime(t, res.Activity.Timestamp)
		lt, ok := res.Activity.LocalTimestamp.(float64) // local_date_time: seconds on FIT's epoch
		if !ok {
			t.Fatalf("activity local_timestamp = %v, want a number", res.Activity.LocalTimestamp)
		}
		off := time.Unix(fitEpochUnix+int64(lt), 0).Sub(ts)
		if off != w.Zone.Offset {
			t.Errorf("activity local_timestamp is %v from timestamp, want the zone offset %v", off, w.Zone.Offset)
		}
	} else if res.Activity.LocalTimestamp != nil {
		t.Errorf("activity local_timestamp = %v for an unknown zone", res.Activity.LocalTimestamp)
	}
}

// camel turns the FIT profile's snake_case names into the SDK's camelCase.
func camel(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

func deref(s *string) string {
	if s == nil {
		return "<absent>"
	}
	return *s
}

// val prints what a pointer from the SDK's JSON holds, or <absent>.
func val[T any](p *T) any {
	if p == nil {
		return "<absent>"
	}
	return *p
}

func writeFIT(t *testing.T, w *workout.Workout, opt EncodeOptions) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, w, opt); err != nil {
		t.Fatalf("Encode: %v", err)
	}
	path := filepath.Join(t.TempDir(), "workout.fit")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestEncodeCorruptDistance: a corrupt distance of 32 000 km (found by
// FuzzDecode) gets one lap, not 32 000 per-kilometre laps that took seconds.
func TestEncodeCorruptDistance(t *testing.T) {
	w := sparseWalk()
	w.Samples[len(w.Samples)-1].SetDistance(3.2e7)
	start := time.Now()
	got, err := Decode(bytes.NewReader(encoded(t, w)))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Laps) != 1 || time.Since(start) > time.Second {
		t.Errorf("%d laps in %v, want one lap quickly", len(got.Laps), time.Since(start))
	}
}

// TestEncodeDeviceNameCleaned: a model name with broken UTF-8 or of absurd
// length still encodes, as valid UTF-8 within FIT's string limit.
func TestEncodeDeviceNameCleaned(t *testing.T) {
	w := sparseWalk()
	w.Device = workout.Device{Maker: "Zepp", Model: "Amazfit \xff\xfeBand 7 " + strings.Repeat("é", 200)}
	got, err := Decode(bytes.NewReader(encoded(t, w)))
	if err != nil {
		t.Fatal(err)
	}
	m := got.Device.Model
	if !strings.HasPrefix(m, "Amazfit Band 7 é") || len(m) > maxProductName || !utf8.ValidString(m) {
		t.Errorf("model %q (%d bytes)", m, len(m))
	}
}
