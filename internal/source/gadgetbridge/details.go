package gadgetbridge

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/bandsync/bandsync/internal/workout"
)

// noAltitude is Huami's "altitude unknown" marker (offline-formats.md §1.3).
const noAltitude = -20000

// huamiPoint is one point of a classic Huami details blob as Gadgetbridge
// builds it (HuamiActivityDetailsParser), kept in Gadgetbridge's list
// order so the golden file can be compared exactly.
type huamiPoint struct {
	ms       int64 // Unix ms
	hasPos   bool
	lat, lon int64 // micro-degrees, rounded half up as Gadgetbridge does
	alt      int64 // m; noAltitude when unknown
	hr       int   // raw bpm; 0 = none
}

func (p huamiPoint) sameCoord(q huamiPoint) bool {
	return p.lat == q.lat && p.lon == q.lon && p.alt == q.alt
}

// microDegrees turns Huami's 1/3 000 000° into micro-degrees, rounding
// half up like Gadgetbridge's BigDecimal division to 6 places (v/3 has a
// remainder of ⅓ or ⅔, never a tie).
func microDegrees(v int64) int64 {
	q, r := v/3, v%3
	switch {
	case r == 2:
		q++
	case r == -2:
		q--
	}
	return q
}

// huamiDetails decodes a classic Huami details blob (counter bytes
// already stripped): 8-byte records of type, u8 time offset and payload,
// as offline-formats.md §2.3 describes. It returns the points in
// Gadgetbridge's order and how many trailing bytes did not make a whole
// record.
func huamiDetails(b []byte, startMs, baseLon, baseLat, baseAlt int64) (pts []huamiPoint, trailing int) {
	last := -1 // index of the point Gadgetbridge calls lastActivityPoint
	at := func(offset int64) int64 { return startMs + offset*1000 }
	// pointAt returns the index of the point to update for time t: the
	// last point when it has the same time, else a new one.
	pointAt := func(t int64) int {
		if last >= 0 && pts[last].ms == t {
			return last
		}
		pts = append(pts, huamiPoint{ms: t, alt: noAltitude})
		last = len(pts) - 1
		return last
	}
	lon, lat, alt := baseLon, baseLat, baseAlt
	var total int64
	lastOffset := 0
	for len(b) >= 8 {
		typ, off, p := b[0], int(b[1]), b[2:8]
		b = b[8:]
		if lastOffset <= off {
			total += int64(off - lastOffset)
			lastOffset = off
		} else { // the u8 wrapped: Gadgetbridge adds the new raw value
			total += int64(off)
			lastOffset = off
		}
		switch typ {
		case 0: // GPS: i16 deltas of longitude, latitude, altitude
			lon += int64(int16(binary.LittleEndian.Uint16(p[0:])))
			lat += int64(int16(binary.LittleEndian.Uint16(p[2:])))
			if alt != noAltitude {
				alt += int64(int16(binary.LittleEndian.Uint16(p[4:])))
			}
			c := huamiPoint{ms: at(total), hasPos: true, lat: microDegrees(lat), lon: microDegrees(lon), alt: alt}
			if last >= 0 && pts[last].ms == c.ms && !(pts[last].hasPos && !pts[last].sameCoord(c)) {
				// Same second: the position joins the last point.
				pts[last].hasPos, pts[last].lat, pts[last].lon, pts[last].alt = true, c.lat, c.lon, c.alt
				continue
			}
			pts = append(pts, c)
			last = len(pts) - 1
		case 1: // heart rate
			if p[1] == 0 && p[2] == 0 && p[3] == 0 && p[4] == 0 && p[5] == 0 {
				pts[pointAt(at(total))].hr = int(p[0])
				continue
			}
			// Old format: three (seconds since start, bpm) pairs.
			for i := 0; i < 6; i += 2 {
				pts[pointAt(at(int64(p[i])))].hr = int(p[i+1])
			}
		default:
			// 2 pause, 3 resume, 4–6 speed, 8 swimming: payloads unknown,
			// and Gadgetbridge ignores them too.
		}
	}
	fixupMissingTimestamps(pts, startMs)
	return pts, len(b)
}

// fixupMissingTimestamps spreads the GPS points recorded before the first
// fix with a real time (they all share one time) evenly from the start up
// to that fix, exactly as Gadgetbridge does, so that results match its
// GPX export.
func fixupMissingTimestamps(pts []huamiPoint, startMs int64) {
	var fix []int
	var gpsStart int64
	found := false
	for i := 0; i < len(pts)-1; i++ {
		if !pts[i].hasPos {
			continue
		}
		fix = append(fix, i)
		if pts[i].ms != pts[i+1].ms {
			gpsStart, found = pts[i+1].ms, true
			break
		}
	}
	if !found {
		return
	}
	diff := gpsStart - startMs
	if diff < 0 {
		diff = -diff
	}
	step := float64(diff/1000) / float64(len(fix))
	for j, i := range fix {
		pts[i].ms = startMs + int64(math.Floor(float64(j)*step+0.5))*1000
	}
}

// huamiSamples turns Gadgetbridge's points into time-ordered samples.
func huamiSamples(pts []huamiPoint) ([]workout.Sample, []string) {
	out := make([]workout.Sample, 0, len(pts))
	badHR, badPos := 0, 0
	for _, p := range pts {
		s := workout.Sample{Time: time.UnixMilli(p.ms).UTC()}
		if p.hasPos {
			lat, lon := float64(p.lat)/1e6, float64(p.lon)/1e6
			if workout.ValidPosition(lat, lon) {
				s.SetPosition(lat, lon)
				if p.alt != noAltitude {
					s.SetAltitude(float64(p.alt))
				}
			} else {
				badPos++
			}
		}
		if p.hr != 0 {
			if workout.ValidHeartRate(p.hr) {
				s.SetHeartRate(uint8(p.hr))
			} else {
				badHR++
			}
		}
		if s.Has != 0 {
			out = append(out, s)
		}
	}
	var notes []string
	if badHR > 0 {
		notes = append(notes, fmt.Sprintf("%d heart-rate readings outside 25–250 bpm treated as absent", badHR))
	}
	if badPos > 0 {
		notes = append(notes, fmt.Sprintf("%d impossible positions dropped", badPos))
	}
	return orderSamples(out), notes
}

// orderSamples sorts samples by time (Gadgetbridge's lists are not: GPS
// points back-filled before the first fix come after early heart-rate
// points) and merges samples of the same instant whose fields do not
// overlap, so a position and a heart rate of one second become one sample.
func orderSamples(in []workout.Sample) []workout.Sample {
	slices.SortStableFunc(in, func(a, b workout.Sample) int { return a.Time.Compare(b.Time) })
	out := in[:0]
	for _, s := range in {
		if n := len(out); n > 0 && out[n-1].Time.Equal(s.Time) && out[n-1].Has&s.Has == 0 {
			out[n-1].Merge(s)
			continue
		}
		out = append(out, s)
	}
	return out
}

// zeppOSDetails decodes a Zepp OS details blob: a little-endian TLV
// stream (offline-formats.md §2.4). Unlike Gadgetbridge's GPX export it
// keeps heart rate, altitude and cadence recorded away from a GPS point,
// so indoor workouts keep their heart rate.
func zeppOSDetails(b []byte, startMs int64) (samples []workout.Sample, pauses []workout.Interval, notes []string) {
	ts, off := startMs, int64(0)
	now := func() time.Time { return time.UnixMilli(ts + off).UTC() }
	var lon, lat int64
	haveFix := false
	var lastLat, lastLon float64
	var pauseStart time.Time
	skipped := 0
	addPos := func() {
		la, lo := float64(microDegrees(lat))/1e6, float64(microDegrees(lon))/1e6
		if !workout.ValidPosition(la, lo) || (la == lastLat && lo == lastLon) {
			return
		}
		lastLat, lastLon = la, lo
		s := workout.Sample{Time: now()}
		s.SetPosition(la, lo)
		samples = append(samples, s)
	}
	for len(b) >= 2 {
		typ, n := b[0], int(b[1])
		b = b[2:]
		if n > len(b) {
			skipped++
			break
		}
		v := b[:n]
		b = b[n:]
		i16 := func(o int) int64 { return int64(int16(binary.LittleEndian.Uint16(v[o:]))) }
		switch {
		case typ == 1 && n == 12: // timestamp
			ts, off = int64(binary.LittleEndian.Uint64(v[4:])), 0
		case typ == 2 && n == 20: // absolute position
			lon = int64(int32(binary.LittleEndian.Uint32(v[6:])))
			lat = int64(int32(binary.LittleEndian.Uint32(v[10:])))
			haveFix = true
			addPos()
		case typ == 3 && n == 8: // position delta
			off = i16(0)
			lon += i16(2)
			lat += i16(4)
			if haveFix {
				addPos()
			}
		case typ == 4 && n == 4: // status: 4 pause, 5 resume
			off = i16(0)
			switch i16(2) {
			case 4:
				pauseStart = now()
			case 5:
				if !pauseStart.IsZero() && now().After(pauseStart) {
					pauses = append(pauses, workout.Interval{Start: pauseStart, End: now()})
				}
				pauseStart = time.Time{}
			}
		case typ == 5 && n == 8: // cadence spm, stride cm, pace s/km
			off = i16(0)
			s := workout.Sample{Time: now()}
			if c := i16(2); c > 0 && c < 400 {
				s.SetCadence(float64(c))
			}
			if p := i16(6); p > 0 && p < 3600 {
				s.SetSpeed(1000 / float64(p))
			}
			if s.Has != 0 {
				samples = append(samples, s)
			}
		case typ == 7 && n == 6: // altitude, cm
			off = i16(0)
			s := workout.Sample{Time: now()}
			s.SetAltitude(float64(int32(binary.LittleEndian.Uint32(v[2:]))) / 100)
			samples = append(samples, s)
		case typ == 8 && n == 3: // heart rate
			off = i16(0)
			if bpm := int(v[2]); workout.ValidHeartRate(bpm) {
				s := workout.Sample{Time: now()}
				s.SetHeartRate(uint8(bpm))
				samples = append(samples, s)
			}
		default:
			// Unknown types and known types of an unexpected length are
			// skipped by their length, as Gadgetbridge does.
		}
	}
	if skipped > 0 || len(b) > 0 {
		notes = append(notes, "the details blob ends in a truncated record, which was ignored")
	}
	return orderSamples(samples), workout.MergeIntervals(pauses), notes
}
