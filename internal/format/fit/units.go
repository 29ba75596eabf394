package fit

import (
	"math"
	"time"

	"github.com/muktihari/fit/kit/datetime"
)

// FIT's date_time counts seconds since 1989-12-31T00:00:00Z in a uint32;
// 0xFFFFFFFF is "invalid" and values below 0x10000000 are device-relative
// (seconds since power-on), not dates.
const (
	fitTimeMin = 0x10000000
	fitTimeMax = 0xFFFFFFFE
)

var fitEpochUnix = datetime.Epoch().Unix()

// fitTime returns t as FIT date_time, truncated to the second. ok is false
// when t cannot be written as a date.
func fitTime(t time.Time) (v uint32, ok bool) {
	s := t.Unix() - fitEpochUnix
	if s < fitTimeMin || s > fitTimeMax {
		return 0, false
	}
	return uint32(s), true
}

// timeOf is fitTime's inverse; ok is false for invalid or device-relative
// values.
func timeOf(v uint32) (time.Time, bool) {
	if v < fitTimeMin || v > fitTimeMax {
		return time.Time{}, false
	}
	return time.Unix(fitEpochUnix+int64(v), 0).UTC(), true
}

// semicirclesPerDegree converts degrees to FIT semicircles (2^31 per 180°).
const semicirclesPerDegree = (1 << 31) / 180.0

func semicircles(deg float64) int32 {
	v := deg * semicirclesPerDegree
	if v > -math.MaxInt32 && v < math.MaxInt32-1 {
		// math.Round's result, with a conversion instead of its bit
		// manipulation: the fraction v-trunc(v) is exact.
		i := int64(v)
		f := v - float64(i)
		// Conditional moves, not jumps: which way a coordinate rounds is a
		// coin toss the CPU cannot predict.
		var up, down int64
		if f >= 0.5 {
			up = 1
		}
		if f <= -0.5 {
			down = 1
		}
		return int32(i + up - down)
	}
	return int32(max(min(math.Round(v), math.MaxInt32-1), -math.MaxInt32))
}

func degrees(sc int32) float64 { return float64(sc) / semicirclesPerDegree }

// scaled returns round((v+offset)×scale) as a FIT unsigned value of at most
// limit (the type's invalid marker is limit+1). ok is false for NaN or a
// value out of range, so the field is left out rather than clamped to a lie.
func scaled(v, scale, offset float64, limit uint32) (uint32, bool) {
	return roundTo((v+offset)*scale, limit)
}

// roundTo returns math.Round(x) and true when that lies in [0, limit]. It
// is what Encode spends most of its time on besides the CRC, so it rounds
// with a conversion rather than math.Round's bit manipulation.
func roundTo(x float64, limit uint32) (uint32, bool) {
	// Round(x) is in [0, limit] exactly when x is in (-0.5, limit+0.5):
	// half-way cases round away from zero. limit+0.5 is exact in a float64.
	if !(x > -0.5 && x < float64(limit)+0.5) { // also false for NaN
		return 0, false
	}
	if x <= 0 {
		return 0, true
	}
	i := uint32(x) // truncates
	var up uint32
	if x-float64(i) >= 0.5 { // the fraction is exact
		up = 1
	}
	return i + up, true
}

// Limits of FIT unsigned types below their invalid markers.
const (
	maxU8  = 0xFE
	maxU16 = 0xFFFE
	maxU32 = 0xFFFFFFFE
)

// millis is a duration as FIT's time fields hold it (uint32 ms, scale 1000).
func millis(d time.Duration) (uint32, bool) {
	return scaled(d.Seconds(), 1000, 0, maxU32)
}

// durationOf is millis' inverse; ok is false for the invalid marker.
func durationOf(ms uint32) (time.Duration, bool) {
	if ms == 0xFFFFFFFF {
		return 0, false
	}
	return time.Duration(ms) * time.Millisecond, true
}

// cadence256 splits a per-minute cadence into FIT's whole cadence and
// fractional_cadence (1/128 units). ok is false when it does not fit.
func splitCadence(c float64) (whole, frac uint8, ok bool) {
	v, ok := scaled(c, 128, 0, maxU8*128+127)
	if !ok {
		return 0, 0, false
	}
	return uint8(v / 128), uint8(v % 128), true
}
