package tcx

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/bandsync/bandsync/internal/format/gpx"
	"github.com/bandsync/bandsync/internal/workout"
)

// Encode writes wo to w as a TCX v2 document with one activity.
func Encode(w io.Writer, wo *workout.Workout) error {
	if wo == nil {
		return errors.New("tcx: encode: nil workout")
	}
	act := activity{
		Sport:   sportAttr(wo.Sport),
		ID:      tcxTime(wo.Start),
		Laps:    encodeLaps(wo),
		Notes:   wo.Name,
		Creator: encodeCreator(wo.Device),
	}
	doc := database{
		XMLName:        xml.Name{Space: nsTCX, Local: "TrainingCenterDatabase"},
		XSI:            nsXSI,
		SchemaLocation: schemaLocation,
		Activities:     &activities{Activity: []activity{act}},
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("tcx: encode: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", " ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("tcx: encode: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("tcx: encode: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("tcx: encode: %w", err)
	}
	return nil
}

// sportAttr maps a sport to the three values Sport_t allows.
func sportAttr(s workout.Sport) string {
	switch s {
	case workout.SportRun, workout.SportTrailRun, workout.SportTreadmill:
		return "Running"
	case workout.SportRide, workout.SportIndoorRide, workout.SportMountainBike, workout.SportGravelRide,
		workout.SportEBike, workout.SportEMountainBike, workout.SportBMX:
		return "Biking"
	}
	return "Other"
}

func encodeCreator(d workout.Device) *creator {
	name := gpx.DeviceName(d)
	if name == "" {
		return nil
	}
	return &creator{
		XSIType:   "Device_t",
		Name:      name,
		UnitID:    num(d.Serial),
		ProductID: num(d.Product),
		Version:   encodeVersion(d.Firmware),
	}
}

// encodeVersion fits a firmware string such as "0.132.24.1" into Version_t's
// four numbers. Firmware that does not fit is written as 0.0, which Decode
// reads as unknown.
func encodeVersion(fw string) *version {
	parts := strings.Split(fw, ".")
	var v [4]num
	if len(parts) < 2 || len(parts) > 4 {
		return &version{}
	}
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil {
			return &version{}
		}
		v[i] = num(n)
	}
	out := &version{Major: v[0], Minor: v[1]}
	if len(parts) > 2 {
		out.BuildMajor = &v[2]
	}
	if len(parts) > 3 {
		out.BuildMinor = &v[3]
	}
	return out
}

// lapSpan is a lap to write, with the span of samples it holds.
type lapSpan struct {
	workout.Lap
	end time.Time // exclusive; zero for the last lap
}

// maxSplits bounds per-kilometre laps: a distance beyond 10,000 km is
// corrupt, and cutting it into kilometres would take unbounded memory.
const maxSplits = 10000

// lapSpans returns the workout's laps, else its per-kilometre splits, else
// one lap for the whole workout, with totals filled in.
func lapSpans(wo *workout.Workout) []lapSpan {
	var laps []lapSpan
	var splits []workout.Split
	if d := maxDistance(wo.Samples); d > 0 && d <= maxSplits*workout.Kilometre {
		splits = wo.Splits(workout.Kilometre)
	}
	switch {
	case len(wo.Laps) > 0:
		for _, l := range wo.CompleteLaps() {
			laps = append(laps, lapSpan{Lap: l})
		}
	case len(splits) > 1:
		for _, s := range splits {
			laps = append(laps, lapSpan{Lap: workout.Lap{
				Start: s.Start, Elapsed: s.Elapsed, Moving: s.Moving, Distance: s.Distance, Trigger: workout.LapDistance,
			}})
		}
		shareCalories(laps, wo.Summary.Calories)
	default:
		laps = []lapSpan{{Lap: workout.Lap{
			Start: wo.Start, Elapsed: wo.Elapsed(), Moving: wo.Moving(), Distance: wo.Distance(),
			Calories: wo.Summary.Calories, AvgHR: wo.Summary.AvgHR, MaxHR: wo.Summary.MaxHR, Trigger: workout.LapManual,
		}}}
	}
	for i := range laps {
		l := &laps[i]
		if i+1 < len(laps) {
			l.end = laps[i+1].Start
			if l.Elapsed <= 0 {
				l.Elapsed = l.end.Sub(l.Start)
			}
		} else if l.Elapsed <= 0 {
			l.Elapsed = wo.End().Sub(l.Start)
		}
		if l.Moving <= 0 {
			l.Moving = workout.MovingTime(l.Start, l.Elapsed, wo.Pauses)
		}
	}
	return laps
}

// maxDistance is the largest cumulative distance of any sample.
func maxDistance(samples []workout.Sample) float64 {
	var d float64
	for i := range samples {
		if samples[i].Has&workout.HasDistance != 0 {
			d = max(d, samples[i].Distance)
		}
	}
	return d
}

// shareCalories gives split laps the workout's calories in proportion to
// their distance, rounding the running total so the laps add up exactly.
func shareCalories(laps []lapSpan, total float64) {
	var dist float64
	for _, l := range laps {
		dist += l.Distance
	}
	if total <= 0 || dist <= 0 {
		return
	}
	var cum, given float64
	for i := range laps {
		cum += laps[i].Distance
		upTo := math.Round(total * cum / dist)
		laps[i].Calories = upTo - given
		given = upTo
	}
}

func encodeLaps(wo *workout.Workout) []lap {
	spans := lapSpans(wo)
	onFoot := wo.Sport.OnFoot()
	out := make([]lap, len(spans))
	// Stretches between pauses, cut again at lap boundaries.
	stretches := gpx.Stretches(wo.Samples, wo.Pauses)
	for i, sp := range spans {
		l := lap{
			StartTime:        tcxTime(sp.Start),
			TotalTimeSeconds: num(max(0, sp.Moving.Seconds())),
			DistanceMeters:   num(finiteOr0(sp.Distance)),
			Calories:         num(math.Min(math.Round(finiteOr0(sp.Calories)), math.MaxUint16)),
			Intensity:        "Active",
			TriggerMethod:    triggerMethod(sp.Trigger),
		}
		var hrSum, hrN, hrMax int
		var maxSpeed float64
		for _, stretch := range stretches {
			var t *track
			for j := range stretch {
				s := &stretch[j]
				if (i > 0 && s.Time.Before(sp.Start)) || (!sp.end.IsZero() && !s.Time.Before(sp.end)) {
					continue
				}
				if t == nil {
					t = &track{}
					l.Tracks = append(l.Tracks, t)
				}
				t.Points = append(t.Points, encodePoint(s, onFoot))
				if s.Has&workout.HasHeartRate != 0 && s.HeartRate > 0 {
					hrSum, hrN, hrMax = hrSum+int(s.HeartRate), hrN+1, max(hrMax, int(s.HeartRate))
				}
				if s.Has&workout.HasSpeed != 0 {
					maxSpeed = max(maxSpeed, s.Speed)
				}
			}
		}
		avgHR, maxHR := sp.AvgHR, sp.MaxHR
		if avgHR <= 0 && hrN > 0 {
			avgHR = int(math.Round(float64(hrSum) / float64(hrN)))
		}
		if maxHR <= 0 {
			maxHR = hrMax
		}
		if avgHR > 0 && avgHR <= 255 {
			l.AverageHeartRate = &bpm{num(avgHR)}
		}
		if maxHR > 0 && maxHR <= 255 {
			l.MaximumHeartRate = &bpm{num(maxHR)}
		}
		if len(spans) == 1 && wo.Summary.MaxSpeed > 0 {
			maxSpeed = wo.Summary.MaxSpeed
		}
		if maxSpeed > 0 && finite(maxSpeed) {
			l.MaximumSpeed = numPtr(maxSpeed)
		}
		out[i] = l
	}
	return out
}

func triggerMethod(t workout.LapTrigger) string {
	switch t {
	case workout.LapDistance:
		return "Distance"
	case workout.LapTime:
		return "Time"
	}
	return "Manual"
}

// encodePoint converts one sample; values the schema cannot hold (a heart
// rate of 0, a cadence above 254) are left out.
func encodePoint(s *workout.Sample, onFoot bool) *trackpoint {
	p := &trackpoint{Time: tcxTime(s.Time)}
	if s.Has&workout.HasPosition != 0 && workout.ValidPosition(s.Lat, s.Lon) && s.Lon < 180 {
		p.Position = &position{Lat: num(s.Lat), Lon: num(s.Lon)}
	}
	if s.Has&workout.HasAltitude != 0 && finite(s.Altitude) {
		p.Altitude = numPtr(s.Altitude)
	}
	if s.Has&workout.HasDistance != 0 && finite(s.Distance) {
		p.Distance = numPtr(s.Distance)
	}
	if s.Has&workout.HasHeartRate != 0 && s.HeartRate > 0 {
		p.HeartRate = &bpm{num(s.HeartRate)}
	}
	var x tpx
	if s.Has&workout.HasCadence != 0 && finite(s.Cadence) && s.Cadence >= 0 {
		if onFoot {
			if c := math.Round(s.Cadence / 2); c <= 254 {
				x.RunCadence = numPtr(c)
			}
		} else if c := math.Round(s.Cadence); c <= 254 {
			p.Cadence = numPtr(c)
		}
	}
	if s.Has&workout.HasSpeed != 0 && finite(s.Speed) {
		x.Speed = numPtr(s.Speed)
	}
	if s.Has&workout.HasPower != 0 {
		x.Watts = numPtr(float64(s.Power))
	}
	if x != (tpx{}) {
		x.XMLName = xml.Name{Space: nsAX, Local: "TPX"}
		p.Extensions = &extensions{TPX: &x}
	}
	return p
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// finiteOr0 keeps a corrupt total (a sum that overflowed) out of the file,
// where xsd:double has no infinity bandsync would want to write.
func finiteOr0(f float64) float64 {
	if !finite(f) || f < 0 {
		return 0
	}
	return f
}
