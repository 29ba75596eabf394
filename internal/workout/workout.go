// Package workout holds bandsync's one canonical workout model and the pure
// computations on it (moving time, pace, splits, distance from GPS).
//
// Every source decodes into a Workout and every sink encodes from one. The model
// never invents data: a sample field that was not recorded is absent (see
// Sample.Has), which is different from a recorded zero.
package workout

import (
	"fmt"
	"sync"
	"time"
)

// Workout is one recorded activity.
type Workout struct {
	// Start is when the workout began, in UTC.
	Start time.Time
	// Zone is the UTC offset where the workout was recorded, when known.
	Zone Zone
	// Sport is what was done.
	Sport Sport
	// Name is a title given by the source or the person; empty when none.
	Name string
	// Device is the band or watch that recorded the workout.
	Device Device
	// Origin says where bandsync read the workout.
	Origin Origin
	// Samples are time-ordered (non-decreasing Time) readings.
	Samples []Sample
	// Pauses are non-overlapping, time-ordered intervals in which the
	// workout's timer was stopped (auto-pause or manual).
	Pauses []Interval
	// Laps are the laps the device recorded, time-ordered; empty when the
	// source has none (encoders may then derive per-km laps).
	Laps []Lap
	// Lengths are pool-swim lengths, time-ordered; empty for other sports.
	Lengths []Length
	// Summary holds the totals as the device reported them.
	Summary Summary
	// Notes are human-readable remarks about repairs made while decoding
	// (for example "3 heart-rate samples of 0 bpm treated as absent").
	Notes []string
}

// Zone is the offset from UTC of the place where a workout was recorded.
type Zone struct {
	Offset time.Duration // east of UTC
	Known  bool
	Name   string // IANA name when the source gave one, e.g. "Europe/Madrid"
}

// Location returns the zone as a *time.Location (UTC when unknown).
func (z Zone) Location() *time.Location {
	if !z.Known {
		return time.UTC
	}
	if z.Name != "" {
		if loc := LoadLocation(z.Name); loc != nil {
			return loc
		}
	}
	return time.FixedZone(formatOffset(z.Offset), int(z.Offset/time.Second))
}

// locations caches time.LoadLocation, which reads the zone's file each
// time. Only zones found are kept, so the cache is as small as the zone
// database whatever names the data holds.
var locations sync.Map // name → *time.Location

// LoadLocation returns the named IANA zone, or nil if it is unknown: a
// cached time.LoadLocation.
func LoadLocation(name string) *time.Location {
	if loc, ok := locations.Load(name); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil
	}
	locations.Store(name, loc)
	return loc
}

func formatOffset(d time.Duration) string {
	sign := '+'
	if d < 0 {
		sign, d = '-', -d
	}
	return fmt.Sprintf("%c%02d:%02d", sign, int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// LocalStart is Start in the zone where the workout was recorded.
func (w *Workout) LocalStart() time.Time { return w.Start.In(w.Zone.Location()) }

// End is Start plus the elapsed time.
func (w *Workout) End() time.Time { return w.Start.Add(w.Elapsed()) }

// Device identifies the recording band or watch.
type Device struct {
	Maker    string // e.g. "Zepp" (Huami), "Xiaomi", "Garmin"
	Model    string // e.g. "Amazfit Bip 3"; empty when unknown
	Product  uint16 // FIT product id when known, else 0
	Firmware string // e.g. "0.132.24.1"; empty when unknown
	Serial   uint32 // FIT serial number when known, else 0
}

// Origin says which source produced a workout and under which ID.
type Origin struct {
	Source string // "zepp", "zepp-export", "gadgetbridge", "files"
	ID     string // stable ID within the source (Zepp: the trackid)
}

// Key is a stable idempotency key for the workout, such as "zepp-1698569116".
// It is safe for file names and Strava's external_id.
func (o Origin) Key() string {
	b := make([]byte, 0, len(o.Source)+1+len(o.ID))
	b = appendSafe(b, o.Source)
	b = append(b, '-')
	b = appendSafe(b, o.ID)
	return string(b)
}

func appendSafe(b []byte, s string) []byte {
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b = append(b, byte(r))
		default:
			b = append(b, '_')
		}
	}
	return b
}

// Interval is a half-open time span [Start, End).
type Interval struct {
	Start, End time.Time
}

// Duration is End − Start (never negative).
func (i Interval) Duration() time.Duration {
	if i.End.Before(i.Start) {
		return 0
	}
	return i.End.Sub(i.Start)
}

// Contains reports whether t lies in [Start, End).
func (i Interval) Contains(t time.Time) bool { return !t.Before(i.Start) && t.Before(i.End) }

// LapTrigger says why a lap ended.
type LapTrigger uint8

// Lap triggers.
const (
	LapManual LapTrigger = iota
	LapDistance
	LapTime
	LapSessionEnd
)

// Lap is one lap of a workout. Zero totals mean "not recorded".
type Lap struct {
	Start    time.Time
	Elapsed  time.Duration
	Moving   time.Duration // timer time (elapsed minus pauses); 0 = compute
	Distance float64       // m
	Calories float64       // kcal
	AvgHR    int           // bpm
	MaxHR    int           // bpm
	Trigger  LapTrigger
}

// End is Start plus Elapsed.
func (l Lap) End() time.Time { return l.Start.Add(l.Elapsed) }

// SwimStroke is the stroke of a pool length.
type SwimStroke uint8

// Swim strokes (the FIT swim_stroke values).
const (
	StrokeFreestyle    SwimStroke = 0
	StrokeBackstroke   SwimStroke = 1
	StrokeBreaststroke SwimStroke = 2
	StrokeButterfly    SwimStroke = 3
	StrokeDrill        SwimStroke = 4
	StrokeMixed        SwimStroke = 5
	StrokeUnknown      SwimStroke = 255
)

// Length is one pool length.
type Length struct {
	Start   time.Time
	Elapsed time.Duration
	Strokes int        // 0 = not recorded
	Stroke  SwimStroke // StrokeUnknown when not recorded
	Idle    bool       // a rest length
}

// Summary holds the totals a device reported. A zero value means the device
// did not report it, except where a Workout's sport makes zero meaningful
// (a strength workout has no distance).
type Summary struct {
	Distance   float64       // m
	Elapsed    time.Duration // including pauses
	Moving     time.Duration // timer time: Elapsed minus pauses
	Calories   float64       // kcal
	Ascent     float64       // m
	Descent    float64       // m
	AvgHR      int           // bpm
	MaxHR      int           // bpm
	Steps      int
	AvgCadence float64 // per minute, unit as Sample.Cadence
	MaxCadence float64
	MaxSpeed   float64 // m/s
	PoolLength float64 // m, pool swims only
	Strokes    int     // swims: total strokes
	Stroke     SwimStroke
	// TrainingEffect is the aerobic training effect ×1 (e.g. 3.4); 0 = none.
	TrainingEffect float64
}

// Elapsed is the workout's total time including pauses: the summary's when
// reported, otherwise the span from Start to the last sample or pause.
func (w *Workout) Elapsed() time.Duration {
	if w.Summary.Elapsed > 0 {
		return w.Summary.Elapsed
	}
	var end time.Time
	if n := len(w.Samples); n > 0 {
		end = w.Samples[n-1].Time
	}
	if n := len(w.Pauses); n > 0 && w.Pauses[n-1].End.After(end) {
		end = w.Pauses[n-1].End
	}
	if n := len(w.Laps); n > 0 && w.Laps[n-1].End().After(end) {
		end = w.Laps[n-1].End()
	}
	if end.IsZero() || end.Before(w.Start) {
		return 0
	}
	return end.Sub(w.Start)
}

// Moving is the timer time: the summary's when reported, otherwise
// MovingTime(Elapsed, Pauses).
func (w *Workout) Moving() time.Duration {
	if w.Summary.Moving > 0 {
		return w.Summary.Moving
	}
	return MovingTime(w.Start, w.Elapsed(), w.Pauses)
}

// Distance is the summary distance when reported, else the last cumulative
// distance sample, else 0.
func (w *Workout) Distance() float64 {
	if w.Summary.Distance > 0 {
		return w.Summary.Distance
	}
	for i := len(w.Samples) - 1; i >= 0; i-- {
		if w.Samples[i].Has&HasDistance != 0 {
			return w.Samples[i].Distance
		}
	}
	return 0
}

// HasGPS reports whether any sample carries a position.
func (w *Workout) HasGPS() bool {
	for i := range w.Samples {
		if w.Samples[i].Has&HasPosition != 0 {
			return true
		}
	}
	return false
}

// Paused reports whether t falls in one of the workout's pauses.
func (w *Workout) Paused(t time.Time) bool {
	for _, p := range w.Pauses {
		if p.Contains(t) {
			return true
		}
		if p.Start.After(t) {
			break
		}
	}
	return false
}
