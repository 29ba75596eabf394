package zeppjson

import (
	"bytes"
	"fmt"
	"math"
	"strings"
)

// detail is a parsed detail.json object: every stream decoded into offsets
// from the trackid and raw values, before plausibility filtering (decode.go).
type detail struct {
	trackID    int64
	hasTrackID bool
	source     string
	version    int
	streams    int // non-empty streams seen

	gps []gpsPoint // one per `time` entry

	// raw counts, reported in notes and checked by tests
	timeEntries, timeZeroDeltas int
	llEntries, llEmpty          int
	altEntries, altSentinels    int
	altInvalid                  int
	routeCut                    int // index of the first GPS point dropped as impossible, -1 if none

	hr        []valPoint // cumulative bpm as sent (0 = no reading)
	hrEmptyDt int
	gait      []valPoint // gait cadence, steps/min (0 = none)
	gaitSteps int64      // Σ gait Δsteps
	speed     []valPoint // m/s
	distance  []valPoint // cumulative m, from distance
	curDist   []valPoint // cumulative m, from currentDistance
	stroke    []valPoint // strokes/s
	cadence   []valPoint // rpm
	power     []valPoint // W
	tdAlt     []valPoint // cm, from time_delta_altitude
	pauses    []pauseRow
	laps      []lapRow // from lap
	kilo      []lapRow // from kilo_pace
	mileRows  int
	distDrops int // negative distance deltas ignored

	notes []string

	general bool     // use only the general stream parsers (tests)
	scratch *scratch // buffers behind gps and the valPoint streams
}

type gpsPoint struct {
	off         int32 // seconds from the trackid
	alt         int32 // cm, when hasAlt
	lat, lon    int64 // 1e-8 degrees, when fix
	fix, hasAlt bool
}

type valPoint struct {
	off int32
	v   float64
}

type pauseRow struct {
	start, dur int64 // Unix s, s
	typ        int   // 1 swim rest, 2 manual, 3 auto
}

type lapRow struct {
	idx      int
	moving   float64 // s
	cum      float64 // s from the start, including pauses
	distance float64 // m; 0 unknown
	avgHR    int
}

func (d *detail) notef(format string, args ...any) {
	d.notes = append(d.notes, fmt.Sprintf(format, args...))
}

// Stream indexes into a detail's raw streams.
const (
	sTime = iota
	sLatLon
	sAltitude
	sHeartRate
	sGait
	sSpeed
	sDistance
	sCurrentDistance
	sStrokeSpeed
	sCadence
	sPower
	sTimeDeltaAltitude
	sPause
	sLap
	sKiloPace
	sMilePace
	numStreams
)

// streamID is the index of a detail stream key, -1 for other keys.
func streamID(key []byte) int {
	switch string(key) {
	case "time":
		return sTime
	case "longitude_latitude":
		return sLatLon
	case "altitude":
		return sAltitude
	case "heart_rate":
		return sHeartRate
	case "gait":
		return sGait
	case "speed":
		return sSpeed
	case "distance":
		return sDistance
	case "currentDistance":
		return sCurrentDistance
	case "stroke_speed":
		return sStrokeSpeed
	case "cadence":
		return sCadence
	case "power_meter":
		return sPower
	case "time_delta_altitude":
		return sTimeDeltaAltitude
	case "pause":
		return sPause
	case "lap":
		return sLap
	case "kilo_pace":
		return sKiloPace
	case "mile_pace":
		return sMilePace
	}
	return -1
}

// rawStreams are the non-empty streams of a detail, in place in the input,
// with their entry counts.
type rawStreams struct {
	s [numStreams][]byte
	n [numStreams]int
}

// parseDetail parses a detail object, with or without the response wrapper.
func parseDetail(data []byte) (*detail, error) {
	return parseDetailWith(data, false)
}

// parseDetailWith is parseDetail; general skips the fast paths (tests).
func parseDetailWith(data []byte, general bool) (*detail, error) {
	if err := checkSize("detail", data, MaxDetailSize); err != nil {
		return nil, err
	}
	d := &detail{routeCut: -1, general: general}
	var raw rawStreams
	var code, msg, payload []byte
	sc := scanner{data: data}
	err := sc.object(func(key, val []byte) error {
		if id := streamID(key); id >= 0 {
			s, err := flexStream(val)
			if err != nil {
				return &FieldError{Field: string(key), Entry: -1, Err: err}
			}
			if len(s) > 0 {
				n := bytes.Count(s, []byte{';'}) + 1
				if n > MaxStreamEntries {
					return &FieldError{Field: string(key), Entry: -1, Err: fmt.Errorf("%d entries, over the limit of %d: %w", n, MaxStreamEntries, ErrTooLarge)}
				}
				if s[len(s)-1] == ';' {
					n-- // countEntries
				}
				raw.s[id], raw.n[id] = s, n
			}
			return nil
		}
		switch k := string(key); k {
		case "code":
			code = val
		case "message":
			msg = val
		case "data":
			payload = val
		case "trackid":
			n, err := flexInt(val)
			if err != nil {
				return &FieldError{Field: k, Entry: -1, Err: err}
			}
			d.trackID, d.hasTrackID = n, len(val) > 0 && val[0] != 'n' && string(val) != `""`
		case "source":
			s, err := flexString(val)
			if err != nil {
				return &FieldError{Field: k, Entry: -1, Err: err}
			}
			d.source = s
		case "provider":
			// "gaode" (AutoNavi) returns positions in China's GCJ-02
			// datum (§3.3); the note lets package geo convert them.
			if s, err := flexString(val); err == nil && strings.EqualFold(s, "gaode") {
				d.notes = append(d.notes, "location provider gaode (AutoNavi): positions in mainland China are GCJ-02")
			}
		case "version":
			n, err := flexInt(val)
			if err != nil || n > math.MaxInt32 || n < math.MinInt32 {
				return &FieldError{Field: k, Entry: -1, Err: fmt.Errorf("want a small integer, got %s", truncate(val))}
			}
			d.version = int(n)
		}
		return nil
	})
	if err == nil {
		err = sc.end()
	}
	if err != nil {
		return nil, fmt.Errorf("detail: %w", err)
	}
	if code != nil && payload != nil {
		inner, err := checkWrapper(code, msg, payload)
		if err != nil {
			return nil, fmt.Errorf("detail: %w", err)
		}
		return parseDetailWith(inner, general)
	}
	for _, s := range raw.s {
		if len(s) > 0 {
			d.streams++
		}
	}
	d.scratch = getScratch()
	if err := d.parseStreams(&raw); err != nil {
		d.release()
		return nil, fmt.Errorf("detail: %w", err)
	}
	return d, nil
}

// valueStreams are the "Δt,value" streams, parsed into valPoints.
var valueStreams = [...]struct {
	id   int
	kind pairKind
}{
	{sHeartRate, pairCumulative},
	{sSpeed, pairValue},
	{sDistance, pairDistance},
	{sCurrentDistance, pairCentimetres},
	{sStrokeSpeed, pairValue},
	{sCadence, pairValue},
	{sPower, pairValue},
	{sTimeDeltaAltitude, pairValue},
}

var streamNames = [numStreams]string{
	sTime: "time", sLatLon: "longitude_latitude", sAltitude: "altitude", sHeartRate: "heart_rate",
	sGait: "gait", sSpeed: "speed", sDistance: "distance", sCurrentDistance: "currentDistance",
	sStrokeSpeed: "stroke_speed", sCadence: "cadence", sPower: "power_meter",
	sTimeDeltaAltitude: "time_delta_altitude", sPause: "pause", sLap: "lap", sKiloPace: "kilo_pace",
	sMilePace: "mile_pace",
}

func (d *detail) parseStreams(raw *rawStreams) error {
	// every valPoint stream gets its slice of one buffer, sized once
	total := raw.n[sGait]
	for _, v := range valueStreams {
		total += raw.n[v.id]
	}
	pts := d.scratch.points(total)
	carve := func(n int) []valPoint {
		p := pts[:0:n]
		pts = pts[n:]
		return p
	}

	if err := d.parseGPS(raw); err != nil {
		return err
	}
	if err := d.parseGait(raw.s[sGait], carve(raw.n[sGait])); err != nil {
		return err
	}
	dsts := [numStreams]*[]valPoint{
		sHeartRate: &d.hr, sSpeed: &d.speed, sDistance: &d.distance, sCurrentDistance: &d.curDist,
		sStrokeSpeed: &d.stroke, sCadence: &d.cadence, sPower: &d.power, sTimeDeltaAltitude: &d.tdAlt,
	}
	for _, v := range valueStreams {
		out, err := d.parsePairs(streamNames[v.id], raw.s[v.id], v.kind, carve(raw.n[v.id]))
		if err != nil {
			return err
		}
		*dsts[v.id] = out
	}
	if err := d.parsePauses(raw.s[sPause]); err != nil {
		return err
	}
	d.laps = d.parseLaps("lap", raw.s[sLap], 2)
	d.kilo = d.parseLaps("kilo_pace", raw.s[sKiloPace], -1)
	d.mileRows = raw.n[sMilePace]
	return nil
}

// entries iterates over the ';'-separated entries of a stream. Only the
// empty entry after a trailing ';' is dropped: empty entries in the middle
// can be meaningful (longitude_latitude placeholders).
type entries struct {
	s []byte
	i int
}

func (it *entries) next() ([]byte, bool) {
	if it.i >= len(it.s) {
		return nil, false
	}
	rest := it.s[it.i:]
	if j := bytes.IndexByte(rest, ';'); j >= 0 {
		it.i += j + 1
		return rest[:j], true
	}
	it.i = len(it.s)
	return rest, true
}

func countEntries(s []byte) int {
	if len(s) == 0 {
		return 0
	}
	n := bytes.Count(s, []byte{';'})
	if s[len(s)-1] != ';' {
		n++
	}
	return n
}

// splitFields cuts an entry at ',' into out and returns how many fields it
// filled; columns beyond len(out) are ignored (newer rows add columns).
func splitFields(e []byte, out [][]byte) int {
	for n := range out {
		j := bytes.IndexByte(e, ',')
		if j < 0 {
			out[n] = e
			return n + 1
		}
		out[n], e = e[:j], e[j+1:]
	}
	return len(out)
}

// clock accumulates the Δt chain of one stream.
type clock struct {
	field string
	off   int64
}

// step adds one Δt; an empty one means 1 s (the heart_rate rule, applied to
// every stream as ZeppBridge does).
func (c *clock) step(i int, dt int64, empty bool) (int32, error) {
	if empty {
		dt = 1
	}
	if dt < 0 {
		return 0, fieldErr(c.field, i, "time goes backwards (delta %d s)", dt)
	}
	c.off += dt
	if c.off > maxOffset {
		return 0, fieldErr(c.field, i, "offset %d s is beyond the %v limit: %w", c.off, MaxDuration, ErrTooLarge)
	}
	return int32(c.off), nil
}

// endOfEntry checks that the field just read was an entry's last.
func endOfEntry(c *cursor) bool { return c.term != ',' }

// parseGPS reads time, longitude_latitude and altitude, the three streams
// with one entry per GPS point.
func (d *detail) parseGPS(raw *rawStreams) error {
	times, ll, alts := raw.s[sTime], raw.s[sLatLon], raw.s[sAltitude]
	d.gps = d.scratch.gpsPoints(raw.n[sTime])
	ok := false
	if !d.general {
		d.gps, d.timeZeroDeltas, ok = timesFast(times, d.gps)
	}
	if !ok {
		if err := d.parseTimes(times); err != nil {
			return err
		}
	}
	d.timeEntries = len(d.gps)

	// longitude_latitude: "lat,lon" (latitude first), cumulative 1e-8
	// degrees; an empty entry is a placeholder aligned with time. When the
	// counts differ the placeholders cannot be aligned and are skipped.
	d.llEntries = raw.n[sLatLon]
	skipEmpty := d.llEntries != d.timeEntries
	ok = false
	if !d.general {
		d.llEmpty, ok = latLonFast(ll, d.gps, skipEmpty)
	}
	if !ok {
		for i := range d.gps { // undo what the fast path wrote
			p := &d.gps[i]
			p.lat, p.lon, p.fix = 0, 0, false
		}
		if err := d.parseLatLon(ll, skipEmpty); err != nil {
			return err
		}
	}
	if positions := d.llEntries - d.llEmpty; skipEmpty && d.llEntries > 0 {
		if positions != d.timeEntries {
			d.notef("longitude_latitude has %d positions for %d time entries; positions matched by index up to the shorter", positions, d.timeEntries)
		} else if d.llEmpty > 0 {
			d.notef("longitude_latitude has %d entries for %d time entries; its %d empty entries were skipped", d.llEntries, d.timeEntries, d.llEmpty)
		}
	}

	// altitude: absolute cm per GPS point
	d.altEntries = raw.n[sAltitude]
	if d.altEntries > 0 && d.altEntries != d.timeEntries {
		d.notef("altitude has %d entries for %d time entries; matched by index up to the shorter", d.altEntries, d.timeEntries)
	}
	ok = false
	if !d.general {
		d.altSentinels, d.altInvalid, ok = altitudesFast(alts, d.gps)
	}
	if !ok {
		for i := range d.gps {
			d.gps[i].alt, d.gps[i].hasAlt = 0, false
		}
		if err := d.parseAltitudes(alts); err != nil {
			return err
		}
	}
	if d.altInvalid > 0 {
		d.notef("%d altitude values outside -500…10000 m treated as absent", d.altInvalid)
	}
	return nil
}

// parseTimes is the general parser of time: one Δt per GPS point.
func (d *detail) parseTimes(times []byte) error {
	d.gps, d.timeZeroDeltas = d.gps[:0], 0
	clk := clock{field: "time"}
	for c := (cursor{s: times}); !c.done(); {
		i, start := len(d.gps), c.i
		dt, empty, err := c.int()
		if err != nil || !endOfEntry(&c) {
			return fieldErr("time", i, "want a time delta in seconds, got %q", c.entryAt(start))
		}
		off, err := clk.step(i, dt, empty)
		if err != nil {
			return err
		}
		if dt == 0 && !empty {
			d.timeZeroDeltas++
		}
		d.gps = append(d.gps, gpsPoint{off: off})
	}
	return nil
}

// parseLatLon is the general parser of longitude_latitude.
func (d *detail) parseLatLon(ll []byte, skipEmpty bool) error {
	d.llEmpty = 0
	var lat, lon int64
	k := 0 // GPS point the next position belongs to
	for c, i := (cursor{s: ll}), 0; !c.done(); i++ {
		start := c.i
		dlat, empty, err := c.int()
		if err == nil && empty && endOfEntry(&c) {
			d.llEmpty++
			if !skipEmpty {
				k++
			}
			continue
		}
		var dlon int64
		pair := err == nil && !empty && c.term == ','
		if pair {
			dlon, empty, err = c.int()
		}
		if !pair || err != nil || empty || !endOfEntry(&c) {
			return fieldErr("longitude_latitude", i, "want integer \"lat,lon\", got %q", c.entryAt(start))
		}
		if k < len(d.gps) && d.routeCut < 0 {
			lat, lon = lat+dlat, lon+dlon
			if lat < -90e8 || lat > 90e8 || lon < -180e8 || lon > 180e8 {
				d.routeCut = k
				d.notef("GPS track cut at point %d of %d: latitude %.6f, longitude %.6f is impossible, so every later cumulative position is unreliable",
					k, len(d.gps), float64(lat)/1e8, float64(lon)/1e8)
			} else if lat != 0 || lon != 0 {
				d.gps[k].lat, d.gps[k].lon, d.gps[k].fix = lat, lon, true
			}
		}
		k++
	}
	return nil
}

// parseAltitudes is the general parser of altitude.
func (d *detail) parseAltitudes(alts []byte) error {
	d.altSentinels, d.altInvalid = 0, 0
	for c, i := (cursor{s: alts}), 0; !c.done() && i < len(d.gps); i++ {
		start := c.i
		v, empty, err := c.float()
		if err != nil || !endOfEntry(&c) {
			return fieldErr("altitude", i, "want centimetres, got %q", c.entryAt(start))
		}
		switch {
		case empty:
		case v <= -1000000:
			d.altSentinels++ // -2000000 and -200xxxx: no value
		case v <= -50000 || v >= 1000000:
			d.altInvalid++
		default:
			d.gps[i].alt, d.gps[i].hasAlt = int32(math.Round(v)), true
		}
	}
	return nil
}

// parseGait reads "Δt,Δsteps,stride_cm,cadence_spm" (the last two optional).
func (d *detail) parseGait(s []byte, buf []valPoint) error {
	if len(s) == 0 {
		return nil
	}
	if !d.general {
		var ok bool
		if d.gait, d.gaitSteps, ok = gaitFast(s, buf); ok {
			return nil
		}
	}
	d.gait, d.gaitSteps = buf[:0], 0
	clk := clock{field: "gait"}
	for c, i := (cursor{s: s}), 0; !c.done(); i++ {
		start := c.i
		bad := func() error {
			return fieldErr("gait", i, "want \"Δt,Δsteps,stride,cadence\", got %q", c.entryAt(start))
		}
		dt, empty, err := c.int()
		if err != nil || c.term != ',' {
			return bad()
		}
		off, err := clk.step(i, dt, empty)
		if err != nil {
			return err
		}
		steps, _, err := c.int()
		if err != nil || steps > math.MaxInt32 || steps < -math.MaxInt32 {
			return bad()
		}
		d.gaitSteps += steps
		spm := 0.0
		if c.term == ',' {
			if _, _, err = c.float(); err == nil && c.term == ',' { // stride, unused
				spm, _, err = c.float()
			}
			if err != nil {
				return bad()
			}
			c.skipEntry()
		}
		d.gait = append(d.gait, valPoint{off: off, v: spm})
	}
	return nil
}

type pairKind uint8

const (
	pairValue       pairKind = iota // "Δt,value"
	pairCumulative                  // "Δt,Δvalue": the running sum is the value
	pairDistance                    // as pairCumulative, negative deltas ignored
	pairCentimetres                 // "Δt,cumulative cm" → m
)

// parsePairs reads "Δt,value" entries into buf.
func (d *detail) parsePairs(field string, s []byte, kind pairKind, buf []valPoint) ([]valPoint, error) {
	if len(s) == 0 {
		return nil, nil
	}
	if !d.general {
		out, emptyDt, drops, ok := pairsFast(s, kind, buf)
		if ok {
			if kind == pairCumulative {
				d.hrEmptyDt += emptyDt
			}
			d.distDrops += drops
			return out, nil
		}
	}
	out := buf[:0]
	clk := clock{field: field}
	sum := 0.0
	for c, i := (cursor{s: s}), 0; !c.done(); i++ {
		start := c.i
		dt, empty, err := c.int()
		if err != nil || c.term != ',' {
			return nil, fieldErr(field, i, "want \"Δt,value\", got %q", c.entryAt(start))
		}
		if empty && kind == pairCumulative {
			d.hrEmptyDt++
		}
		off, err := clk.step(i, dt, empty)
		if err != nil {
			return nil, err
		}
		v, empty, err := c.float()
		if err != nil || empty {
			return nil, fieldErr(field, i, "want \"Δt,value\", got %q", c.entryAt(start))
		}
		c.skipEntry()
		switch kind {
		case pairDistance:
			if v < 0 {
				d.distDrops++
				v = 0
			}
			fallthrough
		case pairCumulative:
			sum += v
			if sum > 1e12 || sum < -1e12 {
				return nil, fieldErr(field, i, "running total %g is absurd", sum)
			}
			v = sum
		case pairCentimetres:
			v /= 100
		}
		out = append(out, valPoint{off: off, v: v})
	}
	return out, nil
}

func (d *detail) parsePauses(s []byte) error {
	var f [5][]byte
	for it, i := (entries{s: s}), 0; ; i++ {
		e, ok := it.next()
		if !ok {
			return nil
		}
		if len(e) == 0 {
			continue
		}
		n := splitFields(e, f[:])
		if n < 2 {
			return fieldErr("pause", i, "want \"start,duration,startIdx,stopIdx,type\", got %q", truncate(e))
		}
		start, err1 := parseInt(f[0])
		dur, err2 := parseInt(f[1])
		if err1 != nil || err2 != nil {
			return fieldErr("pause", i, "want integer start and duration, got %q", truncate(e))
		}
		p := pauseRow{start: start, dur: dur}
		if n == 5 {
			if t, err := parseInt(f[4]); err == nil && t >= 0 && t < 1000 {
				p.typ = int(t)
			}
		}
		d.pauses = append(d.pauses, p)
	}
}

// parseLaps reads lap or kilo_pace rows. Both start idx,moving_s and carry
// the cumulative elapsed seconds in column 5 and the average heart rate in
// column 4; lap rows have the distance in column distCol (-1: none, a
// kilo_pace row is one kilometre). Their layout varies between versions, so
// rows that do not validate are dropped with a note rather than failing the
// workout.
func (d *detail) parseLaps(field string, s []byte, distCol int) []lapRow {
	var out []lapRow
	var f [6][]byte
	prevCum := 0.0
	for it, i := (entries{s: s}), 0; ; i++ {
		e, ok := it.next()
		if !ok {
			return out
		}
		if len(e) == 0 {
			continue
		}
		bad := func(why string) []lapRow {
			d.notef("%s entry %d (%q) %s; its %d rows were ignored", field, i, truncate(e), why, countEntries(s))
			return nil
		}
		if splitFields(e, f[:]) < 6 {
			return bad("has fewer than 6 columns")
		}
		idx, err := parseInt(f[0])
		if err != nil || idx != int64(len(out)) {
			return bad("does not continue the row numbering")
		}
		r := lapRow{idx: int(idx)}
		var errs [3]error
		r.moving, errs[0] = parseFloat(f[1])
		r.cum, errs[1] = parseFloat(f[5])
		hr, errHR := parseFloat(f[4])
		if errHR == nil && hr > 0 {
			r.avgHR = int(math.Round(hr))
		}
		if distCol >= 0 {
			r.distance, errs[2] = parseFloat(f[distCol])
			if r.distance < 0 { // -20000: n/a
				r.distance = 0
			}
		} else {
			r.distance = 1000
		}
		if errs[0] != nil || errs[1] != nil || errs[2] != nil {
			return bad("has a non-numeric duration or distance")
		}
		if r.moving < 0 || r.cum < prevCum || r.cum > float64(maxOffset) {
			return bad("has times that go backwards")
		}
		prevCum = r.cum
		out = append(out, r)
	}
}
