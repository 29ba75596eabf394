package fit

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The conversions as first written, with math.Round: what the faster ones
// in units.go must equal.
func scaledByRound(v, scale, offset float64, limit uint32) (uint32, bool) {
	x := math.Round((v + offset) * scale)
	if !(x >= 0 && x <= float64(limit)) {
		return 0, false
	}
	return uint32(x), true
}

func semicirclesByRound(deg float64) int32 {
	v := math.Round(deg * semicirclesPerDegree)
	return int32(max(min(v, math.MaxInt32-1), -math.MaxInt32))
}

// TestRoundingMatchesMathRound: scaled and semicircles give math.Round's
// results at the edges (half-way values, the limits, NaN, infinities,
// negative zero) and on random values of every magnitude.
func TestRoundingMatchesMathRound(t *testing.T) {
	values := []float64{0, math.Copysign(0, -1), 0.5, -0.5, 0.49999999999999994, -0.49999999999999994,
		1.5, 2.5, -1.5, 0.4999, 254.5, 254.49999, 65534.5, 65534.4999, 65535, 4294967294.5, 4294967294.49,
		4294967295, 1e300, -1e300, math.NaN(), math.Inf(1), math.Inf(-1), 1 << 52, 1<<52 + 1, 1 << 53}
	r := rand.New(rand.NewPCG(7, 8))
	for range 200000 {
		v := r.NormFloat64() * math.Pow(10, float64(r.IntN(14)-2))
		values = append(values, v, math.Trunc(v)+0.5, math.Trunc(v)-0.5)
	}
	limits := []uint32{maxU8, maxU16, maxU32, maxU8*128 + 127}
	for _, v := range values {
		for _, limit := range limits {
			for _, scale := range []float64{1, 5, 100, 128, 1000} {
				g, gok := scaled(v, scale, 0, limit)
				w, wok := scaledByRound(v, scale, 0, limit)
				if g != w || gok != wok {
					t.Fatalf("scaled(%v, %v, 0, %d) = %d %v, want %d %v", v, scale, limit, g, gok, w, wok)
				}
			}
		}
		for _, deg := range []float64{v, v / semicirclesPerDegree, v * 1e-3} {
			if g, w := semicircles(deg), semicirclesByRound(deg); g != w {
				t.Fatalf("semicircles(%v) = %d, want %d", deg, g, w)
			}
		}
	}
	for _, deg := range []float64{180, -180, 179.99999999, -179.99999999, 180.0000001, 1e9, -1e9} {
		if g, w := semicircles(deg), semicirclesByRound(deg); g != w {
			t.Fatalf("semicircles(%v) = %d, want %d", deg, g, w)
		}
	}
}
