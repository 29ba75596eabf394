package geo

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/bandsync/bandsync/internal/workout"
)

// Published reference points: WGS-84 and its GCJ-02 counterpart.
var reference = []struct {
	name             string
	wgsLat, wgsLon   float64
	gcjLat, gcjLon   float64
	forwardTolerance float64 // m
}{
	// googollee/eviltransform (MIT), go/transform_test.go and
	// javascript/test.js: Shanghai, Shenzhen, Beijing. eviltransform uses
	// the WGS-84 semi-major axis instead of Krasovsky's, a difference of
	// under 1 cm at these offsets.
	{"shanghai", 31.1774276, 121.5272106, 31.17530398364597, 121.531541859215, 0.05},
	{"shenzhen", 22.543847, 113.912316, 22.540796131694766, 113.9171764808363, 0.05},
	{"beijing", 39.911954, 116.377817, 39.91334545536069, 116.38404722455657, 0.05},
	// wandergis/coordtransform (MIT), README: wgs84togcj02(116.404, 39.915)
	// = [116.41024449916938, 39.91640428150164] (lon, lat).
	{"tiananmen", 39.915, 116.404, 39.91640428150164, 116.41024449916938, 0.05},
}

func TestReferencePoints(t *testing.T) {
	for _, r := range reference {
		t.Run(r.name, func(t *testing.T) {
			glat, glon := WGSToGCJ(r.wgsLat, r.wgsLon)
			if d := workout.Haversine(glat, glon, r.gcjLat, r.gcjLon); d > r.forwardTolerance {
				t.Errorf("WGSToGCJ(%v, %v) = %v, %v: %.3f m from the published %v, %v", r.wgsLat, r.wgsLon, glat, glon, d, r.gcjLat, r.gcjLon)
			}
			wlat, wlon := GCJToWGS(r.gcjLat, r.gcjLon)
			if d := workout.Haversine(wlat, wlon, r.wgsLat, r.wgsLon); d > 1 {
				t.Errorf("GCJToWGS(%v, %v) = %v, %v: %.3f m from the published %v, %v", r.gcjLat, r.gcjLon, wlat, wlon, d, r.wgsLat, r.wgsLon)
			}
			// The offset is the one the issue talks about: hundreds of metres.
			if d := workout.Haversine(r.wgsLat, r.wgsLon, r.gcjLat, r.gcjLon); d < 100 || d > 1000 {
				t.Errorf("reference offset %.0f m is not a GCJ-02 offset", d)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	worst := 0.0
	for range 20000 {
		// Mainland China, roughly.
		lat := 18 + rng.Float64()*35
		lon := 74 + rng.Float64()*60
		glat, glon := WGSToGCJ(lat, lon)
		wlat, wlon := GCJToWGS(glat, glon)
		d := workout.Haversine(lat, lon, wlat, wlon)
		worst = max(worst, d)
		if d >= 0.5 {
			t.Fatalf("WGS→GCJ→WGS of %v, %v is %.4f m off", lat, lon, d)
		}
	}
	if worst > 0.001 {
		t.Errorf("worst round trip %.6f m; the iteration should reach a millimetre", worst)
	}
}

func TestOutsideChinaUnchanged(t *testing.T) {
	points := [][2]float64{
		{28.02128128, -16.63307136}, // Tenerife: the walk fixture, WGS-84
		{50.61465833, 3.242065},     // the run fixture
		{40.7128, -74.0060},         // New York
		{-33.8688, 151.2093},        // Sydney
		{0, 0},
		{56, 120}, // north of the box
		{35, 140}, // east of the box (Tokyo-ish)
	}
	for _, p := range points {
		if InChina(p[0], p[1]) {
			t.Errorf("InChina(%v, %v) = true", p[0], p[1])
		}
		if lat, lon := WGSToGCJ(p[0], p[1]); lat != p[0] || lon != p[1] {
			t.Errorf("WGSToGCJ moved %v to %v, %v", p, lat, lon)
		}
		if lat, lon := GCJToWGS(p[0], p[1]); lat != p[0] || lon != p[1] {
			t.Errorf("GCJToWGS moved %v to %v, %v", p, lat, lon)
		}
	}
	for _, r := range reference {
		if !InChina(r.wgsLat, r.wgsLon) {
			t.Errorf("InChina(%s) = false", r.name)
		}
	}
}

// track builds a workout with one point per reference place in GCJ-02
// and one outside China.
func track() *workout.Workout {
	t0 := time.Date(2024, 5, 1, 6, 0, 0, 0, time.UTC)
	w := &workout.Workout{Start: t0, Sport: workout.SportRun}
	for i, r := range reference {
		var s workout.Sample
		s.Time = t0.Add(time.Duration(i) * time.Second)
		s.SetPosition(r.gcjLat, r.gcjLon)
		s.SetHeartRate(120)
		w.Samples = append(w.Samples, s)
	}
	var out workout.Sample
	out.Time = t0.Add(time.Minute)
	out.SetPosition(28.02128128, -16.63307136)
	var noPos workout.Sample
	noPos.Time = t0.Add(2 * time.Minute)
	noPos.SetHeartRate(130)
	w.Samples = append(w.Samples, out, noPos)
	return w
}

func TestFixModes(t *testing.T) {
	marked := func() *workout.Workout { w := track(); MarkGCJ02(w, `provider "gaode"`); return w }
	gaodeNote := func() *workout.Workout {
		w := track()
		w.Notes = append(w.Notes, `location provider "gaode" (AutoNavi)`)
		return w
	}
	cases := []struct {
		name string
		w    func() *workout.Workout
		mode string
		want bool
	}{
		{"auto unmarked", track, Auto, false},
		{"auto marked", marked, Auto, true},
		{"empty mode is auto", marked, "", true},
		{"auto with a decoder's provider note", gaodeNote, Auto, true},
		{"wgs84 marked", marked, WGS84, false},
		{"gcj02 unmarked", track, GCJ02, true},
		{"unknown mode", marked, "bd09", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := c.w()
			before := append([]workout.Sample(nil), w.Samples...)
			if got := Fix(w, c.mode); got != c.want {
				t.Fatalf("Fix = %v, want %v", got, c.want)
			}
			for i, s := range w.Samples {
				b := before[i]
				moved := s.Lat != b.Lat || s.Lon != b.Lon
				inChina := b.Has&workout.HasPosition != 0 && InChina(b.Lat, b.Lon)
				if moved != (c.want && inChina) {
					t.Errorf("sample %d moved=%v, in China=%v", i, moved, inChina)
				}
				if s.Has != b.Has || s.HeartRate != b.HeartRate || !s.Time.Equal(b.Time) {
					t.Errorf("sample %d: more than the position changed: %+v → %+v", i, b, s)
				}
				if c.want && i < len(reference) {
					r := reference[i]
					if d := workout.Haversine(s.Lat, s.Lon, r.wgsLat, r.wgsLon); d > 1 {
						t.Errorf("sample %d (%s) is %.2f m from its WGS-84 reference", i, r.name, d)
					}
				}
			}
			if c.want {
				if Fix(w, c.mode) || Fix(w, GCJ02) {
					t.Error("a second Fix converted again")
				}
				if !strings.Contains(strings.Join(w.Notes, "\n"), convertedPrefix) {
					t.Errorf("no note says the positions were converted: %q", w.Notes)
				}
			}
		})
	}
}

func TestFixOutsideChinaOnly(t *testing.T) {
	w := &workout.Workout{Start: time.Unix(1542558074, 0).UTC()}
	var s workout.Sample
	s.Time = w.Start
	s.SetPosition(28.02128128, -16.63307136)
	w.Samples = []workout.Sample{s}
	MarkGCJ02(w, "test")
	if Fix(w, Auto) || Fix(w, GCJ02) {
		t.Fatal("Fix changed a track that lies outside China")
	}
	if w.Samples[0].Lat != s.Lat || w.Samples[0].Lon != s.Lon {
		t.Fatal("position moved")
	}
	if Fix(nil, GCJ02) {
		t.Fatal("Fix(nil) = true")
	}
}

func TestMarkOnce(t *testing.T) {
	w := &workout.Workout{}
	MarkGCJ02(w, "a")
	MarkGCJ02(w, "b")
	if len(w.Notes) != 1 || !IsMarkedGCJ02(w) {
		t.Fatalf("notes %q", w.Notes)
	}
}

func TestCheckMode(t *testing.T) {
	for _, m := range append([]string{""}, Modes...) {
		if err := CheckMode(m); err != nil {
			t.Errorf("CheckMode(%q): %v", m, err)
		}
	}
	if err := CheckMode("WGS-84"); err == nil || !strings.Contains(err.Error(), "wgs84") {
		t.Errorf("CheckMode(WGS-84) = %v", err)
	}
}

func FuzzGCJToWGS(f *testing.F) {
	for _, r := range reference {
		f.Add(r.gcjLat, r.gcjLon)
	}
	f.Add(math.NaN(), math.Inf(1))
	f.Fuzz(func(t *testing.T, lat, lon float64) {
		wlat, wlon := GCJToWGS(lat, lon)
		if !InChina(lat, lon) {
			if !(wlat == lat || math.IsNaN(lat)) || !(wlon == lon || math.IsNaN(lon)) {
				t.Fatalf("moved a point outside China")
			}
			return
		}
		if d := workout.Haversine(lat, lon, wlat, wlon); d > 2000 {
			t.Fatalf("GCJToWGS(%v, %v) moved %.0f m", lat, lon, d)
		}
		glat, glon := WGSToGCJ(wlat, wlon)
		if InChina(wlat, wlon) {
			if d := workout.Haversine(lat, lon, glat, glon); d > 0.01 {
				t.Fatalf("GCJToWGS(%v, %v) is not an inverse: %.4f m", lat, lon, d)
			}
		}
	})
}

func BenchmarkGCJToWGS(b *testing.B) {
	r := reference[0]
	b.ReportAllocs()
	for b.Loop() {
		GCJToWGS(r.gcjLat, r.gcjLon)
	}
}
