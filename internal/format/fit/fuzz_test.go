package fit

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bandsync/bandsync/internal/workout"
)

// FuzzDecode feeds Decode and DecodeSalvage arbitrary bytes, seeded with the
// fixtures and encoded synthetic workouts. Neither may panic (Decode turns a
// library panic into an "internal error", which counts as a failure here),
// and whatever they accept must encode again.
//
// Run it with minimization off, or the engine spends its time minimizing
// each new input and makes no progress:
//
//	go test -run='^$' -fuzz=FuzzDecode -fuzztime=60s -fuzzminimizetime=0 ./internal/format/fit/
func FuzzDecode(f *testing.F) {
	addFixtures(f)
	for _, w := range []*workout.Workout{sparseWalk(), poolSwim(), outdoorRun(120, []workout.Interval{pause(30, 40)})} {
		f.Add(encoded(f, w))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for name, decode := range map[string]func(io.Reader) (*workout.Workout, error){"Decode": Decode, "DecodeSalvage": DecodeSalvage} {
			w, err := decode(bytes.NewReader(b))
			if err != nil {
				if strings.Contains(err.Error(), "internal error") {
					t.Fatalf("%s panicked inside: %v", name, err)
				}
				if w != nil {
					t.Fatalf("%s returned a workout with error %v", name, err)
				}
				continue
			}
			if err := Encode(io.Discard, w, EncodeOptions{}); err != nil {
				t.Fatalf("%s accepted the input but Encode refuses the result: %v", name, err)
			}
		}
	})
}

// addFixtures seeds f with the FIT fixtures.
func addFixtures(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join(fixtures, "*.fit"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}
