package plot

import (
	"bytes"
	"errors"
	"flag"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bandsync/bandsync/internal/web/compare"
	"github.com/bandsync/bandsync/internal/workout"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var start = time.Date(2025, 6, 1, 7, 30, 0, 0, time.UTC)

// run is a 30-minute run, a sample every 10 s, paused from minute 10 to 12,
// and the streams Strava returns for it (a few beats higher, per-leg
// cadence).
func run() (*workout.Workout, compare.Streams) {
	w := &workout.Workout{Start: start, Sport: workout.SportRun,
		Pauses: []workout.Interval{{Start: start.Add(10 * time.Minute), End: start.Add(12 * time.Minute)}}}
	var s compare.Streams
	dist := 0.0
	for t := time.Duration(0); t <= 30*time.Minute; t += 10 * time.Second {
		at := start.Add(t)
		if w.Paused(at) {
			continue
		}
		m := t.Minutes()
		var smp workout.Sample
		smp.Time = at
		if t > 0 {
			dist += 28 + 4*math.Sin(m)
		}
		smp.SetDistance(dist)
		smp.SetHeartRate(uint8(130 + m))
		smp.SetCadence(164 + 4*math.Cos(m))
		smp.SetAltitude(50 + 10*math.Sin(m/5))
		w.Samples = append(w.Samples, smp)
		s.Time = append(s.Time, t.Seconds())
		s.HeartRate = append(s.HeartRate, float64(smp.HeartRate)+3)
		s.Cadence = append(s.Cadence, math.Round(smp.Cadence/2))
		s.Altitude = append(s.Altitude, smp.Altitude+2)
		s.Velocity = append(s.Velocity, 2.9)
	}
	return w, s
}

func TestSVGGolden(t *testing.T) {
	w, s := run()
	var a, b bytes.Buffer
	if err := Compare(w, s, &a, SVG); err != nil {
		t.Fatal(err)
	}
	if err := Compare(w, s, &b, SVG); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two SVGs of the same workout differ")
	}
	got := a.String()
	for _, want := range []string{"Heart rate", "Pace", "Elevation", "Cadence", ">band<", ">Strava<"} {
		if !strings.Contains(got, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	path := filepath.Join("testdata", "run.svg.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, a.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if !bytes.Equal(want, a.Bytes()) {
		t.Errorf("SVG differs from %s (go test -update rewrites it)", path)
	}
}

func TestPNG(t *testing.T) {
	w, s := run()
	var buf bytes.Buffer
	if err := Compare(w, s, &buf, PNG); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatalf("decode the PNG: %v", err)
	}
	wantW := int(math.Ceil(Width.Dots(DPI)))
	wantH := int(math.Ceil((4 * PanelHeight).Dots(DPI)))
	if b := img.Bounds(); abs(b.Dx()-wantW) > 1 || abs(b.Dy()-wantH) > 1 {
		t.Errorf("PNG is %v, want %d×%d", b.Size(), wantW, wantH)
	}
	if n := count(img, bandColor.R, bandColor.G, bandColor.B); n < 500 {
		t.Errorf("%d pixels of the band's colour, want its lines", n)
	}
	if n := count(img, stravaColor.R, stravaColor.G, stravaColor.B); n < 300 {
		t.Errorf("%d pixels of Strava's colour, want its lines", n)
	}
}

func TestBandAlone(t *testing.T) {
	w, _ := run()
	var buf bytes.Buffer
	if err := Compare(w, compare.Streams{}, &buf, SVG); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), ">Strava<") {
		t.Error("a legend entry for Strava without its streams")
	}
}

func TestErrors(t *testing.T) {
	w, s := run()
	if err := Compare(w, s, &bytes.Buffer{}, "gif"); err == nil {
		t.Error("gif accepted")
	}
	if err := Compare(nil, s, &bytes.Buffer{}, PNG); err == nil {
		t.Error("nil workout accepted")
	}
	empty := &workout.Workout{Start: start, Sport: workout.SportStrength}
	if err := Compare(empty, compare.Streams{}, &bytes.Buffer{}, PNG); !errors.Is(err, ErrNothingToDraw) {
		t.Errorf("empty workout: %v, want ErrNothingToDraw", err)
	}
}

// count counts the pixels close to a colour.
func count(img image.Image, r, g, b uint8) int {
	n := 0
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			pr, pg, pb, _ := img.At(x, y).RGBA()
			if abs(int(pr>>8)-int(r)) < 24 && abs(int(pg>>8)-int(g)) < 24 && abs(int(pb>>8)-int(b)) < 24 {
				n++
			}
		}
	}
	return n
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
