package zeppjson

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/bandsync/bandsync/internal/workout"
)

// Source is the Origin.Source of decoded workouts.
const Source = "zepp"

// Plausibility bounds beyond which a reading is dropped (and counted in
// Notes). The format's own "no value" markers are dropped silently.
const (
	maxCadence = 300   // per minute; the walk fixture has a gait outlier of 1169
	maxSpeed   = 100.0 // m/s
	maxPower   = 5000  // W
)

// trackid bounds: 2000-01-01 to 2100-01-01, Unix seconds.
const minTrackID, maxTrackID = 946684800, 4102444800

// Decode turns a summary entry and its detail into a workout. summary may be
// nil, in which case the totals come from the detail and the sport is
// SportOther; detail may carry the response wrapper. Repairs made (readings
// dropped as implausible, streams of different lengths) are listed in
// Workout.Notes. The result is normalized.
func Decode(summary, detail []byte) (*workout.Workout, error) {
	return decode(summary, detail, false)
}

// decode is Decode; general makes it use only the general stream parsers,
// which the fast paths must agree with (tests).
func decode(summary, detail []byte, general bool) (*workout.Workout, error) {
	var sum *Summary
	if summary != nil {
		s, err := DecodeSummary(summary)
		if err != nil {
			return nil, err
		}
		sum = &s
	}
	d, err := parseDetailWith(detail, general)
	if err != nil {
		return nil, err
	}
	defer d.release()
	return build(sum, d)
}

func build(sum *Summary, d *detail) (*workout.Workout, error) {
	var t0 int64
	switch {
	case sum != nil && sum.TrackID != 0:
		t0 = sum.TrackID
		if d.hasTrackID && d.trackID != t0 {
			return nil, fmt.Errorf("summary trackid %d does not match detail trackid %d", t0, d.trackID)
		}
	case d.hasTrackID:
		t0 = d.trackID
	default:
		return nil, fieldErr("trackid", -1, "missing from both summary and detail")
	}
	if t0 < minTrackID || t0 >= maxTrackID {
		return nil, fieldErr("trackid", -1, "%d is not a start time between 2000 and 2100", t0)
	}
	w := &workout.Workout{
		Start:  time.Unix(t0, 0).UTC(),
		Device: workout.Device{Maker: Maker},
		Origin: workout.Origin{Source: Source, ID: strconv.FormatInt(t0, 10)},
	}
	if d.streams == 0 {
		w.Notes = append(w.Notes, "detail holds no streams (a wrong source in the detail request returns such an empty body)")
	}
	w.Notes = append(w.Notes, d.notes...)
	if sum != nil {
		applySummary(w, sum)
	} else {
		w.Notes = append(w.Notes, "no summary: sport unknown, totals derived from the detail streams")
	}
	end := buildSamples(w, d)
	buildPauses(w, d, t0)
	if sum == nil || w.Summary.Elapsed == 0 {
		if n := len(w.Pauses); n > 0 && w.Pauses[n-1].End.After(end) {
			end = w.Pauses[n-1].End
		}
		w.Summary.Elapsed = end.Sub(w.Start)
	}
	if sum == nil {
		w.Summary.Moving = workout.MovingTime(w.Start, w.Summary.Elapsed, workout.MergeIntervals(append([]workout.Interval(nil), w.Pauses...)))
		for i := len(w.Samples) - 1; i >= 0; i-- {
			if w.Samples[i].Has&workout.HasDistance != 0 {
				w.Summary.Distance = w.Samples[i].Distance
				break
			}
		}
		w.Summary.Steps = int(max(0, min(d.gaitSteps, math.MaxInt32)))
	}
	buildLaps(w, d, sum)
	// Of what Normalize does only the pauses need doing: buildSamples makes
	// one sample per second in time order and parseLaps keeps the laps in
	// order, while Normalize would check and copy every sample again (a
	// tenth of a decode). TestDecodedIsNormalized holds this to Normalize.
	w.Pauses = workout.MergeIntervals(w.Pauses)
	return w, nil
}

func applySummary(w *workout.Workout, s *Summary) {
	sport, ok := workout.SportFromZepp(s.Type)
	w.Sport = sport
	if !ok {
		w.Notes = append(w.Notes, fmt.Sprintf("unknown Zepp sport type %d (sport_mode %d), recorded as %s", s.Type, s.SportMode, sport))
	}
	w.Device = DeviceModel(s.BindDevice)
	if s.Timezone != "" {
		w.Zone.Name = s.Timezone
		if loc := workout.LoadLocation(s.Timezone); loc != nil {
			_, off := w.Start.In(loc).Zone()
			w.Zone.Offset, w.Zone.Known = time.Duration(off)*time.Second, true
		} else {
			w.Notes = append(w.Notes, fmt.Sprintf("time zone %q is unknown to this system; local time not known", s.Timezone))
		}
	}
	t := &w.Summary
	switch span := s.EndTime - s.TrackID; {
	case span > maxOffset:
		w.Notes = append(w.Notes, fmt.Sprintf("end_time is %d s after the start, beyond the %v limit; elapsed time taken from the streams", span, MaxDuration))
	case span > 0:
		t.Elapsed = time.Duration(span) * time.Second
	}
	t.Moving = positiveSeconds(float64(s.RunTime))
	t.Distance = positive(s.Distance)
	t.Calories = positive(s.Calories)
	t.Ascent, t.Descent = positive(s.Ascent), positive(s.Descent)
	t.AvgHR, t.MaxHR = validHR(s.AvgHR), validHR(s.MaxHR)
	t.Steps = max(s.Steps, 0)
	if p := s.FastestPace(); p > 0 {
		t.MaxSpeed = 1 / p
	}
	switch {
	case sport.Swimming():
		t.AvgCadence = positive(s.AvgStrokeSpeed * 60)
		if t.MaxCadence = positive(s.MaxStrokeSpeed * 60); t.MaxCadence == 0 {
			t.MaxCadence = positive(float64(s.MaxFrequency))
		}
		t.PoolLength = positive(float64(s.PoolLength))
		t.Strokes = max(s.Strokes, 0)
		t.Stroke = swimStroke(s.SwimStyle)
		if s.Trips > 0 {
			w.Notes = append(w.Notes, fmt.Sprintf("%d pool lengths (total_trips); the cloud sends no per-length times, so the workout lists no lengths", s.Trips))
		}
	case s.AvgFrequency > 0 || s.MaxFrequency > 0:
		t.AvgCadence = positive(s.AvgFrequency)
		t.MaxCadence = positive(float64(s.MaxFrequency))
	default:
		t.AvgCadence = positive(float64(s.AvgCadence))
		t.MaxCadence = positive(float64(s.MaxCadence))
	}
	if s.TE > 0 {
		t.TrainingEffect = float64(s.TE) / 10
	}
}

// swimStroke maps swim_style (zepp-fit-extractor FitConverter.swimStroke);
// 3 is undocumented.
func swimStroke(style int) workout.SwimStroke {
	switch style {
	case 1:
		return workout.StrokeBreaststroke
	case 2:
		return workout.StrokeFreestyle
	case 4:
		return workout.StrokeMixed
	}
	return workout.StrokeUnknown
}

func positive(v float64) float64 {
	if v > 0 && !math.IsInf(v, 0) {
		return v
	}
	return 0
}

func positiveSeconds(s float64) time.Duration {
	if s > 0 && s < float64(maxOffset) {
		return time.Duration(s * float64(time.Second))
	}
	return 0
}

func validHR(bpm int) int {
	if workout.ValidHeartRate(bpm) {
		return bpm
	}
	return 0
}

// filter keeps the points ok accepts and returns how many it dropped. It
// reuses pts' array (the detail is decoded once): pts is garbage afterwards.
func filter(pts []valPoint, ok func(v float64) bool) ([]valPoint, int) {
	out := pts[:0]
	for _, p := range pts {
		if ok(p.v) {
			out = append(out, p)
		}
	}
	return out, len(pts) - len(out)
}

// buildSamples puts every recorded reading on the union of the streams'
// timestamps and returns the time of the last reading of any stream. No
// value is interpolated or carried over: a sample has a field only when a
// stream recorded it at that second.
func buildSamples(w *workout.Workout, d *detail) time.Time {
	notef := func(format string, args ...any) { w.Notes = append(w.Notes, fmt.Sprintf(format, args...)) }
	streamEnd := lastOff(d) // before the filters below reuse the arrays
	inRange := func(lo, hi float64) func(float64) bool {
		return func(v float64) bool { return v >= lo && v <= hi }
	}

	// heart rate: 0 is "no reading"; 255 and the like are not heart rates
	zeros := 0
	hr, bad := filter(d.hr, func(v float64) bool {
		if v == 0 {
			zeros++
			return false
		}
		return v == math.Trunc(v) && workout.ValidHeartRate(int(v))
	})
	switch {
	case zeros > 0 && zeros == len(d.hr):
		notef("heart_rate holds only 0 bpm (no sensor reading): no heart-rate samples")
	case zeros > 0:
		notef("%d heart-rate readings of 0 bpm treated as absent", zeros)
	}
	if bad -= zeros; bad > 0 {
		notef("%d heart-rate readings outside 25–250 bpm treated as absent", bad)
	}

	// gait cadence: 0 means n/a
	zeros = 0
	cad, bad := filter(d.gait, func(v float64) bool {
		if v == 0 {
			zeros++
		}
		return v > 0 && v <= maxCadence
	})
	if bad -= zeros; bad > 0 {
		notef("%d gait cadence values outside 0–%d steps/min treated as absent", bad, maxCadence)
	}
	stroke, nStroke := filter(d.stroke, inRange(0, maxCadence/60.0))
	rpm, nRPM := filter(d.cadence, inRange(0, maxCadence))
	if n := nStroke + nRPM; n > 0 {
		notef("%d cadence values outside 0–%d per minute treated as absent", n, maxCadence)
	}
	speed, n := filter(d.speed, inRange(0, maxSpeed))
	if n > 0 {
		notef("%d speed values outside 0–%g m/s treated as absent", n, maxSpeed)
	}
	power, n := filter(d.power, inRange(0, maxPower))
	if n > 0 {
		notef("%d power values outside 0–%d W treated as absent", n, maxPower)
	}
	dist := d.distance
	if len(dist) == 0 && len(d.curDist) > 0 {
		// currentDistance is cumulative: a step back is a glitch, not a reading
		last := -1.0
		dist, n = filter(d.curDist, func(v float64) bool {
			if v < last {
				return false
			}
			last = v
			return true
		})
		if n > 0 {
			notef("%d currentDistance values going backwards treated as absent", n)
		}
	}
	if d.distDrops > 0 {
		notef("%d negative distance deltas ignored", d.distDrops)
	}
	var alt []valPoint
	if d.altEntries == d.altSentinels+d.altInvalid && len(d.tdAlt) > 0 {
		// no usable per-GPS-point altitude: use time_delta_altitude (cm)
		alt, n = filter(d.tdAlt, inRange(-50000+1, 1000000-1))
		if n > 0 {
			notef("%d time_delta_altitude values outside -500…10000 m treated as absent", n)
		}
	}

	// the streams in the order they are applied: a later one wins where
	// two set the same field at the same second
	streams := [...][]valPoint{hr, cad, stroke, rpm, speed, dist, power, alt}

	// Pass 1: mark the seconds that get a sample. Offsets are bounded by
	// MaxDuration, so a dense index is cheap and keeps samples in time order
	// without sorting.
	last := int32(-1)
	for _, p := range d.gps {
		if (p.fix || p.hasAlt) && p.off > last {
			last = p.off
		}
	}
	for _, pts := range streams {
		if n := len(pts); n > 0 && pts[n-1].off > last {
			last = pts[n-1].off
		}
	}
	end := w.Start
	for _, off := range []int32{streamEnd, last} {
		if t := w.Start.Add(time.Duration(off) * time.Second); t.After(end) {
			end = t
		}
	}
	if last < 0 {
		return end
	}
	idx := d.scratch.index(int(last) + 1)
	for _, p := range d.gps {
		if p.fix || p.hasAlt {
			idx[p.off] = 1
		}
	}
	for _, pts := range streams {
		for _, p := range pts {
			idx[p.off] = 1
		}
	}
	count := int32(0)
	for i, m := range idx {
		if m != 0 {
			count++
			idx[i] = count
		}
	}
	samples := make([]workout.Sample, count)
	t0 := w.Start.Unix()
	for i, k := range idx {
		if k != 0 {
			samples[k-1].Time = time.Unix(t0+int64(i), 0).UTC()
		}
	}

	// Pass 2: fill in the readings. Within a stream a later entry at the
	// same second wins, as in Sample.Merge.
	for _, p := range d.gps {
		if !p.fix && !p.hasAlt {
			continue
		}
		s := &samples[idx[p.off]-1]
		if p.fix {
			s.SetPosition(float64(p.lat)/1e8, float64(p.lon)/1e8)
		}
		if p.hasAlt {
			s.SetAltitude(float64(p.alt) / 100)
		}
	}
	// one loop per stream: a call through a func value per reading cost
	// more than the rest of this pass
	at := func(off int32) *workout.Sample { return &samples[idx[off]-1] }
	for _, p := range hr {
		at(p.off).SetHeartRate(uint8(p.v))
	}
	for _, p := range cad {
		at(p.off).SetCadence(p.v)
	}
	for _, p := range stroke {
		at(p.off).SetCadence(p.v * 60)
	}
	for _, p := range rpm {
		at(p.off).SetCadence(p.v)
	}
	for _, p := range speed {
		at(p.off).SetSpeed(p.v)
	}
	for _, p := range dist {
		at(p.off).SetDistance(p.v)
	}
	for _, p := range power {
		at(p.off).SetPower(uint16(math.Round(p.v)))
	}
	for _, p := range alt {
		at(p.off).SetAltitude(p.v / 100)
	}
	w.Samples = samples
	return end
}

// lastOff is the last offset of any stream, including readings that were
// dropped (an all-zero heart_rate still tells how long the workout ran).
func lastOff(d *detail) int32 {
	last := int32(0)
	if n := len(d.gps); n > 0 {
		last = d.gps[n-1].off
	}
	for _, s := range [][]valPoint{d.hr, d.gait, d.speed, d.distance, d.curDist, d.stroke, d.cadence, d.power, d.tdAlt} {
		if n := len(s); n > 0 {
			last = max(last, s[n-1].off)
		}
	}
	return last
}

func buildPauses(w *workout.Workout, d *detail, t0 int64) {
	limit := t0 + maxOffset
	var negative, outside int
	for _, p := range d.pauses {
		switch {
		case p.dur < 0:
			negative++
			continue
		case p.dur == 0:
			continue
		case p.start < t0 || p.start > limit || p.dur > maxOffset:
			outside++
			continue
		}
		w.Pauses = append(w.Pauses, workout.Interval{
			Start: time.Unix(p.start, 0).UTC(),
			End:   time.Unix(p.start+p.dur, 0).UTC(),
		})
	}
	if negative > 0 {
		w.Notes = append(w.Notes, fmt.Sprintf("%d pauses with a negative duration ignored", negative))
	}
	if outside > 0 {
		w.Notes = append(w.Notes, fmt.Sprintf("%d pauses outside the workout's time span ignored", outside))
	}
}

// buildLaps turns watch laps (lap rows) or, failing those, the per-km rows
// of kilo_pace into laps. A kilo_pace row exists only for a full kilometre,
// so the remainder after the last one is not a lap.
func buildLaps(w *workout.Workout, d *detail, sum *Summary) {
	rows, trigger := d.laps, workout.LapManual
	if len(rows) == 0 {
		rows, trigger = d.kilo, workout.LapDistance
		prev := 0.0
		for i, r := range rows {
			// columns shift between record versions: accept the rows only
			// when each split fits inside its elapsed time
			if r.moving > r.cum-prev+2 {
				w.Notes = append(w.Notes, fmt.Sprintf("kilo_pace row %d: %g s moving in %g s elapsed; its %d rows were ignored", i, r.moving, r.cum-prev, len(rows)))
				return
			}
			prev = r.cum
		}
		if sum != nil && sum.Distance > 0 && float64(len(rows)) > sum.Distance/1000+1 {
			w.Notes = append(w.Notes, fmt.Sprintf("kilo_pace has %d rows for %g m; ignored", len(rows), sum.Distance))
			return
		}
	}
	prev := 0.0
	for _, r := range rows {
		elapsed := r.cum - prev
		w.Laps = append(w.Laps, workout.Lap{
			Start:    w.Start.Add(secs(prev)),
			Elapsed:  secs(elapsed),
			Moving:   secs(r.moving),
			Distance: r.distance,
			AvgHR:    validHR(r.avgHR),
			Trigger:  trigger,
		})
		prev = r.cum
	}
}

func secs(s float64) time.Duration { return time.Duration(math.Round(s * float64(time.Second))) }
