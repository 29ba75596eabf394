package zeppjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bandsync/bandsync/internal/workout"
)

// refEncode is Encode as it was before the encoder was tuned for speed,
// kept verbatim as the reference its output must match byte for byte.
func refEncode(wo *workout.Workout) (summary, detail []byte, err error) {
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
	e := refEncoder{w: wo, t0: t0}
	return e.summary(), e.detail(), nil
}

type refEncoder struct {
	w  *workout.Workout
	t0 int64
}

// refZeppType is the summary type for a sport (see Encode).
func refZeppType(s workout.Sport) int {
	if z := s.ZeppType(); z != 0 {
		return z
	}
	fitSport, _ := s.FIT()
	if g, ok := workout.SportFromFIT(fitSport, 0); ok && g.ZeppType() != 0 {
		return g.ZeppType()
	}
	return workout.SportOther.ZeppType()
}

// refZoneName is the syncedTimezone for a zone, "" when none can be written.
func refZoneName(z workout.Zone) string {
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

// refObj writes a JSON object member by member, in a fixed order, with the
// cloud's mix of strings and numbers.
type refObj struct{ b []byte }

func (o *refObj) key(k string) {
	if len(o.b) == 0 {
		o.b = append(o.b, '{')
	} else {
		o.b = append(o.b, ',')
	}
	o.b = append(o.b, '"')
	o.b = append(o.b, k...)
	o.b = append(o.b, '"', ':')
}

func (o *refObj) str(k, v string) {
	o.key(k)
	q, _ := json.Marshal(v) // a string always marshals
	o.b = append(o.b, q...)
}

func (o *refObj) raw(k string, v []byte) {
	o.key(k)
	o.b = append(o.b, v...)
}

func (o *refObj) int(k string, v int64) { o.key(k); o.b = strconv.AppendInt(o.b, v, 10) }

func (o *refObj) float(k string, v float64) { o.key(k); o.b = refAppendCloudFloat(o.b, v) }

// numStr writes a number inside a string, as the cloud does for trackid,
// dis, calorie, … ("9960.0").
func (o *refObj) numStr(k string, v float64) {
	o.key(k)
	o.b = append(o.b, '"')
	o.b = refAppendCloudFloat(o.b, v)
	o.b = append(o.b, '"')
}

func (o *refObj) intStr(k string, v int64) {
	o.key(k)
	o.b = append(o.b, '"')
	o.b = strconv.AppendInt(o.b, v, 10)
	o.b = append(o.b, '"')
}

func (o *refObj) bytes() []byte { return append(o.b, '}') }

// refAppendCloudFloat writes the shortest decimal that reads back as v, with
// ".0" on whole numbers as the cloud's Java serializer does.
func refAppendCloudFloat(b []byte, v float64) []byte {
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

func refSeconds(d time.Duration) int64 { return int64(math.Round(d.Seconds())) }

func refOrMinus1(v int) int64 {
	if v > 0 {
		return int64(v)
	}
	return -1
}

func (e *refEncoder) summary() []byte {
	w, t := e.w, &e.w.Summary
	sport := w.Sport
	elapsed, moving, dist := refSeconds(w.Elapsed()), refSeconds(w.Moving()), w.Distance()
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
	var o refObj
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
		maxFreq = refOrMinus1(int(math.Round(t.MaxCadence)))
	case sport.OnFoot():
		avgFreq, maxFreq = t.AvgCadence, refOrMinus1(int(math.Round(t.MaxCadence)))
	default:
		avgCad, maxCad = refOrMinus1(int(math.Round(t.AvgCadence))), refOrMinus1(int(math.Round(t.MaxCadence)))
	}
	o.numStr("avg_frequency", avgFreq)
	o.numStr("avg_heart_rate", float64(t.AvgHR))
	o.int("type", int64(refZeppType(sport)))
	o.str("location", "")
	o.str("city", "")
	o.str("forefoot_ratio", "-1")
	o.str("bind_device", refBindDevice(w.Device))
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
	o.int("max_heart_rate", refOrMinus1(t.MaxHR))
	o.int("min_heart_rate", refOrMinus1(minHR))
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
	if z := refZoneName(w.Zone); z != "" {
		o.str("syncedTimezone", z)
	}
	return o.bytes()
}

// refStream builds one ';'-separated refStream with Δt chains from the start.
type refStream struct {
	b    []byte
	last int64 // offset of the previous entry
}

// dt appends the Δt of an entry at off and returns the buffer for the rest.
func (s *refStream) dt(off int64) {
	s.b = strconv.AppendInt(s.b, off-s.last, 10)
	s.last = off
}

func (s *refStream) sep(c byte) { s.b = append(s.b, c) }

func (s *refStream) int(v int64) { s.b = strconv.AppendInt(s.b, v, 10) }

func (s *refStream) float(v float64) { s.b = strconv.AppendFloat(s.b, v, 'f', -1, 64) }

func (e *refEncoder) detail() []byte {
	w := e.w
	var times, ll, alt, hr, gait, speed, dist, stroke, cad, power refStream
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
	var o refObj
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

func (e *refEncoder) pauses() string {
	typ := int64(3)
	if e.w.Sport.Swimming() {
		typ = 1
	}
	var s refStream
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
func (e *refEncoder) laps() (kilo, laps string) {
	w := e.w
	perKm := len(w.Laps) > 0
	for _, l := range w.Laps {
		perKm = perKm && l.Trigger == workout.LapDistance && math.Abs(l.Distance-1000) < 0.5
	}
	var s refStream
	for i, l := range w.Laps {
		cum := l.End().Unix() - e.t0
		hr := int64(-1)
		if l.AvgHR > 0 {
			hr = int64(l.AvgHR)
		}
		s.int(int64(i))
		s.sep(',')
		s.int(refSeconds(l.Moving))
		s.sep(',')
		if perKm {
			// idx,moving_s,refGeohash,-1,avg_hr,cum_s
			s.b = append(s.b, e.refGeohashAt(l.End())...)
			s.b = append(s.b, ",-1,"...)
			s.int(hr)
		} else {
			// idx,moving_s,distance_m,refGeohash,avg_hr,cum_s,-20000
			s.float(l.Distance)
			s.sep(',')
			s.b = append(s.b, e.refGeohashAt(l.End())...)
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

// refGeohashAt is the 12-character refGeohash of the last position at or before
// t, or "s00000000000" (the cloud's "no GPS") when there is none.
func (e *refEncoder) refGeohashAt(t time.Time) string {
	ss := e.w.Samples
	i := sort.Search(len(ss), func(i int) bool { return ss[i].Time.After(t) })
	for i--; i >= 0; i-- {
		if ss[i].Has&workout.HasPosition != 0 {
			return refGeohash(ss[i].Lat, ss[i].Lon)
		}
	}
	return "s00000000000"
}

// refGeohash encodes a position as a 12-character refGeohash.
func refGeohash(lat, lon float64) string {
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
func refBindDevice(dev workout.Device) string {
	if dev.Model == "" && dev.Firmware == "" {
		return ""
	}
	code := dev.Model
	for c, name := range modelNames {
		if name == dev.Model {
			code = c
		}
	}
	code = strings.ReplaceAll(code, ":", "_")
	if dev.Firmware == "" {
		return "0:" + code
	}
	return "0:" + code + ":0:" + dev.Firmware
}

// checkEncodeMatchesRef fails when Encode and refEncode disagree on w.
func checkEncodeMatchesRef(t *testing.T, w *workout.Workout) {
	t.Helper()
	sum, det, err := Encode(w)
	rsum, rdet, rerr := refEncode(w)
	if (err == nil) != (rerr == nil) || err != nil && err.Error() != rerr.Error() {
		t.Fatalf("Encode error %v, reference %v", err, rerr)
	}
	if !bytes.Equal(sum, rsum) {
		t.Fatalf("summary differs from the reference encoder:\n got %s\nwant %s", sum, rsum)
	}
	if !bytes.Equal(det, rdet) {
		i := 0
		for i < len(det) && i < len(rdet) && det[i] == rdet[i] {
			i++
		}
		t.Fatalf("detail differs from the reference encoder at byte %d:\n got …%s…\nwant …%s…",
			i, det[max(0, i-60):min(len(det), i+60)], rdet[max(0, i-60):min(len(rdet), i+60)])
	}
}

// wildWorkout has values off the format's resolution and at the edges of
// float formatting (tiny, huge, negative zero, NaN, many digits).
func wildWorkout(seed uint64, sport workout.Sport) *workout.Workout {
	r := rand.New(rand.NewPCG(seed, 99))
	start := time.Unix(1700000000+int64(seed), 0).UTC()
	w := &workout.Workout{Start: start, Sport: sport}
	specials := []float64{0, math.Copysign(0, -1), 1e-7, 1e-300, 0.1, 0.3, 1.0 / 3, 2.5, 123456789.125, 1e15, 1e21, 1e300, -1e-5, math.NaN(), math.Inf(1), math.Inf(-1), math.MaxFloat64, math.SmallestNonzeroFloat64, 4503599627370497, 9007199254740993}
	val := func() float64 {
		switch r.IntN(5) {
		case 0:
			return specials[r.IntN(len(specials))]
		case 1:
			return float64(r.IntN(100000)) / math.Pow10(r.IntN(9)) // short decimals
		case 2:
			return math.Float64frombits(r.Uint64())
		case 3:
			return -r.Float64() * math.Pow10(r.IntN(20)-8)
		}
		return r.Float64() * 300
	}
	off := int64(0)
	for range 400 {
		off += int64(r.IntN(3))
		var s workout.Sample
		s.Time = start.Add(time.Duration(off) * time.Second)
		if r.IntN(2) == 0 {
			s.SetPosition(r.Float64()*180-90, r.Float64()*360-180)
			if r.IntN(10) == 0 {
				s.SetPosition(val(), val())
			}
		}
		if r.IntN(2) == 0 {
			s.SetAltitude(val())
		}
		if r.IntN(2) == 0 {
			s.SetHeartRate(uint8(r.IntN(256)))
		}
		if r.IntN(2) == 0 {
			s.SetCadence(val())
		}
		if r.IntN(2) == 0 {
			s.SetSpeed(val())
		}
		if r.IntN(2) == 0 {
			s.SetDistance(val())
		}
		if r.IntN(2) == 0 {
			s.SetPower(uint16(r.Uint32()))
		}
		w.Samples = append(w.Samples, s)
	}
	w.Summary.Calories, w.Summary.Ascent, w.Summary.MaxSpeed = val(), val(), val()
	w.Summary.AvgCadence, w.Summary.MaxCadence, w.Summary.Distance = val(), val(), val()
	for i := range 3 {
		l := workout.Lap{Start: start.Add(time.Duration(i*100) * time.Second), Elapsed: 100 * time.Second, Moving: 90 * time.Second, Distance: val(), AvgHR: r.IntN(300) - 20}
		w.Laps = append(w.Laps, l)
	}
	w.Pauses = []workout.Interval{{Start: start.Add(10 * time.Second), End: start.Add(20 * time.Second)}}
	return w
}

// TestEncodeMatchesReference: Encode writes exactly what the encoder wrote
// before it was tuned, on the fixtures, the synthetic workouts and workouts
// with awkward values.
func TestEncodeMatchesReference(t *testing.T) {
	for _, name := range fixtureNames {
		w, err := Decode(readFixture(t, name))
		if err != nil {
			t.Fatal(err)
		}
		checkEncodeMatchesRef(t, w)
	}
	for i, tc := range synthCases {
		checkEncodeMatchesRef(t, makeWorkout(t, uint64(i+1), tc.sy))
	}
	sports := []workout.Sport{workout.SportRun, workout.SportPoolSwim, workout.SportRide, workout.SportWalk, workout.SportStrength}
	for seed := range uint64(200) {
		checkEncodeMatchesRef(t, wildWorkout(seed, sports[seed%uint64(len(sports))]))
	}
}

// TestAppendFloat compares appendFloat with strconv's shortest 'f'
// formatting on short decimals, values near the limits of its fast path,
// and random bit patterns.
func TestAppendFloat(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	check := func(v float64) {
		got := appendFloat(nil, v)
		want := strconv.AppendFloat(nil, v, 'f', -1, 64)
		if !bytes.Equal(got, want) {
			t.Fatalf("appendFloat(%v) = %s, strconv says %s", v, got, want)
		}
	}
	for _, v := range []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 0.3, 1.0 / 3, 2.0 / 3, 0.34602076, 5.9171596, 1e-7, 1e-15, 1e-16, 123456789012345.6,
		999999999999999, 1e15, 1e15 - 0.5, 4503599627370496.5, 1e21, 1e22, 1e23, math.MaxFloat64, math.SmallestNonzeroFloat64,
		math.NaN(), math.Inf(1), math.Inf(-1), 0.1 + 0.2, 1.005, 2.675, 0.000123456789012345, 9.999999999999999, 99999999999999.99} {
		check(v)
		check(-v)
		check(math.Nextafter(v, math.Inf(1)))
		check(math.Nextafter(v, math.Inf(-1)))
	}
	n := 300_000
	if testing.Short() {
		n = 50_000
	}
	for range n {
		// a decimal of 1–17 digits with 0–16 of them fractional
		m := r.Uint64N(uint64(math.Pow10(1 + r.IntN(17))))
		v, _ := strconv.ParseFloat(strconv.FormatUint(m, 10)+"e-"+strconv.Itoa(r.IntN(17)), 64)
		if r.IntN(2) == 0 {
			v = -v
		}
		check(v)
		check(math.Nextafter(v, math.Inf(1)))
		check(math.Float64frombits(r.Uint64()))
		check(r.Float64() * math.Pow10(r.IntN(30)-15))
	}
}
