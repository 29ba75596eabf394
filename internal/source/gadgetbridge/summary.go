package gadgetbridge

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/bandsync/bandsync/internal/workout"
)

// zeppOSVersion is the u16 that starts a Zepp OS summary: a protobuf
// WorkoutSummary follows (offline-formats.md §2.2.3).
const zeppOSVersion = 0x8000

// rawSummary is what bandsync reads from a RAW_SUMMARY_DATA blob.
type rawSummary struct {
	version  int
	zeppOS   bool
	hasSport bool
	sport    int // HuamiSportsActivityType or ZeppOsActivityType code
	summary  workout.Summary
}

// parseRawSummary decodes a Huami or Zepp OS summary blob as
// offline-formats.md §2.2 lays it out. Fields past the end of a short
// blob are left unknown; only a blob too short for its header, or a
// malformed protobuf, is an error. Values a device uses as "none" markers
// (NaN, negative totals, impossible heart rates) are left unknown.
func parseRawSummary(b []byte) (*rawSummary, error) {
	if len(b) < 2 {
		return nil, fmt.Errorf("summary blob of %d bytes has no version", len(b))
	}
	v := int(binary.LittleEndian.Uint16(b))
	if v == zeppOSVersion {
		return parseZeppOSSummary(b[2:])
	}
	if len(b) < 24 {
		return nil, fmt.Errorf("summary blob version %d: %d bytes, shorter than the 24-byte header", v, len(b))
	}
	s := &rawSummary{version: v, hasSport: true, sport: int(binary.LittleEndian.Uint16(b[2:]))}
	r := blobReader(b)
	sum := &s.summary
	switch {
	case v < 512:
		sum.Distance = r.f32(24)
		sum.Ascent, sum.Descent = r.f32(28), r.f32(32)
		sum.Steps = r.i32(60)
		sum.Moving = seconds(r.i32(64))
		sum.Calories = r.f32(68)
		sum.MaxSpeed = r.f32(72)
		sum.AvgHR = hr(r.i16(120))
	case v == 519:
		// Gadgetbridge skips to offset 140 for version 519; what lies
		// between is undocumented, so only the step count is read.
		sum.Steps = r.i32(140)
	default:
		d := 0
		if v == 516 {
			d = 4 // version 516 inserts four bytes after the header
		}
		sum.Steps = r.i32(24 + d)
		sum.Moving = seconds(r.i32(28 + d))
		sum.Calories = r.f32(48 + d)
		sum.Distance = r.f32(52 + d)
		sum.Ascent, sum.Descent = r.f32(56+d), r.f32(60+d)
		sum.MaxSpeed = r.f32(76 + d)
		if c := r.f32(108 + d); c > 0 && c < 10 {
			sum.AvgCadence = c * 60 // steps/s → steps/min
		}
		sum.AvgHR = hr(r.i16(132 + d))
		sum.MaxHR = hr(r.i16(138 + d))
	}
	return s, nil
}

// blobReader reads little-endian fields at fixed offsets, giving 0 for a
// field past the end.
type blobReader []byte

func (r blobReader) i32(off int) int {
	if off+4 > len(r) {
		return 0
	}
	v := int(int32(binary.LittleEndian.Uint32(r[off:])))
	return max(v, 0)
}

func (r blobReader) i16(off int) int {
	if off+2 > len(r) {
		return 0
	}
	return int(int16(binary.LittleEndian.Uint16(r[off:])))
}

func (r blobReader) f32(off int) float64 {
	if off+4 > len(r) {
		return 0
	}
	return positive(float64(math.Float32frombits(binary.LittleEndian.Uint32(r[off:]))))
}

func positive(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e9 {
		return 0
	}
	return f
}

func seconds(s int) time.Duration {
	if s <= 0 || s > 30*24*3600 {
		return 0
	}
	return time.Duration(s) * time.Second
}

func hr(v int) int {
	if !workout.ValidHeartRate(v) {
		return 0
	}
	return v
}

// errProto is returned for a Zepp OS summary that is not valid protobuf.
var errProto = errors.New("malformed protobuf")

// parseZeppOSSummary walks the few WorkoutSummary fields bandsync uses.
func parseZeppOSSummary(b []byte) (*rawSummary, error) {
	s := &rawSummary{version: zeppOSVersion, zeppOS: true}
	sum := &s.summary
	err := walkProto(b, func(field int, wire int, v uint64, msg []byte) error {
		switch field {
		case 3: // Type
			return walkProto(msg, func(f, w int, v uint64, _ []byte) error {
				if f == 1 && w == 0 {
					s.sport, s.hasSport = int(int32(v)), true
				}
				return nil
			})
		case 4: // Distance
			return walkProto(msg, func(f, w int, v uint64, _ []byte) error {
				if f == 1 && w == 5 {
					sum.Distance = positive(float64(math.Float32frombits(uint32(v))))
				}
				return nil
			})
		case 7: // Time
			return walkProto(msg, func(f, w int, v uint64, _ []byte) error {
				if f == 2 && w == 0 {
					sum.Moving = seconds(int(int32(v)))
				}
				return nil
			})
		case 11: // Steps
			return walkProto(msg, func(f, w int, v uint64, _ []byte) error {
				switch {
				case f == 1 && w == 5:
					if c := positive(float64(math.Float32frombits(uint32(v)))); c < 10 {
						sum.AvgCadence = c * 60
					}
				case f == 4 && w == 0:
					sum.Steps = max(int(int32(v)), 0)
				}
				return nil
			})
		case 13: // Altitude: elevation gain and loss in cm
			return walkProto(msg, func(f, w int, v uint64, _ []byte) error {
				switch {
				case f == 5 && w == 0:
					sum.Ascent = positive(float64(int32(v)) / 100)
				case f == 6 && w == 0:
					sum.Descent = positive(float64(int32(v)) / 100)
				}
				return nil
			})
		case 16: // Calories
			return walkProto(msg, func(f, w int, v uint64, _ []byte) error {
				if f == 1 && w == 0 {
					sum.Calories = positive(float64(int32(v)))
				}
				return nil
			})
		case 19: // HeartRate
			return walkProto(msg, func(f, w int, v uint64, _ []byte) error {
				switch {
				case f == 1 && w == 0:
					sum.AvgHR = hr(int(int32(v)))
				case f == 2 && w == 0:
					sum.MaxHR = hr(int(int32(v)))
				}
				return nil
			})
		case 21: // TrainingEffect
			return walkProto(msg, func(f, w int, v uint64, _ []byte) error {
				if f == 4 && w == 5 {
					if te := positive(float64(math.Float32frombits(uint32(v)))); te <= 5 {
						sum.TrainingEffect = te
					}
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("Zepp OS summary: %w", err)
	}
	return s, nil
}

// walkProto calls fn for every field of a protobuf message: v holds a
// varint or fixed value, msg the bytes of a length-delimited field.
func walkProto(b []byte, fn func(field, wire int, v uint64, msg []byte) error) error {
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			return errProto
		}
		b = b[n:]
		field, wire := int(key>>3), int(key&7)
		var v uint64
		var msg []byte
		switch wire {
		case 0:
			v, n = binary.Uvarint(b)
			if n <= 0 {
				return errProto
			}
			b = b[n:]
		case 1:
			if len(b) < 8 {
				return errProto
			}
			v, b = binary.LittleEndian.Uint64(b), b[8:]
		case 2:
			l, n := binary.Uvarint(b)
			if n <= 0 || l > uint64(len(b)-n) {
				return errProto
			}
			msg, b = b[n:n+int(l)], b[n+int(l):]
		case 5:
			if len(b) < 4 {
				return errProto
			}
			v, b = uint64(binary.LittleEndian.Uint32(b)), b[4:]
		default:
			return errProto
		}
		if field == 0 {
			return errProto
		}
		if wire != 2 {
			msg = nil
		}
		if err := fn(field, wire, v, msg); err != nil {
			return err
		}
	}
	return nil
}

// jsonSummary reads SUMMARY_DATA, the JSON Gadgetbridge stores for Garmin,
// Huawei and Bangle.js rows: {"distanceMeters": {"value": 1234, "unit":
// "meters"}, ...}. Unknown entries are ignored.
func jsonSummary(s string) (workout.Summary, error) {
	var m map[string]struct {
		Value json.RawMessage `json:"value"`
	}
	var sum workout.Summary
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return sum, fmt.Errorf("SUMMARY_DATA: %w", err)
	}
	num := func(k string) float64 {
		e, ok := m[k]
		if !ok {
			return 0
		}
		var f float64
		if json.Unmarshal(e.Value, &f) != nil {
			return 0
		}
		return positive(f)
	}
	sum.Distance = num("distanceMeters")
	sum.Calories = num("caloriesBurnt")
	sum.AvgHR = hr(int(num("averageHR")))
	sum.MaxHR = hr(int(num("maxHR")))
	sum.Steps = int(num("steps"))
	sum.Moving = seconds(int(num("activeSeconds")))
	sum.Ascent = num("ascentMeters")
	sum.Descent = num("descentMeters")
	sum.MaxSpeed = num("maxSpeed")
	sum.AvgCadence = num("averageCadence")
	return sum, nil
}
