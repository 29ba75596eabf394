package zeppjson

import (
	"bytes"
	"math"
)

// Fast paths for the streams that make up a detail: each parses one stream
// in a single loop with everything in registers, but only input in the
// shape the cloud sends (plain decimals of at most 15 digits, the expected
// columns, time running forwards). Anything else, an error included, makes
// it report !ok, and the caller parses the stream again with the general
// parser (detail.go), which alone produces errors and rare repairs. A fast
// path therefore commits nothing to the detail until it succeeds, and where
// it succeeds it yields exactly what the general parser would:
// TestStreamFastPaths and FuzzStreamFastPaths check this.

// digits reads the run of decimal digits at s[i:] as a number; n is
// meaningful only for at most 18 digits (the caller checks j-i).
func digits(s []byte, i int) (n uint64, j int) {
	for j = i; j < len(s) && s[j]-'0' <= 9; j++ {
		n = n*10 + uint64(s[j]-'0')
	}
	return n, j
}

// fastFloat reads a non-empty decimal field at s[i:] ("-12", "0.34602076",
// "3.") exactly as cursor.float does, and returns the index of its
// terminator. ok is false for anything cursor.float would hand to strconv
// or reject: exponents, more than 15 digits, a missing number, junk.
func fastFloat(s []byte, i int) (v float64, j int, ok bool) {
	neg := i < len(s) && s[i] == '-'
	if neg {
		i++
	}
	mant, j := digits(s, i)
	nd, frac := j-i, 0
	if j < len(s) && s[j] == '.' {
		var k int
		for k = j + 1; k < len(s) && s[k]-'0' <= 9; k++ {
			mant = mant*10 + uint64(s[k]-'0')
		}
		frac = k - j - 1
		nd += frac
		j = k
	}
	if nd == 0 || nd > 15 || j < len(s) && s[j] != ',' && s[j] != ';' {
		return 0, j, false
	}
	v = float64(mant)
	if frac > 0 { // the division is exact for frac 0; skip its latency
		v /= pow10[frac]
	}
	if neg {
		v = -v
	}
	return v, j, true
}

// floatField is fastFloat, handing what it cannot read (more than 15
// digits, as in the float noise of a difference "0.09999999999999964") to
// parseFloat, as cursor.float does, instead of giving up on the whole
// stream. ok is false for a field parseFloat refuses too.
func floatField(s []byte, i int) (v float64, j int, ok bool) {
	if v, j, ok = fastFloat(s, i); ok {
		return v, j, true
	}
	for j = i; j < len(s) && s[j] != ',' && s[j] != ';'; j++ {
	}
	v, err := parseFloat(s[i:j])
	return v, j, err == nil && j > i
}

// fastInt reads a non-empty integer field of at most 18 digits at s[i:],
// optionally negative, and returns the index after it (not checking the
// terminator).
func fastInt(s []byte, i int) (n int64, j int, ok bool) {
	neg := i < len(s) && s[i] == '-'
	if neg {
		i++
	}
	u, j := digits(s, i)
	if j == i || j-i > 18 {
		return 0, j, false
	}
	n = int64(u)
	if neg {
		n = -n
	}
	return n, j, true
}

// fastDelta reads a Δt field: digits (at most 7: more is beyond MaxDuration
// anyway) or nothing, meaning 1 s.
func fastDelta(s []byte, i int) (dt int64, j int, empty, ok bool) {
	u, j := digits(s, i)
	switch {
	case j == i:
		return 1, j, true, true
	case j-i > 7:
		return 0, j, false, false
	}
	return int64(u), j, false, true
}

// skipColumns moves from the ',' at s[i] past the end of the entry.
func skipColumns(s []byte, i int) int {
	if k := bytes.IndexByte(s[i:], ';'); k >= 0 {
		return i + k + 1
	}
	return len(s)
}

// timesFast parses the time stream into gps (cap preset to the entries).
func timesFast(s []byte, gps []gpsPoint) (out []gpsPoint, zeroDeltas int, ok bool) {
	var off int64
	for i := 0; i < len(s); i++ { // i++ steps over the ';'
		dt, j, empty, ok := fastDelta(s, i)
		if !ok || j < len(s) && s[j] != ';' {
			return gps, 0, false
		}
		if off += dt; off > maxOffset {
			return gps, 0, false
		}
		if dt == 0 && !empty {
			zeroDeltas++
		}
		gps = append(gps, gpsPoint{off: int32(off)})
		i = j
	}
	return gps, zeroDeltas, true
}

// latLonFast parses longitude_latitude into gps, as the loop in parseGPS
// does; it gives up on a position that leaves the globe (the route cut).
func latLonFast(s []byte, gps []gpsPoint, skipEmpty bool) (empties int, ok bool) {
	var lat, lon int64
	k := 0
	for i := 0; i < len(s); i++ {
		if s[i] == ';' { // placeholder
			empties++
			if !skipEmpty {
				k++
			}
			continue
		}
		dlat, j, ok := fastInt(s, i)
		if !ok || j >= len(s) || s[j] != ',' {
			return 0, false
		}
		dlon, j, ok := fastInt(s, j+1)
		if !ok || j < len(s) && s[j] != ';' {
			return 0, false
		}
		i = j
		if k < len(gps) {
			lat, lon = lat+dlat, lon+dlon
			if lat < -90e8 || lat > 90e8 || lon < -180e8 || lon > 180e8 {
				return 0, false
			}
			if lat != 0 || lon != 0 {
				p := &gps[k]
				p.lat, p.lon, p.fix = lat, lon, true
			}
		}
		k++
	}
	return empties, true
}

// altitudesFast parses altitude into gps, stopping after len(gps) entries
// as parseGPS does.
func altitudesFast(s []byte, gps []gpsPoint) (sentinels, invalid int, ok bool) {
	n := 0
	for i := 0; i < len(s) && n < len(gps); i++ {
		if s[i] == ';' { // empty entry: no value
			n++
			continue
		}
		v, j, ok := fastFloat(s, i)
		if !ok || j < len(s) && s[j] != ';' {
			return 0, 0, false
		}
		switch {
		case v <= -1000000:
			sentinels++
		case v <= -50000 || v >= 1000000:
			invalid++
		default:
			gps[n].alt, gps[n].hasAlt = int32(math.Round(v)), true
		}
		n++
		i = j
	}
	return sentinels, invalid, true
}

// gaitFast parses "Δt,Δsteps[,stride[,cadence[,…]]]" entries.
func gaitFast(s []byte, out []valPoint) (_ []valPoint, steps int64, ok bool) {
	var off int64
	for i := 0; i < len(s); i++ {
		dt, j, _, ok := fastDelta(s, i)
		if !ok || j >= len(s) || s[j] != ',' {
			return out, 0, false
		}
		if off += dt; off > maxOffset {
			return out, 0, false
		}
		i = j + 1
		var st int64
		if i < len(s) && s[i] != ',' && s[i] != ';' { // an empty Δsteps is 0
			if st, j, ok = fastInt(s, i); !ok || st > math.MaxInt32 || st < -math.MaxInt32 {
				return out, 0, false
			}
			i = j
		}
		steps += st
		spm := 0.0
		if i < len(s) && s[i] == ',' {
			// stride (unused), then cadence; either may be empty
			i++
			if i < len(s) && s[i] != ',' && s[i] != ';' {
				if _, i, ok = fastFloat(s, i); !ok {
					return out, 0, false
				}
			}
			if i < len(s) && s[i] == ',' {
				i++
				if i < len(s) && s[i] != ',' && s[i] != ';' {
					if spm, i, ok = fastFloat(s, i); !ok {
						return out, 0, false
					}
				}
				if i < len(s) && s[i] == ',' {
					i = skipColumns(s, i) - 1
				}
			}
		} else if i < len(s) && s[i] != ';' {
			return out, 0, false
		}
		out = append(out, valPoint{off: int32(off), v: spm})
	}
	return out, steps, true
}

// pairsFast parses "Δt,value[,…]" entries of the given kind.
func pairsFast(s []byte, kind pairKind, out []valPoint) (_ []valPoint, emptyDt, drops int, ok bool) {
	var off int64
	sum := 0.0
	for i := 0; i < len(s); i++ {
		dt, j, empty, ok := fastDelta(s, i)
		if !ok || j >= len(s) || s[j] != ',' {
			return out, 0, 0, false
		}
		if empty {
			emptyDt++
		}
		if off += dt; off > maxOffset {
			return out, 0, 0, false
		}
		v, j, ok := floatField(s, j+1)
		if !ok {
			return out, 0, 0, false
		}
		if j < len(s) && s[j] == ',' {
			j = skipColumns(s, j) - 1
		}
		i = j
		switch kind {
		case pairDistance:
			if v < 0 {
				drops++
				v = 0
			}
			fallthrough
		case pairCumulative:
			sum += v
			if sum > 1e12 || sum < -1e12 {
				return out, 0, 0, false
			}
			v = sum
		case pairCentimetres:
			v /= 100
		}
		out = append(out, valPoint{off: int32(off), v: v})
	}
	return out, emptyDt, drops, true
}
