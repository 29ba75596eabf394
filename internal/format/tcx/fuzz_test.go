package tcx

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecodeTCX checks that Decode never panics, that what it accepts is a
// normalised workout, and that Encode writes it as a TCX that Decode reads
// back.
func FuzzDecodeTCX(f *testing.F) {
	files, err := filepath.Glob("testdata/*.tcx")
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
	var buf bytes.Buffer
	if err := Encode(&buf, withLaps()); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(fmt.Sprintf(tcxHead, "Biking",
		`<Trackpoint><Time>2024-01-01T10:00:00</Time><Position><LatitudeDegrees>95</LatitudeDegrees><LongitudeDegrees>8</LongitudeDegrees></Position><HeartRateBpm><Value>0</Value></HeartRateBpm><Cadence>90</Cadence></Trackpoint></Track><Track>`+
			`<Trackpoint><Time>2024-01-01T10:01:00Z</Time><Extensions><ax:TPX><ax:Speed>2</ax:Speed><ax:RunCadence>80</ax:RunCadence><ax:Watts>250</ax:Watts></ax:TPX></Extensions></Trackpoint>`)))
	f.Fuzz(func(t *testing.T, in []byte) {
		wo, err := Decode(bytes.NewReader(in))
		if err != nil {
			return
		}
		if wo.Start.IsZero() {
			t.Fatal("Decode succeeded without a start")
		}
		if err := wo.Validate(); err != nil {
			t.Fatalf("Decode accepted a workout that is not sound: %v", err)
		}
		var out bytes.Buffer
		if err := Encode(&out, wo); err != nil {
			t.Fatalf("Encode of a decoded workout: %v", err)
		}
		if _, err := Decode(&out); err != nil {
			t.Fatalf("Decode of Encode's output: %v\n%s", err, out.Bytes())
		}
	})
}
