package workout

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// MovingTime is elapsed minus the part of each pause that lies inside
// [start, start+elapsed). Overlapping pauses are counted once.
func MovingTime(start time.Time, elapsed time.Duration, pauses []Interval) time.Duration {
	end := start.Add(elapsed)
	paused := time.Duration(0)
	var last time.Time // end of the pause counted so far
	for _, p := range pauses {
		s, e := p.Start, p.End
		if s.Before(start) {
			s = start
		}
		if s.Before(last) {
			s = last
		}
		if e.After(end) {
			e = end
		}
		if e.After(s) {
			paused += e.Sub(s)
			last = e
		}
	}
	if paused > elapsed {
		return 0
	}
	return elapsed - paused
}

// Pace is seconds per kilometre for distance metres covered in d; 0 when
// distance is 0.
func Pace(d time.Duration, distance float64) time.Duration {
	if distance <= 0 {
		return 0
	}
	return time.Duration(float64(d) / distance * 1000)
}

// Haversine is the great-circle distance in metres between two positions
// given in degrees.
func Haversine(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371008.8 // mean Earth radius, m (IUGG)
	p1, p2 := lat1*math.Pi/180, lat2*math.Pi/180
	dp, dl := p2-p1, (lon2-lon1)*math.Pi/180
	a := math.Sin(dp/2)*math.Sin(dp/2) + math.Cos(p1)*math.Cos(p2)*math.Sin(dl/2)*math.Sin(dl/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(a)))
}

// FillDistanceFromGPS gives every sample a cumulative distance computed from
// its positions, when no sample has a recorded distance. Movement across a
// pause is not counted. It reports whether it filled anything.
func (w *Workout) FillDistanceFromGPS() bool {
	for i := range w.Samples {
		if w.Samples[i].Has&HasDistance != 0 {
			return false
		}
	}
	if !w.HasGPS() {
		return false
	}
	var total float64
	var prev *Sample
	for i := range w.Samples {
		s := &w.Samples[i]
		if s.Has&HasPosition != 0 {
			if prev != nil && !w.pausedBetween(prev.Time, s.Time) {
				total += Haversine(prev.Lat, prev.Lon, s.Lat, s.Lon)
			}
			prev = s
		}
		s.SetDistance(total)
	}
	return true
}

// pausedBetween reports whether a pause overlaps the span from a to b.
func (w *Workout) pausedBetween(a, b time.Time) bool {
	for _, p := range w.Pauses {
		if p.Start.Before(b) && p.End.After(a) {
			return true
		}
	}
	return false
}

// Split is one full or partial unit of distance (a km or a mile).
type Split struct {
	Index    int           // 1-based
	Distance float64       // m in this split (the last may be short)
	Elapsed  time.Duration // wall time
	Moving   time.Duration // elapsed minus pauses
	Start    time.Time
}

// Pace is the split's moving time per kilometre.
func (s Split) Pace() time.Duration { return Pace(s.Moving, s.Distance) }

// Units for Splits.
const (
	Kilometre = 1000.0
	Mile      = 1609.344
)

// MaxSplits bounds Splits: a distance that would need more pieces is
// corrupt (10 000 km), and Splits returns nil for it.
const MaxSplits = 10000

// Splits cuts the workout into consecutive pieces of unit metres (Kilometre
// or Mile) using the samples' cumulative distance, interpolating the instant
// each boundary was crossed. The last split holds the remainder. It returns
// nil when no sample has a distance, or when the distance would make more
// than MaxSplits pieces.
func (w *Workout) Splits(unit float64) []Split {
	if unit <= 0 {
		return nil
	}
	last := -1
	for i := len(w.Samples) - 1; i >= 0; i-- {
		if w.Samples[i].Has&HasDistance != 0 {
			last = i
			break
		}
	}
	if last < 0 || w.Samples[last].Distance/unit > MaxSplits {
		return nil
	}
	out := make([]Split, 0, int(w.Samples[last].Distance/unit)+1)
	cur := Split{Index: 1, Start: w.Start}
	next := unit
	prevT, prevD := w.Start, 0.0
	closeAt := func(t time.Time, d float64) {
		cur.Distance = d - float64(cur.Index-1)*unit
		cur.Elapsed = t.Sub(cur.Start)
		cur.Moving = MovingTime(cur.Start, cur.Elapsed, w.Pauses)
		out = append(out, cur)
		cur = Split{Index: cur.Index + 1, Start: t}
	}
	for i := range w.Samples[:last+1] {
		p := &w.Samples[i]
		if p.Has&HasDistance == 0 {
			continue
		}
		for p.Distance >= next {
			frac := 1.0 // where between prev and p the boundary lies
			if p.Distance > prevD {
				frac = (next - prevD) / (p.Distance - prevD)
			}
			t := prevT.Add(time.Duration(frac * float64(p.Time.Sub(prevT))))
			closeAt(t, next)
			prevT, prevD = t, next
			next += unit
		}
		prevT, prevD = p.Time, p.Distance
	}
	end := w.End()
	if lt := w.Samples[last].Time; end.Before(lt) {
		end = lt
	}
	if d := w.Samples[last].Distance; d > float64(cur.Index-1)*unit+0.5 {
		closeAt(end, d)
	}
	return out
}

// Normalize puts a workout in canonical order: samples sorted by time with
// equal instants merged, pauses sorted and merged, laps and lengths sorted.
// Decoders call it last; it records what it repaired in Notes.
func (w *Workout) Normalize() {
	w.Start = w.Start.UTC()
	if !sort.SliceIsSorted(w.Samples, func(i, j int) bool { return w.Samples[i].Time.Before(w.Samples[j].Time) }) {
		sort.SliceStable(w.Samples, func(i, j int) bool { return w.Samples[i].Time.Before(w.Samples[j].Time) })
	}
	if n := len(w.Samples); n > 1 {
		out := w.Samples[:1]
		for _, s := range w.Samples[1:] {
			if last := &out[len(out)-1]; last.Time.Equal(s.Time) {
				last.Merge(s)
				continue
			}
			out = append(out, s)
		}
		w.Samples = out
	}
	w.Pauses = MergeIntervals(w.Pauses)
	sort.SliceStable(w.Laps, func(i, j int) bool { return w.Laps[i].Start.Before(w.Laps[j].Start) })
	sort.SliceStable(w.Lengths, func(i, j int) bool { return w.Lengths[i].Start.Before(w.Lengths[j].Start) })
}

// Validate reports the first way w breaks what every decoder promises of
// a workout (nil if none): samples strictly in time order, heart rates and
// positions only where plausible, pauses sorted, apart and not empty, laps
// sorted. Normalize and the decoders' filters establish it.
func (w *Workout) Validate() error {
	for i, s := range w.Samples {
		if i > 0 && !s.Time.After(w.Samples[i-1].Time) {
			return fmt.Errorf("sample %d is not after sample %d", i, i-1)
		}
		if s.Has&HasHeartRate != 0 && !ValidHeartRate(int(s.HeartRate)) {
			return fmt.Errorf("sample %d has heart rate %d", i, s.HeartRate)
		}
		if s.Has&HasPosition != 0 && !ValidPosition(s.Lat, s.Lon) {
			return fmt.Errorf("sample %d has position %v,%v", i, s.Lat, s.Lon)
		}
	}
	for i, p := range w.Pauses {
		if !p.End.After(p.Start) {
			return fmt.Errorf("pause %d is empty", i)
		}
		if i > 0 && !p.Start.After(w.Pauses[i-1].End) {
			return fmt.Errorf("pause %d does not start after pause %d ends", i, i-1)
		}
	}
	for i := 1; i < len(w.Laps); i++ {
		if w.Laps[i].Start.Before(w.Laps[i-1].Start) {
			return fmt.Errorf("lap %d starts before lap %d", i, i-1)
		}
	}
	return nil
}

// MergeIntervals sorts intervals and merges overlapping or touching ones,
// dropping empty ones.
func MergeIntervals(in []Interval) []Interval {
	if len(in) == 0 {
		return in
	}
	s := make([]Interval, 0, len(in))
	for _, iv := range in {
		if iv.End.After(iv.Start) {
			s = append(s, iv)
		}
	}
	sort.Slice(s, func(i, j int) bool { return s[i].Start.Before(s[j].Start) })
	out := s[:0]
	for _, iv := range s {
		if n := len(out); n > 0 && !iv.Start.After(out[n-1].End) {
			if iv.End.After(out[n-1].End) {
				out[n-1].End = iv.End
			}
			continue
		}
		out = append(out, iv)
	}
	return out
}

// CompleteLaps returns the workout's own laps, followed, when they end
// before the workout does (a band that records only whole kilometres), by a
// last lap for the rest: its distance is what the laps leave of the
// workout's distance. Encoders write these so that laps add up to the
// whole workout. It returns nil when the workout has no laps.
func (w *Workout) CompleteLaps() []Lap {
	if len(w.Laps) == 0 {
		return nil
	}
	laps := append([]Lap(nil), w.Laps...)
	last := laps[len(laps)-1]
	end := w.End()
	if last.Elapsed <= 0 || end.Sub(last.End()) < time.Second {
		return laps
	}
	var covered float64
	for _, l := range laps {
		covered += l.Distance
	}
	rest := Lap{Start: last.End(), Elapsed: end.Sub(last.End()), Distance: max(0, w.Distance()-covered), Trigger: LapSessionEnd}
	rest.Moving = MovingTime(rest.Start, rest.Elapsed, w.Pauses)
	return append(laps, rest)
}
