package zeppjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
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
	if wo == nil {
		return nil, nil, errors.New("encode: nil workout")
	}
	t0 := wo.Start.Unix()
	if t0 < minTrackID || t0 >= maxTrackID {
		return nil, nil, fmt.Errorf("encode: start %v is not between 2000 and 2100", wo.Start)
	}
	for i := range wo.Samples {
		s := &wo.Samples[i]
		off := s.Time.Unix() - t0
		if off < 0 || off > maxOffset {
			return nil, nil, fmt.Errorf("encode: sample %d at %v lies outside start…start+%v", i, s.Time, MaxDuration)
		}
		if i > 0 && s.Time.Before(wo.Samples[i-1].Time) {
			return nil, nil, fmt.Errorf("encode: sample %d is earlier than sample %d (call Normalize)", i, i-1)
		}
	}
	e := encoder{w: wo, t0: t0}
	return e.summary(), e.detail(), nil
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

// stream builds one ';'-separated stream with Δt chains from the start.
type stream struct {
	b    []byte
	last int64 // offset of the previous entry
}

// dt appends the Δt of an entry at off and returns the buffer for the rest.
func (s *stream) dt(off int64) {
	s.b = strconv.AppendInt(s.b, off-s.last, 10)
	s.last = off
}

func (s *stream) sep(c byte) { s.b = append(s.b, c) }

func (s *stream) int(v int64) { s.b = strconv.AppendInt(s.b, v, 10) }

func (s *stream) float(v float64) { s.b = strconv.AppendFloat(s.b, v, 'f', -1, 64) }

func (e *encoder) detail() []byte {
	w := e.w
	var times, ll, alt, hr, gait, speed, dist, stroke, cad, power stream
	var lat, lon int64 // previous fix, 1e-8°
	var bpm int64      // previous heart rate
	var metres int64   // previous whole-metre distance
	fixes := 0
	for i := range w.Samples {
		s := &w.Samples[i]
		off := s.Time.Unix() - e.t0
		if s.Has&(workout.HasPosition|workout.HasAltitude) != 0 {
			times.dt(off)
			times.sep(';')
			if s.Has&workout.HasPosition != 0 && workout.ValidPosition(s.Lat, s.Lon) {
				la, lo := int64(math.Round(s.Lat*1e8)), int64(math.Round(s.Lon*1e8))
				ll.int(la - lat)
				ll.sep(',')
				ll.int(lo - lon)
				lat, lon = la, lo
				fixes++
			}
			ll.sep(';')
			if s.Has&workout.HasAltitude != 0 {
				alt.int(int64(math.Round(s.Altitude * 100)))
			} else {
				alt.int(-2000000)
			}
			alt.sep(';')
		}
		if s.Has&workout.HasHeartRate != 0 {
			hr.dt(off)
			hr.sep(',')
			hr.int(int64(s.HeartRate) - bpm)
			hr.sep(';')
			bpm = int64(s.HeartRate)
		}
		if s.Has&workout.HasCadence != 0 {
			switch {
			case w.Sport.OnFoot():
				gait.dt(off)
				gait.b = append(gait.b, ",0,0,"...)
				gait.float(s.Cadence)
				gait.sep(';')
			case w.Sport.Swimming():
				stroke.dt(off)
				stroke.sep(',')
				stroke.float(s.Cadence / 60)
				stroke.sep(';')
			default:
				cad.dt(off)
				cad.sep(',')
				cad.float(s.Cadence)
				cad.sep(';')
			}
		}
		if s.Has&workout.HasSpeed != 0 {
			speed.dt(off)
			speed.sep(',')
			speed.float(s.Speed)
			speed.sep(';')
		}
		if s.Has&workout.HasDistance != 0 {
			m := int64(math.Round(s.Distance))
			dist.dt(off)
			dist.sep(',')
			dist.int(m - metres)
			dist.sep(';')
			metres = m
		}
		if s.Has&workout.HasPower != 0 {
			power.dt(off)
			power.sep(',')
			power.int(int64(s.Power))
			power.sep(';')
		}
	}
	if fixes == 0 {
		ll.b = nil // no GPS at all: the cloud sends an empty string
	}
	kilo, laps := e.laps()
	var o obj
	o.int("trackid", e.t0)
	o.str("source", EncodedSource)
	o.str("longitude_latitude", string(ll.b))
	o.str("altitude", string(alt.b))
	o.str("accuracy", "")
	o.str("time", string(times.b))
	o.str("gait", string(gait.b))
	o.str("pace", "")
	o.str("pause", e.pauses())
	o.str("spo2", "")
	o.str("flag", "")
	o.str("kilo_pace", kilo)
	o.str("mile_pace", "")
	o.str("heart_rate", string(hr.b))
	o.int("version", 15)
	o.str("provider", "")
	o.str("speed", string(speed.b))
	o.str("bearing", "")
	o.str("distance", string(dist.b))
	o.str("lap", laps)
	o.str("air_pressure_altitude", "")
	o.str("course", "")
	o.str("correct_altitude", "")
	o.str("stroke_speed", string(stroke.b))
	o.str("cadence", string(cad.b))
	o.str("daily_performance_info", "")
	o.str("power_meter", string(power.b))
	return o.bytes()
}

func (e *encoder) pauses() string {
	typ := int64(3)
	if e.w.Sport.Swimming() {
		typ = 1
	}
	var s stream
	for _, p := range e.w.Pauses {
		start := p.Start.Unix()
		s.int(start)
		s.sep(',')
		s.int(p.End.Unix() - start)
		s.b = append(s.b, ",-1,-1,"...)
		s.int(typ)
		s.sep(';')
	}
	return string(s.b)
}

// laps writes the laps as kilo_pace rows when each is one kilometre, else
// as lap rows.
func (e *encoder) laps() (kilo, laps string) {
	w := e.w
	perKm := len(w.Laps) > 0
	for _, l := range w.Laps {
		perKm = perKm && l.Trigger == workout.LapDistance && math.Abs(l.Distance-1000) < 0.5
	}
	var s stream
	for i, l := range w.Laps {
		cum := l.End().Unix() - e.t0
		hr := int64(-1)
		if l.AvgHR > 0 {
			hr = int64(l.AvgHR)
		}
		s.int(int64(i))
		s.sep(',')
		s.int(seconds(l.Moving))
		s.sep(',')
		if perKm {
			// idx,moving_s,geohash,-1,avg_hr,cum_s
			s.b = append(s.b, e.geohashAt(l.End())...)
			s.b = append(s.b, ",-1,"...)
			s.int(hr)
		} else {
			// idx,moving_s,distance_m,geohash,avg_hr,cum_s,-20000
			s.float(l.Distance)
			s.sep(',')
			s.b = append(s.b, e.geohashAt(l.End())...)
			s.sep(',')
			s.int(max(hr, 0))
		}
		s.sep(',')
		s.int(cum)
		if !perKm {
			s.b = append(s.b, ",-20000"...)
		}
		s.sep(';')
	}
	if perKm {
		return string(s.b), ""
	}
	return "", string(s.b)
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
