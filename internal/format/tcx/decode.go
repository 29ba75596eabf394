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

	"golang.org/x/net/html/charset"

	"github.com/bandsync/bandsync/internal/format/gpx"
	"github.com/bandsync/bandsync/internal/workout"
)

// ErrNoActivity is returned for a TCX document without an activity (or
// whose activity has neither laps nor trackpoints), such as a course or a
// workout plan.
var ErrNoActivity = errors.New("TCX has no activity")

// Decode reads the first activity of a TCX document into a workout.
// Optional elements may be missing. Trackpoints without a time are dropped;
// this and other repairs are listed in Notes.
func Decode(r io.Reader) (*workout.Workout, error) {
	var doc database
	dec := xml.NewDecoder(r)
	dec.CharsetReader = charset.NewReaderLabel
	switch err := dec.Decode(&doc); {
	case errors.Is(err, io.EOF):
		return nil, errors.New("tcx: no XML element found (empty file or not XML)")
	case err != nil:
		return nil, fmt.Errorf("tcx: %w", err)
	}
	if doc.XMLName.Local != "TrainingCenterDatabase" {
		return nil, fmt.Errorf("tcx: root element is <%s>, not <TrainingCenterDatabase>", doc.XMLName.Local)
	}
	if doc.Activities == nil || len(doc.Activities.Activity) == 0 {
		return nil, fmt.Errorf("tcx: %w", ErrNoActivity)
	}
	act := &doc.Activities.Activity[0]
	wo := &workout.Workout{Name: strings.TrimSpace(act.Notes)}
	if n := len(doc.Activities.Activity) - 1; n > 0 {
		wo.Notes = append(wo.Notes, fmt.Sprintf("TCX holds %d more activities after the first; only the first was read", n))
	}
	wo.Sport = decodeSport(wo, act.Sport)
	if c := act.Creator; c != nil {
		wo.Device = decodeDevice(c)
	}
	d := decoder{wo: wo}
	var laps []workout.Lap
	for i := range act.Laps {
		laps = append(laps, d.lap(&act.Laps[i]))
	}
	if len(laps) == 0 && len(wo.Samples) == 0 {
		return nil, fmt.Errorf("tcx: %w", ErrNoActivity)
	}
	d.notes()
	wo.Normalize()

	wo.Start = act.ID.Time()
	if wo.Start.IsZero() && len(laps) > 0 {
		wo.Start = laps[0].Start
	}
	if n := len(wo.Samples); n > 0 && (wo.Start.IsZero() || wo.Samples[0].Time.Before(wo.Start)) {
		wo.Start = wo.Samples[0].Time
	}
	if wo.Start.IsZero() {
		return nil, fmt.Errorf("tcx: activity has no times: cannot place it in time")
	}
	lapElapsed(laps, wo)
	summarise(wo, laps)
	if len(laps) > 1 {
		wo.Laps = laps
	}
	return wo, nil
}

func decodeSport(wo *workout.Workout, attr string) workout.Sport {
	switch attr {
	case "Running":
		return workout.SportRun
	case "Biking":
		return workout.SportRide
	case "Other", "":
		return workout.SportOther
	}
	s, ok := gpx.SportFromName(attr)
	if !ok {
		wo.Notes = append(wo.Notes, fmt.Sprintf("unknown TCX sport %q: sport left as %s", attr, s))
	}
	return s
}

func decodeDevice(c *creator) workout.Device {
	d := gpx.DeviceFromName(c.Name)
	if d == (workout.Device{}) {
		return d // an application, not a device
	}
	if c.ProductID > 0 && c.ProductID <= math.MaxUint16 {
		d.Product = uint16(c.ProductID)
	}
	if c.UnitID > 0 && c.UnitID <= math.MaxUint32 {
		d.Serial = uint32(c.UnitID)
	}
	if v := c.Version; v != nil && (v.Major > 0 || v.Minor > 0 || v.BuildMajor != nil) {
		parts := []string{fmtUint(v.Major), fmtUint(v.Minor)}
		for _, b := range []*num{v.BuildMajor, v.BuildMinor} {
			if b != nil {
				parts = append(parts, fmtUint(*b))
			}
		}
		d.Firmware = strings.Join(parts, ".")
	}
	return d
}

func fmtUint(n num) string {
	return strconv.FormatFloat(math.Max(0, math.Round(float64(n))), 'f', -1, 64)
}

// decoder holds the state of one Decode call.
type decoder struct {
	wo     *workout.Workout
	noTime int // trackpoints dropped for want of a time
	badPos int // trackpoints kept without their impossible position
	badHR  int // heart rates outside workout.ValidHeartRate
}

// lap reads one lap: its tracks' samples, the pauses between its tracks,
// and its totals. Elapsed is filled in later by lapElapsed.
func (d *decoder) lap(l *lap) workout.Lap {
	out := workout.Lap{
		Start:    l.StartTime.Time(),
		Moving:   seconds(l.TotalTimeSeconds),
		Distance: nonNegative(l.DistanceMeters),
		Calories: nonNegative(l.Calories),
		Trigger:  decodeTrigger(l.TriggerMethod),
	}
	if l.AverageHeartRate != nil {
		out.AvgHR = heartRate(l.AverageHeartRate.Value)
	}
	if l.MaximumHeartRate != nil {
		out.MaxHR = heartRate(l.MaximumHeartRate.Value)
	}
	var lapFirst, prevEnd time.Time
	for _, t := range l.Tracks {
		if t == nil {
			continue
		}
		var first, last time.Time
		for _, p := range t.Points {
			if p == nil {
				continue
			}
			s, ok := d.sample(p)
			if !ok {
				continue
			}
			if first.IsZero() || s.Time.Before(first) {
				first = s.Time
			}
			if s.Time.After(last) {
				last = s.Time
			}
			d.wo.Samples = append(d.wo.Samples, s)
		}
		if first.IsZero() {
			continue
		}
		if lapFirst.IsZero() || first.Before(lapFirst) {
			lapFirst = first
		}
		if !prevEnd.IsZero() && first.After(prevEnd) {
			d.wo.Pauses = append(d.wo.Pauses, workout.Interval{Start: prevEnd, End: first})
		}
		prevEnd = last
	}
	if out.Start.IsZero() {
		out.Start = lapFirst
	}
	if l.MaximumSpeed != nil && *l.MaximumSpeed > 0 {
		d.wo.Summary.MaxSpeed = max(d.wo.Summary.MaxSpeed, float64(*l.MaximumSpeed))
	}
	return out
}

// sample converts one trackpoint; ok is false when it has no time.
func (d *decoder) sample(p *trackpoint) (s workout.Sample, ok bool) {
	if p.Time.Time().IsZero() {
		d.noTime++
		return s, false
	}
	s.Time = p.Time.Time()
	if pos := p.Position; pos != nil {
		if workout.ValidPosition(float64(pos.Lat), float64(pos.Lon)) {
			s.SetPosition(float64(pos.Lat), float64(pos.Lon))
		} else {
			d.badPos++
		}
	}
	if p.Altitude != nil {
		s.SetAltitude(float64(*p.Altitude))
	}
	if p.Distance != nil && *p.Distance >= 0 {
		s.SetDistance(float64(*p.Distance))
	}
	if p.HeartRate != nil {
		if hr := heartRate(p.HeartRate.Value); hr > 0 {
			s.SetHeartRate(uint8(hr))
		} else {
			d.badHR++
		}
	}
	if p.Cadence != nil && *p.Cadence >= 0 {
		s.SetCadence(float64(*p.Cadence))
	}
	if p.Extensions == nil || p.Extensions.TPX == nil {
		return s, true
	}
	x := p.Extensions.TPX
	if x.RunCadence != nil && *x.RunCadence >= 0 {
		s.SetCadence(2 * float64(*x.RunCadence)) // strides to steps
	}
	if x.Speed != nil && *x.Speed >= 0 {
		s.SetSpeed(float64(*x.Speed))
	}
	if x.Watts != nil && *x.Watts >= 0 && *x.Watts <= math.MaxUint16 {
		s.SetPower(uint16(math.Round(float64(*x.Watts))))
	}
	return s, true
}

// heartRate returns a plausible heart rate in bpm, or 0.
func heartRate(n num) int {
	if hr := math.Round(float64(n)); workout.ValidHeartRate(int(hr)) {
		return int(hr)
	}
	return 0
}

func seconds(n num) time.Duration {
	if n <= 0 || float64(n) > math.MaxInt64/float64(time.Second) {
		return 0
	}
	return time.Duration(math.Round(float64(n) * float64(time.Second)))
}

func nonNegative(n num) float64 { return math.Max(0, float64(n)) }

func decodeTrigger(s string) workout.LapTrigger {
	switch strings.TrimSpace(s) {
	case "Distance":
		return workout.LapDistance
	case "Time":
		return workout.LapTime
	}
	return workout.LapManual
}

// lapElapsed fills each lap's wall time: up to the next lap's start, and for
// the last lap its timer time plus the pauses inside it, or up to its last
// sample if that is later.
func lapElapsed(laps []workout.Lap, wo *workout.Workout) {
	for i := range laps {
		l := &laps[i]
		if i+1 < len(laps) {
			l.Elapsed = max(0, laps[i+1].Start.Sub(l.Start))
			continue
		}
		end := l.Start.Add(l.Moving)
		for _, p := range wo.Pauses {
			if !p.Start.Before(l.Start) {
				end = end.Add(p.Duration())
			}
		}
		if n := len(wo.Samples); n > 0 && wo.Samples[n-1].Time.After(end) {
			end = wo.Samples[n-1].Time
		}
		l.Elapsed = max(0, end.Sub(l.Start))
	}
}

// summarise fills the summary from the laps' totals.
func summarise(wo *workout.Workout, laps []workout.Lap) {
	sum := &wo.Summary
	var hrWeighted, hrWeight float64
	for _, l := range laps {
		sum.Distance += l.Distance
		sum.Moving += l.Moving
		sum.Calories += l.Calories
		sum.MaxHR = max(sum.MaxHR, l.MaxHR)
		if l.AvgHR > 0 && l.Moving > 0 {
			hrWeighted += float64(l.AvgHR) * l.Moving.Seconds()
			hrWeight += l.Moving.Seconds()
		}
	}
	if hrWeight > 0 {
		sum.AvgHR = int(math.Round(hrWeighted / hrWeight))
	}
	if n := len(laps); n > 0 {
		if end := laps[n-1].End(); end.After(wo.Start) {
			sum.Elapsed = end.Sub(wo.Start)
		}
	}
}

// notes records the repairs Decode made.
func (d *decoder) notes() {
	if d.noTime > 0 {
		d.wo.Notes = append(d.wo.Notes, fmt.Sprintf("%d trackpoints without a time dropped", d.noTime))
	}
	if d.badPos > 0 {
		d.wo.Notes = append(d.wo.Notes, fmt.Sprintf("%d trackpoints with impossible coordinates kept without a position", d.badPos))
	}
	if d.badHR > 0 {
		d.wo.Notes = append(d.wo.Notes, fmt.Sprintf("%d heart-rate readings outside 25-250 bpm (such as 0) treated as absent", d.badHR))
	}
}
