package compare

import (
	"math"
	"strconv"
	"time"

	"github.com/bandsync/bandsync/internal/workout"
)

// Points is a series of numbers; NaN marks a point the series lacks, which
// JSON writes as null (uPlot leaves a gap or spans it).
type Points []float64

// MarshalJSON writes NaN and infinities as null.
func (p Points) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 8*len(p)+2)
	b = append(b, '[')
	for i, v := range p {
		if i > 0 {
			b = append(b, ',')
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			b = append(b, "null"...)
			continue
		}
		b = strconv.AppendFloat(b, v, 'f', -1, 64)
	}
	return append(b, ']'), nil
}

// Chart is one quantity over time, the band's and Strava's on one axis.
type Chart struct {
	Key   string `json:"key"`   // "hr", "pace", "speed", "altitude", "cadence"
	Title string `json:"title"` // e.g. "Heart rate"
	Unit  string `json:"unit"`  // e.g. "bpm"
	// Invert: lower is better (pace), so the axis is drawn upside down.
	Invert bool `json:"invert,omitempty"`
	// X is seconds since the band's start, ascending; Band and Strava
	// hold a value or NaN for each X.
	X      Points `json:"x"`
	Band   Points `json:"band"`
	Strava Points `json:"strava"`
	// Note says how Strava's series was adjusted to be comparable.
	Note string `json:"note,omitempty"`
}

// Has reports whether the chart has any point of the band (band true) or
// of Strava.
func (c *Chart) Has(band bool) bool {
	p := c.Strava
	if band {
		p = c.Band
	}
	for _, v := range p {
		if !math.IsNaN(v) {
			return true
		}
	}
	return false
}

// Comparison is everything the charts and the map draw.
type Comparison struct {
	// Start is the band's start, the origin of every X.
	Start  time.Time `json:"start"`
	Charts []Chart   `json:"charts"`
	// Pauses are the band's pauses as [from, to) seconds since Start.
	Pauses [][2]float64 `json:"pauses"`
	// BandTrack and StravaTrack are [lat, lon] tracks in degrees.
	BandTrack   [][2]float64 `json:"bandTrack"`
	StravaTrack [][2]float64 `json:"stravaTrack"`
}

// Speeds below this (m/s) have no meaningful pace: standing still.
const minPaceSpeed = 0.5

// speedWindow is the span the band's speed is averaged over when it is
// derived from cumulative distance, to tame GPS jitter.
const speedWindow = 10 * time.Second

// Build lays the band's samples and Strava's streams on one time axis:
// heart rate, pace (sports on foot) or speed, altitude and cadence, with
// Strava's running cadence doubled to steps per minute like the band's.
// Strava's streams are placed by its activity's start when known, else
// from the band's start. A chart neither side has data for is left out.
// band must not be nil.
func Build(band *workout.Workout, s Streams) Comparison {
	c := Comparison{Start: band.Start, Pauses: [][2]float64{}, BandTrack: [][2]float64{}, StravaTrack: [][2]float64{}}
	offset := 0.0
	if !s.Activity.Start.IsZero() {
		offset = s.Activity.Start.Sub(band.Start).Seconds()
	}
	bx := make([]float64, len(band.Samples))
	for i, smp := range band.Samples {
		bx[i] = smp.Time.Sub(band.Start).Seconds()
	}
	sx := make([]float64, len(s.Time))
	for i, t := range s.Time {
		sx[i] = t + offset
	}
	field := func(f workout.Fields, get func(workout.Sample) float64) []float64 {
		out := make([]float64, len(band.Samples))
		for i, smp := range band.Samples {
			out[i] = math.NaN()
			if smp.Has&f != 0 {
				out[i] = get(smp)
			}
		}
		return out
	}
	stream := func(v []float64, conv func(float64) float64) []float64 {
		out := make([]float64, len(sx))
		for i := range out {
			out[i] = math.NaN()
			if len(v) == len(sx) {
				out[i] = conv(v[i])
			}
		}
		return out
	}
	same := func(v float64) float64 { return v }
	validHR := func(v float64) float64 {
		if v <= 0 || v >= 255 {
			return math.NaN()
		}
		return v
	}

	add := func(ch Chart, bv, sv []float64) {
		ch.X, ch.Band, ch.Strava = merge(bx, bv, sx, sv)
		if ch.Has(true) || ch.Has(false) {
			c.Charts = append(c.Charts, ch)
		}
	}
	add(Chart{Key: "hr", Title: "Heart rate", Unit: "bpm"},
		field(workout.HasHeartRate, func(s workout.Sample) float64 { return validHR(float64(s.HeartRate)) }),
		stream(s.HeartRate, validHR))

	speed := bandSpeed(band)
	if band.Sport.OnFoot() {
		toPace := func(v float64) float64 {
			if math.IsNaN(v) || v < minPaceSpeed {
				return math.NaN()
			}
			return 1000 / v / 60
		}
		bp := make([]float64, len(speed))
		for i, v := range speed {
			bp[i] = toPace(v)
		}
		add(Chart{Key: "pace", Title: "Pace", Unit: "min/km", Invert: true}, bp, stream(s.Velocity, toPace))
	} else {
		kmh := func(v float64) float64 { return v * 3.6 }
		bs := make([]float64, len(speed))
		for i, v := range speed {
			bs[i] = kmh(v)
		}
		add(Chart{Key: "speed", Title: "Speed", Unit: "km/h"}, bs, stream(s.Velocity, kmh))
	}
	add(Chart{Key: "altitude", Title: "Elevation", Unit: "m"},
		field(workout.HasAltitude, func(s workout.Sample) float64 { return s.Altitude }),
		stream(s.Altitude, same))
	cad := Chart{Key: "cadence", Title: "Cadence", Unit: "/min"}
	perLeg := same
	if band.Sport.OnFoot() {
		cad.Unit = "steps/min"
		cad.Note = "Strava's running cadence is per leg: doubled here"
		perLeg = func(v float64) float64 { return 2 * v }
	}
	add(cad, field(workout.HasCadence, func(s workout.Sample) float64 { return s.Cadence }), stream(s.Cadence, perLeg))

	for _, p := range workout.MergeIntervals(band.Pauses) {
		from, to := p.Start.Sub(band.Start).Seconds(), p.End.Sub(band.Start).Seconds()
		if to > 0 {
			c.Pauses = append(c.Pauses, [2]float64{max(from, 0), to})
		}
	}
	for _, smp := range band.Samples {
		if smp.Has&workout.HasPosition != 0 && workout.ValidPosition(smp.Lat, smp.Lon) {
			c.BandTrack = append(c.BandTrack, [2]float64{smp.Lat, smp.Lon})
		}
	}
	for _, p := range s.LatLng {
		if workout.ValidPosition(p[0], p[1]) {
			c.StravaTrack = append(c.StravaTrack, p)
		}
	}
	return c
}

// bandSpeed is each sample's speed in m/s: the recorded speed, else the
// distance covered over the last speedWindow of moving time; NaN when
// neither is known.
func bandSpeed(w *workout.Workout) []float64 {
	out := make([]float64, len(w.Samples))
	j := -1 // index of the window's first sample with a distance
	var dist []int
	for i, s := range w.Samples {
		out[i] = math.NaN()
		if s.Has&workout.HasSpeed != 0 {
			out[i] = s.Speed
		}
		if s.Has&workout.HasDistance == 0 {
			continue
		}
		dist = append(dist, i)
		if j < 0 {
			j = 0
		}
		// Move the window's start up while the rest still spans speedWindow.
		for j+1 < len(dist)-1 && s.Time.Sub(w.Samples[dist[j+1]].Time) >= speedWindow {
			j++
		}
		if !math.IsNaN(out[i]) || len(dist) < 2 {
			continue
		}
		first := w.Samples[dist[j]]
		moving := workout.MovingTime(first.Time, s.Time.Sub(first.Time), w.Pauses)
		if moving > 0 && s.Distance >= first.Distance {
			out[i] = (s.Distance - first.Distance) / moving.Seconds()
		}
	}
	return out
}

// merge joins two series with ascending x into one x axis; a value is NaN
// where its series has no point at that x.
func merge(ax, av, bx, bv []float64) (x, a, b Points) {
	n := len(ax) + len(bx)
	x, a, b = make(Points, 0, n), make(Points, 0, n), make(Points, 0, n)
	i, j := 0, 0
	for i < len(ax) || j < len(bx) {
		switch {
		case j >= len(bx) || (i < len(ax) && ax[i] < bx[j]):
			if !math.IsNaN(av[i]) {
				x, a, b = append(x, ax[i]), append(a, av[i]), append(b, math.NaN())
			}
			i++
		case i >= len(ax) || bx[j] < ax[i]:
			if !math.IsNaN(bv[j]) {
				x, a, b = append(x, bx[j]), append(a, math.NaN()), append(b, bv[j])
			}
			j++
		default: // the same instant
			if !math.IsNaN(av[i]) || !math.IsNaN(bv[j]) {
				x, a, b = append(x, ax[i]), append(a, av[i]), append(b, bv[j])
			}
			i, j = i+1, j+1
		}
	}
	return x, a, b
}
