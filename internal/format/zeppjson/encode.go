package zeppjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/bandsync/bandsync/internal/workout"
)

// EncodedSource is the source key Encode writes into the summary and the
// detail (the cloud's key for data synced from a watch).
const EncodedSource = "run.watch.huami.com"

// Encode writes a workout in the Zepp cloud's wire format, as the cloud
// sends it (version 15 style, unwrapped objects): a history.json summary
// entry and the matching detail.json object. Decode(Encode(w)) gives back
// every field the format carries, at the format's resolution: times in whole
// seconds, positions in 1e-8°, altitude in cm, distance samples, ascent and
// descent in whole metres, heart rate in bpm, pool length in metres.
//
// What the format cannot carry is lost: Name, Notes, Origin, Device.Product
// and Serial; per-length times (only their count, total_trips); lap
// calories, max heart rate and trigger (laps come back as LapManual, or
// LapDistance when every lap is one kilometre); a lap's start when it is not
// the previous lap's end; strokes other than freestyle, breaststroke and
// mixed; a zone without an IANA name and with an offset that is not a whole
// number of hours. Totals the workout does not report (Elapsed, Moving,
// Distance) are written as computed by the workout's methods, since the
// cloud always sends them. A sport without a Zepp code is written as the
// code of its generic FIT sport (a mountain-bike ride as a ride), else as
// "other". Pauses are written as auto pauses (type 3), or swim rests
// (type 1) in a swim.
func Encode(wo *workout.Workout) (summary, detail []byte, err error) {
	e, err := newEncoder(wo)
	if err != nil {
		return nil, nil, err
	}
	return e.summary(), e.detail(), nil
}

// EncodeSummary is Encode's summary alone, for a history page.
func EncodeSummary(wo *workout.Workout) ([]byte, error) {
	e, err := newEncoder(wo)
	if err != nil {
		return nil, err
	}
	return e.summary(), nil
}

// newEncoder checks that wo can be written.
func newEncoder(wo *workout.Workout) (*encoder, error) {
	if wo == nil {
		return nil, errors.New("encode: nil workout")
	}
	t0 := wo.Start.Unix()
	if t0 < minTrackID || t0 >= maxTrackID {
		return nil, fmt.Errorf("encode: start %v is not between 2000 and 2100", wo.Start)
	}
	for i := range wo.Samples {
		s := &wo.Samples[i]
		off := s.Time.Unix() - t0
		if off < 0 || off > maxOffset {
			return nil, fmt.Errorf("encode: sample %d at %v lies outside start…start+%v", i, s.Time, MaxDuration)
		}
		if i > 0 && s.Time.Before(wo.Samples[i-1].Time) {
			return nil, fmt.Errorf("encode: sample %d is earlier than sample %d (call Normalize)", i, i-1)
		}
	}
	return &encoder{w: wo, t0: t0}, nil
}

type encoder struct {
	w  *workout.Workout
	t0 int64
}

// zeppType is the summary type for a sport (see Encode).
func zeppType(s workout.Sport) int {
	if z := s.ZeppType(); z != 0 {
		return z
	}
	fitSport, _ := s.FIT()
	if g, ok := workout.SportFromFIT(fitSport, 0); ok && g.ZeppType() != 0 {
		return g.ZeppType()
	}
	return workout.SportOther.ZeppType()
}

// zoneName is the syncedTimezone for a zone, "" when none can be written.
func zoneName(z workout.Zone) string {
	switch {
	case z.Name != "":
		return z.Name
	case !z.Known || z.Offset%time.Hour != 0:
		return ""
	case z.Offset == 0:
		return "UTC"
	case z.Offset > 0: // the Etc zones' signs are inverted (POSIX)
		return fmt.Sprintf("Etc/GMT-%d", z.Offset/time.Hour)
	}
	return fmt.Sprintf("Etc/GMT+%d", -z.Offset/time.Hour)
}

// obj writes a JSON object member by member, in a fixed order, with the
// cloud's mix of strings and numbers.
type obj struct{ b []byte }

func (o *obj) key(k string) {
	if len(o.b) == 0 {
		o.b = append(o.b, '{')
	} else {
		o.b = append(o.b, ',')
	}
	o.b = append(o.b, '"')
	o.b = append(o.b, k...)
	o.b = append(o.b, '"', ':')
}

func (o *obj) str(k, v string) {
	o.key(k)
	q, _ := json.Marshal(v) // a string always marshals
	o.b = append(o.b, q...)
}

func (o *obj) raw(k string, v []byte) {
	o.key(k)
	o.b = append(o.b, v...)
}

func (o *obj) int(k string, v int64) { o.key(k); o.b = strconv.AppendInt(o.b, v, 10) }

func (o *obj) float(k string, v float64) { o.key(k); o.b = appendCloudFloat(o.b, v) }

// numStr writes a number inside a string, as the cloud does for trackid,
// dis, calorie, … ("9960.0").
func (o *obj) numStr(k string, v float64) {
	o.key(k)
	o.b = append(o.b, '"')
	o.b = appendCloudFloat(o.b, v)
	o.b = append(o.b, '"')
}

func (o *obj) intStr(k string, v int64) {
	o.key(k)
	o.b = append(o.b, '"')
	o.b = strconv.AppendInt(o.b, v, 10)
	o.b = append(o.b, '"')
}

func (o *obj) bytes() []byte { return append(o.b, '}') }

// appendCloudFloat writes the shortest decimal that reads back as v, with
// ".0" on whole numbers as the cloud's Java serializer does.
func appendCloudFloat(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		v = 0
	}
	n := len(b)
	b = strconv.AppendFloat(b, v, 'f', -1, 64)
	for _, c := range b[n:] {
		if c == '.' {
			return b
		}
	}
	return append(b, '.', '0')
}

func seconds(d time.Duration) int64 { return int64(math.Round(d.Seconds())) }

func orMinus1(v int) int64 {
	if v > 0 {
		return int64(v)
	}
	return -1
}

func (e *encoder) summary() []byte {
	w, t := e.w, &e.w.Summary
	sport := w.Sport
	elapsed, moving, dist := seconds(w.Elapsed()), seconds(w.Moving()), w.Distance()
	minHR, maxAlt, minAlt := 0, math.Inf(-1), math.Inf(1)
	for _, s := range w.Samples {
		if s.Has&workout.HasHeartRate != 0 && workout.ValidHeartRate(int(s.HeartRate)) && (minHR == 0 || int(s.HeartRate) < minHR) {
			minHR = int(s.HeartRate)
		}
		if s.Has&workout.HasAltitude != 0 {
			maxAlt, minAlt = math.Max(maxAlt, s.Altitude), math.Min(minAlt, s.Altitude)
		}
	}
	if math.IsInf(maxAlt, 0) {
		maxAlt, minAlt = -20000, -20000
	}
	var o obj
	o.intStr("trackid", e.t0)
	o.str("source", EncodedSource)
	o.numStr("dis", dist)
	o.numStr("calorie", t.Calories)
	o.intStr("end_time", e.t0+elapsed)
	o.intStr("run_time", moving)
	avgPace := 0.0
	if dist > 0 {
		avgPace = float64(moving) / dist
	}
	o.numStr("avg_pace", avgPace)
	avgFreq, maxFreq, avgCad, maxCad := 0.0, int64(-1), int64(-1), int64(-1)
	avgStroke, maxStroke := 0.0, 0.0
	switch {
	case sport.Swimming():
		avgStroke, maxStroke = t.AvgCadence/60, t.MaxCadence/60
		maxFreq = orMinus1(int(math.Round(t.MaxCadence)))
	case sport.OnFoot():
		avgFreq, maxFreq = t.AvgCadence, orMinus1(int(math.Round(t.MaxCadence)))
	default:
		avgCad, maxCad = orMinus1(int(math.Round(t.AvgCadence))), orMinus1(int(math.Round(t.MaxCadence)))
	}
	o.numStr("avg_frequency", avgFreq)
	o.numStr("avg_heart_rate", float64(t.AvgHR))
	o.int("type", int64(zeppType(sport)))
	o.str("location", "")
	o.str("city", "")
	o.str("forefoot_ratio", "-1")
	o.str("bind_device", bindDevice(w.Device))
	maxPace := -1.0
	if t.MaxSpeed > 0 {
		maxPace = 1 / t.MaxSpeed
	}
	o.float("max_pace", maxPace)
	o.float("min_pace", -1)
	o.int("version", 15)
	o.int("altitude_ascend", int64(math.Round(t.Ascent)))
	o.int("altitude_descend", int64(math.Round(t.Descent)))
	o.int("total_step", int64(t.Steps))
	o.int("avg_stride_length", 0)
	o.int("max_frequency", maxFreq)
	o.int("max_altitude", int64(math.Round(maxAlt)))
	o.int("min_altitude", int64(math.Round(minAlt)))
	o.int("lap_distance", -1)
	o.int("max_cadence", maxCad)
	o.int("avg_cadence", avgCad)
	o.str("child_list", "[]")
	o.int("parent_trackid", 0)
	o.int("max_heart_rate", orMinus1(t.MaxHR))
	o.int("min_heart_rate", orMinus1(minHR))
	dps := 0.0
	if t.Strokes > 0 {
		dps = dist / float64(t.Strokes) * 100
	}
	o.int("total_strokes", int64(t.Strokes))
	o.int("total_trips", int64(len(w.Lengths)))
	o.float("avg_stroke_speed", avgStroke)
	o.float("max_stroke_speed", maxStroke)
	o.float("avg_distance_per_stroke", dps)
	o.int("swim_pool_length", int64(math.Round(t.PoolLength)))
	te := int64(-1)
	if t.TrainingEffect > 0 {
		te = int64(math.Round(t.TrainingEffect * 10))
	}
	o.int("te", te)
	style := int64(0)
	if sport.Swimming() {
		switch t.Stroke {
		case workout.StrokeBreaststroke:
			style = 1
		case workout.StrokeFreestyle:
			style = 2
		case workout.StrokeMixed:
			style = 4
		}
	}
	o.int("swim_style", style)
	o.int("unit", 0)
	o.str("add_info", "")
	o.int("sport_mode", 0)
	o.int("anaerobic_te", -1)
	o.raw("auto_recognition", []byte("false"))
	o.str("app_name", "com.huami.midong")
	if z := zoneName(w.Zone); z != "" {
		o.str("syncedTimezone", z)
	}
	return o.bytes()
}

// The detail is written in one pass per stream straight into one buffer
// sized up front: its streams are long (tens of KB for an hour) and hold
// only digits, signs, '.', ',' and ';', so they need no JSON escaping, and
// building each in its own buffer and quoting it after cost half of Encode.

// bytesPerSample is a generous estimate of the detail bytes per sample
// (the 53-minute run fixture needs about 45), so that the buffer rarely
// grows.
const bytesPerSample = 64

// appendInt appends v in decimal, as strconv.AppendInt does, but inline:
// a stream holds tens of thousands of small numbers, and a call and a
// memmove per number were a third of Encode.
func appendInt(b []byte, v int64) []byte {
	u := uint64(v)
	if v < 0 {
		b = append(b, '-')
		u = -u
	}
	if u < 10 {
		return append(b, byte('0'+u))
	}
	return appendDigits(b, u)
}

// appendDigits appends the decimal digits of u.
func appendDigits(b []byte, u uint64) []byte {
	n := 1
	for t := u; t >= 10; t /= 10 {
		n++
	}
	if cap(b)-len(b) < n {
		b = slices.Grow(b, n)
	}
	end := len(b) + n
	b = b[:end]
	d := b[end-n : end]
	for i := n - 1; i > 0; i-- {
		q := u / 10
		d[i] = byte('0' + u - q*10)
		u = q
	}
	d[0] = byte('0' + u)
	return b
}

// pow10x holds the powers of ten that are exact in a float64.
var pow10x = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// appendFloat appends v as strconv.AppendFloat(b, v, 'f', -1, 64) does:
// the shortest decimal that reads back as v. Integers and decimals of up to
// 15 significant digits (speeds such as 3.4602076) are formatted here; the
// rest go to strconv.
//
// Why this is strconv's answer: m = round(|v|·10^k), for the k that gives
// m at most 15 digits, has trailing zeros stripped (m, k adjusted) and is
// kept only when float64(m)/10^k == |v|. Both operands are exact, so that
// quotient is the correctly rounded reading of the decimal m·10^-k: it
// reads back as v. At most one decimal of a given length of up to 15
// significant digits reads back as v (their spacing is wider than v's
// rounding interval), so the shortest one, zero-padded, is m before the
// stripping: m·10^-k is the shortest. TestAppendFloat compares with
// strconv on a million values.
func appendFloat(b []byte, v float64) []byte {
	abs := math.Abs(v)
	if !(abs < 1e15 && abs >= 1e-7) || abs == math.Trunc(abs) {
		if abs < 1e15 && abs == math.Trunc(abs) && !(v == 0 && math.Signbit(v)) {
			return appendInt(b, int64(v))
		}
		return strconv.AppendFloat(b, v, 'f', -1, 64) // NaN, ±Inf, huge, tiny, -0
	}
	// k = 14 - floor(log10 |v|), from the binary exponent (1233/4096 ≈
	// log10 2); it may be one too big, which the next line corrects
	e2 := int(math.Float64bits(abs)>>52) - 1023
	k := 14 - (e2*1233)>>12
	x := abs * pow10x[k]
	if x >= 1e15 {
		k--
		x = abs * pow10x[k]
	}
	m := uint64(math.Round(x))
	// strip trailing zeros, 8, 4, 2 and 1 at a time (at most 14)
	if m%1e8 == 0 && k >= 8 {
		m, k = m/1e8, k-8
	}
	if m%1e4 == 0 && k >= 4 {
		m, k = m/1e4, k-4
	}
	if m%100 == 0 && k >= 2 {
		m, k = m/100, k-2
	}
	if m%10 == 0 && k >= 1 {
		m, k = m/10, k-1
	}
	if k <= 0 || m >= 1e15 || float64(m)/pow10x[k] != abs {
		return strconv.AppendFloat(b, v, 'f', -1, 64) // needs 16 or 17 digits
	}
	if v < 0 {
		b = append(b, '-')
	}
	n := len(b)
	b = appendDigits(b, m)
	nd := len(b) - n
	if nd <= k { // 0.00ddd: shift the digits right past "0." and the zeros
		z := k - nd + 2
		b = slices.Grow(b, z)[:len(b)+z]
		copy(b[n+z:], b[n:n+nd])
		b[n], b[n+1] = '0', '.'
		for i := n + 2; i < n+z; i++ {
			b[i] = '0'
		}
		return b
	}
	// ddd.ddd: open a gap for the point
	b = append(b, 0)
	p := len(b) - 1 - k
	copy(b[p+1:], b[p:len(b)-1])
	b[p] = '.'
	return b
}

// key appends the separator and the name of a string member and opens its
// value's quotes.
func key(b []byte, name string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	return append(b, '"', ':', '"')
}

// emptyMembers appends members whose value is always "".
func emptyMembers(b []byte, names ...string) []byte {
	for _, n := range names {
		b = key(b, n)
		b = append(b, '"')
	}
	return b
}

// gpsRecord reports whether a sample is a GPS point (an entry of time,
// longitude_latitude and altitude).
func gpsRecord(s *workout.Sample) bool {
	return s.Has&(workout.HasPosition|workout.HasAltitude) != 0
}

func (e *encoder) detail() []byte {
	w := e.w
	ss := w.Samples
	b := make([]byte, 0, bytesPerSample*len(ss)+1024)
	b = append(b, `{"trackid":`...)
	b = strconv.AppendInt(b, e.t0, 10)
	b = append(b, `,"source":"`+EncodedSource+`"`...)

	// longitude_latitude: cumulative 1e-8°, an empty entry where a GPS
	// point has no position; "" when there is no position at all
	b = key(b, "longitude_latitude")
	start, fixes := len(b), 0
	var lat, lon int64
	for i := range ss {
		s := &ss[i]
		if !gpsRecord(s) {
			continue
		}
		if s.Has&workout.HasPosition != 0 && workout.ValidPosition(s.Lat, s.Lon) {
			la, lo := int64(math.Round(s.Lat*1e8)), int64(math.Round(s.Lon*1e8))
			b = appendInt(b, la-lat)
			b = append(b, ',')
			b = appendInt(b, lo-lon)
			lat, lon = la, lo
			fixes++
		}
		b = append(b, ';')
	}
	if fixes == 0 {
		b = b[:start]
	}

	b = append(b, '"')
	b = key(b, "altitude")
	for i := range ss {
		s := &ss[i]
		if !gpsRecord(s) {
			continue
		}
		if s.Has&workout.HasAltitude != 0 {
			b = appendInt(b, int64(math.Round(s.Altitude*100)))
		} else {
			b = append(b, "-2000000"...)
		}
		b = append(b, ';')
	}
	b = append(b, '"')
	b = emptyMembers(b, "accuracy")

	b = key(b, "time")
	last := int64(0)
	for i := range ss {
		if s := &ss[i]; gpsRecord(s) {
			off := s.Time.Unix() - e.t0
			b = appendInt(b, off-last)
			b = append(b, ';')
			last = off
		}
	}
	b = append(b, '"')

	// cadence goes to gait, stroke_speed or cadence by sport
	cadenceKey := "cadence"
	switch {
	case w.Sport.OnFoot():
		cadenceKey = "gait"
	case w.Sport.Swimming():
		cadenceKey = "stroke_speed"
	}
	b = key(b, "gait")
	if cadenceKey == "gait" {
		b = e.cadence(b, "0,0,", 1) // Δt,0,0,steps
	}
	b = append(b, '"')
	b = emptyMembers(b, "pace")
	b = key(b, "pause")
	b = e.pauses(b)
	b = append(b, '"')
	b = emptyMembers(b, "spo2", "flag")
	laps, perKm := e.laps()
	b = key(b, "kilo_pace")
	if perKm {
		b = append(b, laps...)
	}
	b = append(b, '"')
	b = emptyMembers(b, "mile_pace")

	b = key(b, "heart_rate")
	var bpm int64 // previous heart rate
	b = e.stream(b, workout.HasHeartRate, func(b []byte, s *workout.Sample) []byte {
		v := int64(s.HeartRate)
		b = appendInt(b, v-bpm)
		bpm = v
		return b
	})
	b = append(b, `","version":15`...)
	b = emptyMembers(b, "provider")

	b = key(b, "speed")
	b = e.stream(b, workout.HasSpeed, func(b []byte, s *workout.Sample) []byte { return appendFloat(b, s.Speed) })
	b = append(b, '"')
	b = emptyMembers(b, "bearing")

	// distance: Δ whole metres
	b = key(b, "distance")
	var metres int64 // previous whole-metre distance
	b = e.stream(b, workout.HasDistance, func(b []byte, s *workout.Sample) []byte {
		m := int64(math.Round(s.Distance))
		b = appendInt(b, m-metres)
		metres = m
		return b
	})
	b = append(b, '"')
	b = key(b, "lap")
	if !perKm {
		b = append(b, laps...)
	}
	b = append(b, '"')
	b = emptyMembers(b, "air_pressure_altitude", "course", "correct_altitude")
	b = key(b, "stroke_speed")
	if cadenceKey == "stroke_speed" {
		b = e.cadence(b, "", 60)
	}
	b = append(b, '"')
	b = key(b, "cadence")
	if cadenceKey == "cadence" {
		b = e.cadence(b, "", 1)
	}
	b = append(b, '"')
	b = emptyMembers(b, "daily_performance_info")

	b = key(b, "power_meter")
	b = e.stream(b, workout.HasPower, func(b []byte, s *workout.Sample) []byte { return appendInt(b, int64(s.Power)) })
	return append(b, '"', '}')
}

// cadence appends the cadence stream: "Δt,<prefix>cadence/per;" entries.
func (e *encoder) cadence(b []byte, prefix string, per float64) []byte {
	return e.stream(b, workout.HasCadence, func(b []byte, s *workout.Sample) []byte {
		b = append(b, prefix...)
		if per == 1 {
			return appendFloat(b, s.Cadence)
		}
		return appendFloat(b, s.Cadence/per)
	})
}

// stream appends a "Δt,value;" entry for every sample that has field f,
// Δt in seconds since the previous entry and value written by put.
func (e *encoder) stream(b []byte, f workout.Fields, put func(b []byte, s *workout.Sample) []byte) []byte {
	last := int64(0)
	for i := range e.w.Samples {
		s := &e.w.Samples[i]
		if s.Has&f == 0 {
			continue
		}
		off := s.Time.Unix() - e.t0
		b = appendInt(b, off-last)
		b = append(b, ',')
		b = put(b, s)
		b = append(b, ';')
		last = off
	}
	return b
}

// pauses appends the pause stream: "start,duration,-1,-1,type;" rows.
func (e *encoder) pauses(b []byte) []byte {
	typ := int64(3)
	if e.w.Sport.Swimming() {
		typ = 1
	}
	for _, p := range e.w.Pauses {
		start := p.Start.Unix()
		b = strconv.AppendInt(b, start, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, p.End.Unix()-start, 10)
		b = append(b, ",-1,-1,"...)
		b = strconv.AppendInt(b, typ, 10)
		b = append(b, ';')
	}
	return b
}

// laps writes the laps as kilo_pace rows when each is one kilometre
// (perKm), else as lap rows.
func (e *encoder) laps() (rows []byte, perKm bool) {
	w := e.w
	perKm = len(w.Laps) > 0
	for _, l := range w.Laps {
		perKm = perKm && l.Trigger == workout.LapDistance && math.Abs(l.Distance-1000) < 0.5
	}
	var b []byte
	for i, l := range w.Laps {
		cum := l.End().Unix() - e.t0
		hr := int64(-1)
		if l.AvgHR > 0 {
			hr = int64(l.AvgHR)
		}
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, seconds(l.Moving), 10)
		b = append(b, ',')
		if perKm {
			// idx,moving_s,geohash,-1,avg_hr,cum_s
			b = append(b, e.geohashAt(l.End())...)
			b = append(b, ",-1,"...)
			b = strconv.AppendInt(b, hr, 10)
		} else {
			// idx,moving_s,distance_m,geohash,avg_hr,cum_s,-20000
			b = appendFloat(b, l.Distance)
			b = append(b, ',')
			b = append(b, e.geohashAt(l.End())...)
			b = append(b, ',')
			b = strconv.AppendInt(b, max(hr, 0), 10)
		}
		b = append(b, ',')
		b = strconv.AppendInt(b, cum, 10)
		if !perKm {
			b = append(b, ",-20000"...)
		}
		b = append(b, ';')
	}
	return b, perKm
}

// geohashAt is the 12-character geohash of the last position at or before
// t, or "s00000000000" (the cloud's "no GPS") when there is none.
func (e *encoder) geohashAt(t time.Time) string {
	ss := e.w.Samples
	i := sort.Search(len(ss), func(i int) bool { return ss[i].Time.After(t) })
	for i--; i >= 0; i-- {
		if ss[i].Has&workout.HasPosition != 0 {
			return geohash(ss[i].Lat, ss[i].Lon)
		}
	}
	return "s00000000000"
}

// geohash encodes a position as a 12-character geohash.
func geohash(lat, lon float64) string {
	const base32 = "0123456789bcdefghjkmnpqrstuvwxyz"
	latR, lonR := [2]float64{-90, 90}, [2]float64{-180, 180}
	var out [12]byte
	bits, ch, even := 0, 0, true
	for i := 0; i < len(out); {
		r, v := &latR, lat
		if even {
			r, v = &lonR, lon
		}
		mid := (r[0] + r[1]) / 2
		ch <<= 1
		if v >= mid {
			ch |= 1
			r[0] = mid
		} else {
			r[1] = mid
		}
		even = !even
		if bits++; bits == 5 {
			out[i] = base32[ch]
			i, bits, ch = i+1, 0, 0
		}
	}
	return string(out[:])
}
