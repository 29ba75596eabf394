package workout

import "time"

// Fields is a set of Sample fields; a field not in a sample's set is absent.
type Fields uint8

// Sample fields.
const (
	HasPosition  Fields = 1 << iota // Lat, Lon
	HasAltitude                     // Altitude
	HasHeartRate                    // HeartRate
	HasCadence                      // Cadence
	HasDistance                     // Distance
	HasSpeed                        // Speed
	HasPower                        // Power
)

// Sample is what the device knew at one instant. Only the fields named in Has
// were recorded; the others are zero and must be ignored. (The small fields
// come last, which keeps a sample at 80 bytes: a workout holds thousands.)
type Sample struct {
	Time time.Time // UTC

	Lat, Lon float64 // degrees, WGS-84
	Altitude float64 // m above sea level
	// Cadence is per minute: steps/min on foot, rpm cycling, strokes/min
	// swimming and rowing. (FIT stores strides/min for running; the FIT
	// codec converts.)
	Cadence   float64
	Distance  float64 // cumulative m from the start
	Speed     float64 // m/s
	Power     uint16  // W
	HeartRate uint8   // bpm
	Has       Fields
}

// SetPosition records a position in degrees.
func (s *Sample) SetPosition(lat, lon float64) { s.Lat, s.Lon, s.Has = lat, lon, s.Has|HasPosition }

// SetAltitude records the altitude in metres.
func (s *Sample) SetAltitude(m float64) { s.Altitude, s.Has = m, s.Has|HasAltitude }

// SetHeartRate records the heart rate in bpm.
func (s *Sample) SetHeartRate(bpm uint8) { s.HeartRate, s.Has = bpm, s.Has|HasHeartRate }

// SetCadence records the cadence per minute.
func (s *Sample) SetCadence(perMin float64) { s.Cadence, s.Has = perMin, s.Has|HasCadence }

// SetDistance records the cumulative distance in metres.
func (s *Sample) SetDistance(m float64) { s.Distance, s.Has = m, s.Has|HasDistance }

// SetSpeed records the speed in m/s.
func (s *Sample) SetSpeed(mps float64) { s.Speed, s.Has = mps, s.Has|HasSpeed }

// SetPower records the power in watts.
func (s *Sample) SetPower(w uint16) { s.Power, s.Has = w, s.Has|HasPower }

// Merge copies into s every field that o has, keeping s's Time.
func (s *Sample) Merge(o Sample) {
	if o.Has&HasPosition != 0 {
		s.SetPosition(o.Lat, o.Lon)
	}
	if o.Has&HasAltitude != 0 {
		s.SetAltitude(o.Altitude)
	}
	if o.Has&HasHeartRate != 0 {
		s.SetHeartRate(o.HeartRate)
	}
	if o.Has&HasCadence != 0 {
		s.SetCadence(o.Cadence)
	}
	if o.Has&HasDistance != 0 {
		s.SetDistance(o.Distance)
	}
	if o.Has&HasSpeed != 0 {
		s.SetSpeed(o.Speed)
	}
	if o.Has&HasPower != 0 {
		s.SetPower(o.Power)
	}
}

// ValidPosition reports whether lat/lon are possible coordinates and not the
// (0,0) placeholder some devices write before a fix.
func ValidPosition(lat, lon float64) bool {
	return lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 && !(lat == 0 && lon == 0)
}

// ValidHeartRate reports whether bpm is a plausible reading; 0 and 255 are
// "no reading" markers in band and FIT data.
func ValidHeartRate(bpm int) bool { return bpm >= 25 && bpm <= 250 }
