package fit

import (
	"bytes"
	"io"
	"testing"

	"github.com/bandsync/bandsync/internal/workout"
)

// benchRun is a 53-minute run: 3200 one-second samples with GPS, heart
// rate, cadence, altitude and distance, and 6 pauses of 30 s.
func benchRun(b *testing.B) *workout.Workout {
	var pauses []workout.Interval
	for i := 1; i <= 6; i++ {
		pauses = append(pauses, pause(i*480, i*480+30))
	}
	w := outdoorRun(3379, pauses)
	if len(w.Samples) != 3200 {
		b.Fatalf("%d samples, want 3200", len(w.Samples))
	}
	return w
}

func BenchmarkEncodeFIT(b *testing.B) {
	w := benchRun(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := Encode(io.Discard, w, EncodeOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeFIT(b *testing.B) {
	data := encoded(b, benchRun(b))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}
