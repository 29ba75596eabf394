package gpx

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecodeGPX checks that Decode never panics, that what it accepts is a
// normalised workout, and that Encode accepts that workout and writes a GPX
// that Decode reads back.
func FuzzDecodeGPX(f *testing.F) {
	files, err := filepath.Glob("testdata/gadgetbridge/*.gpx")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(doc("Amazfit Bip", "running",
		`<trkpt lat="1" lon="2"><time>2024-01-01T10:00:00Z</time><extensions><a:TrackPointExtension><a:hr>101</a:hr><a:cad>80</a:cad></a:TrackPointExtension><heartrate>99</heartrate></extensions></trkpt>`,
		`<trkpt lat="95" lon="2"><time>2024-01-01T10:00:01Z</time></trkpt></trkseg><trkseg>`,
		`<trkpt lat="1" lon="2.1"><time>2024-01-01T10:05:00Z</time><extensions><gpxdata:distance>3</gpxdata:distance></extensions></trkpt>`)))
	f.Fuzz(func(t *testing.T, in []byte) {
		wo, err := Decode(bytes.NewReader(in))
		if err != nil {
			return
		}
		if len(wo.Samples) == 0 {
			t.Fatal("Decode succeeded without samples")
		}
		if err := wo.Validate(); err != nil {
			t.Fatalf("Decode accepted a workout that is not sound: %v", err)
		}
		var out bytes.Buffer
		if err := Encode(&out, wo); err != nil {
			if errors.Is(err, ErrNoPosition) {
				return
			}
			t.Fatalf("Encode of a decoded workout: %v", err)
		}
		if _, err := Decode(&out); err != nil {
			t.Fatalf("Decode of Encode's output: %v\n%s", err, out.Bytes())
		}
	})
}
