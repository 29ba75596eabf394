package gadgetbridge

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bandsync/bandsync/internal/workout"
)

// Appendix B of offline-formats.md: the inputs of Gadgetbridge's
// HuamiActivityDetailsParserTest.
var (
	dumpStart   = time.Date(2017, 1, 20, 14, 0, 0, 0, time.UTC)
	dumpBaseLon = int64(40027350)
	dumpBaseLat = int64(157395455)
	dumpBaseAlt = int64(48)
)

// gpxHR is what Gadgetbridge's GPX exporter writes as a GPS point's heart
// rate: its own if valid (10–250), else that of the nearest earlier point
// in list order with a valid one, if less than 2 minutes older. The golden
// file carries it; bandsync itself never copies heart rates between points.
func gpxHR(pts []huamiPoint, i int) string {
	valid := func(hr int) bool { return hr >= 10 && hr <= 250 }
	if valid(pts[i].hr) {
		return fmt.Sprint(pts[i].hr)
	}
	var best *huamiPoint
	for j := range pts {
		if pts[j].ms >= pts[i].ms {
			break
		}
		if valid(pts[j].hr) {
			best = &pts[j]
		}
	}
	if best != nil && pts[i].ms-best.ms < 2*60*1000 {
		return fmt.Sprint(best.hr)
	}
	return ""
}

func dumpCSV(pts []huamiPoint) string {
	var b strings.Builder
	b.WriteString("index,time_utc,has_gps,lat,lon,ele_m,point_hr,gpx_hr\n")
	for i, p := range pts {
		t := time.UnixMilli(p.ms).UTC().Format(time.RFC3339)
		if !p.hasPos {
			fmt.Fprintf(&b, "%d,%s,0,,,,%d,\n", i, t, p.hr)
			continue
		}
		fmt.Fprintf(&b, "%d,%s,1,%.6f,%.6f,%d,%d,%s\n", i, t, float64(p.lat)/1e6, float64(p.lon)/1e6, p.alt, p.hr, gpxHR(pts, i))
	}
	return b.String()
}

// TestHuamiDetailsGolden: the details dump decodes to its expected CSV,
// line for line.
func TestHuamiDetailsGolden(t *testing.T) {
	bin, err := os.ReadFile("testdata/huami-details-dump1.derived.bin")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("testdata/huami-details-dump1.expected.derived.csv")
	if err != nil {
		t.Fatal(err)
	}
	pts, trailing := huamiDetails(bin, dumpStart.UnixMilli(), dumpBaseLon, dumpBaseLat, dumpBaseAlt)
	if trailing != 0 {
		t.Errorf("%d trailing bytes", trailing)
	}
	got := dumpCSV(pts)
	gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(gl) && i < len(wl); i++ {
		if gl[i] != wl[i] {
			t.Fatalf("line %d:\n got %s\nwant %s", i+1, gl[i], wl[i])
		}
	}
	if len(gl) != len(wl) {
		t.Fatalf("%d lines, want %d", len(gl), len(wl))
	}

	// As samples: time-ordered, 535 positions, heart rates 59–118.
	samples, notes := huamiSamples(pts)
	pos, hrs, lo, hi := 0, 0, 255, 0
	for i, s := range samples {
		if i > 0 && s.Time.Before(samples[i-1].Time) {
			t.Fatalf("sample %d out of order", i)
		}
		if s.Has&workout.HasPosition != 0 {
			pos++
		}
		if s.Has&workout.HasHeartRate != 0 {
			hrs++
			lo, hi = min(lo, int(s.HeartRate)), max(hi, int(s.HeartRate))
		}
	}
	if pos != 535 || lo != 59 || hi != 118 || hrs != 672 {
		t.Errorf("samples: %d positions, %d heart rates %d–%d; want 535, 672, 59–118", pos, hrs, lo, hi)
	}
	if len(notes) != 0 {
		t.Errorf("notes on a clean dump: %v", notes)
	}
	last := samples[len(samples)-1]
	if !last.Time.Equal(time.Date(2017, 1, 20, 14, 23, 59, 0, time.UTC)) || last.HeartRate != 89 {
		t.Errorf("last sample %+v", last)
	}
}

// TestHuamiDetailsCounterDump: the hex dump with BLE counters gives the
// same points once every 17th byte is dropped.
func TestHuamiDetailsCounterDump(t *testing.T) {
	bin, _ := os.ReadFile("testdata/huami-details-dump1.derived.bin")
	hex, err := os.ReadFile("testdata/ActivityDetailsDump1.txt")
	if err != nil {
		t.Skip(err)
	}
	var raw []byte
	for _, f := range strings.Fields(string(hex)) {
		var v int
		if _, err := fmt.Sscanf(f, "0x%x", &v); err == nil {
			raw = append(raw, byte(v))
		} else if _, err := fmt.Sscanf(f, "%d", &v); err == nil {
			raw = append(raw, byte(v))
		}
	}
	var stripped []byte
	for i, c := range raw {
		if i%17 != 0 {
			stripped = append(stripped, c)
		}
	}
	if !bytes.Equal(stripped, bin) {
		t.Fatalf("the dump without counters (%d bytes) differs from the .bin (%d bytes)", len(stripped), len(bin))
	}
}

func TestMicroDegrees(t *testing.T) {
	for _, c := range []struct{ in, want int64 }{{157395455, 52465152}, {40027350, 13342450}, {-4, -1}, {-5, -2}, {5, 2}, {4, 1}} {
		if got := microDegrees(c.in); got != c.want {
			t.Errorf("microDegrees(%d) = %d, want %d", c.in, got, c.want)
		}
	}
}

func TestHuamiDetailsOldHRAndWrap(t *testing.T) {
	rec := func(typ, off byte, p ...byte) []byte { return append([]byte{typ, off}, p...) }
	var b []byte
	b = append(b, rec(1, 0, 2, 80, 4, 82, 6, 84)...) // old format: absolute pairs
	b = append(b, rec(1, 250, 90, 0, 0, 0, 0, 0)...) // +250 s
	b = append(b, rec(1, 3, 91, 0, 0, 0, 0, 0)...)   // wrapped: +3 s more
	b = append(b, rec(1, 4, 255, 0, 0, 0, 0, 0)...)  // 255 = no reading
	b = append(b, 0x01, 0x02, 0x03)                  // partial record
	pts, trailing := huamiDetails(b, 0, 0, 0, noAltitude)
	if trailing != 3 {
		t.Errorf("trailing = %d, want 3", trailing)
	}
	var got []string
	for _, p := range pts {
		got = append(got, fmt.Sprintf("%d:%d", p.ms/1000, p.hr))
	}
	if s := strings.Join(got, " "); s != "2:80 4:82 6:84 250:90 253:91 254:255" {
		t.Errorf("points %s", s)
	}
	samples, notes := huamiSamples(pts)
	if len(samples) != 5 || len(notes) != 1 {
		t.Errorf("%d samples, notes %v; want 5 samples and a note on the 255", len(samples), notes)
	}
}

func TestZeppOSDetails(t *testing.T) {
	tlv := func(typ byte, v ...byte) []byte { return append([]byte{typ, byte(len(v))}, v...) }
	le16 := func(v int16) []byte { return binary.LittleEndian.AppendUint16(nil, uint16(v)) }
	le32 := func(v int32) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(v)) }
	start := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	b := cat(
		tlv(1, cat(le32(0), binary.LittleEndian.AppendUint64(nil, uint64(start.UnixMilli())))...),
		tlv(8, cat(le16(0), []byte{95})...), // HR before any fix: kept
		tlv(2, cat(make([]byte, 6), le32(40027350), le32(157395455), make([]byte, 6))...),
		tlv(3, cat(le16(1000), le16(-135), le16(205), le16(2))...),
		tlv(7, cat(le16(1000), le32(4850))...),
		tlv(4, cat(le16(1500), le16(4))...), // pause
		tlv(4, cat(le16(9500), le16(5))...), // resume
		tlv(5, cat(le16(9500), le16(160), le16(110), le16(360))...),
		tlv(99, 1, 2, 3), // unknown: skipped
	)
	samples, pauses, notes := zeppOSDetails(b, start.UnixMilli())
	if len(notes) != 0 {
		t.Errorf("notes %v", notes)
	}
	if len(pauses) != 1 || pauses[0].Duration() != 8*time.Second {
		t.Errorf("pauses %v", pauses)
	}
	// The heart rate and the first fix share an instant: one sample.
	if len(samples) != 3 {
		t.Fatalf("%d samples: %+v", len(samples), samples)
	}
	if s := samples[0]; s.Has != workout.HasHeartRate|workout.HasPosition || s.HeartRate != 95 || s.Lat != 52.465152 {
		t.Errorf("first sample %+v", s)
	}
	if s := samples[1]; s.Has != workout.HasPosition|workout.HasAltitude || s.Lat != 52.46522 || s.Lon != 13.342405 || s.Altitude != 48.5 {
		t.Errorf("delta sample %+v", s)
	}
	if s := samples[2]; s.Cadence != 160 || s.Speed != 1000.0/360 {
		t.Errorf("speed sample %+v", s)
	}
}
