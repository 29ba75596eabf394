package gpx

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	gogpx "github.com/twpayne/go-gpx"

	"github.com/bandsync/bandsync/internal/workout"
)

// Decode errors.
var (
	// ErrNoTimestamps is returned for a GPX whose track points carry no
	// time, such as a planned route: it cannot become a workout.
	ErrNoTimestamps = errors.New("GPX has no timestamps: cannot place the track in time")
	// ErrNoTrackPoints is returned for a GPX without a single track point.
	ErrNoTrackPoints = errors.New("GPX has no track points")
)

// maxLeadIn is how far before the first point metadata time may lie and
// still be taken as the start: the time a watch takes to get a GPS fix, not
// the hours between a workout and its export.
const maxLeadIn = 30 * time.Minute

// Decode reads a GPX 1.0 or 1.1 document into a workout. Every track and
// segment is read, in document order; a gap between segments becomes a pause.
// Points without a time are dropped (ErrNoTimestamps when none has one).
// Repairs, such as heart rates of 0 read as absent, are listed in Notes.
func Decode(r io.Reader) (*workout.Workout, error) {
	doc, err := gogpx.Read(r)
	switch {
	case errors.Is(err, io.EOF):
		return nil, errors.New("gpx: no XML element found (empty file or not XML)")
	case err != nil:
		return nil, fmt.Errorf("gpx: %w", err)
	}
	wo := &workout.Workout{Device: DeviceFromName(doc.Creator)}
	d := decoder{wo: wo}
	for _, trk := range doc.Trk {
		if trk == nil {
			continue
		}
		if wo.Name == "" {
			wo.Name = trk.Name
		}
		if trk.Type != "" && !d.typed {
			d.typed = true
			s, ok := SportFromName(trk.Type)
			if !ok {
				wo.Notes = append(wo.Notes, fmt.Sprintf("unknown GPX track type %q: sport left as %s", trk.Type, s))
			}
			wo.Sport = s
		}
	}
	if wo.Name == "" && doc.Metadata != nil {
		wo.Name = doc.Metadata.Name
	}
	onFoot := wo.Sport.OnFoot()
	for _, trk := range doc.Trk {
		if trk == nil {
			continue
		}
		for _, seg := range trk.TrkSeg {
			if seg != nil {
				d.segment(seg.TrkPt, onFoot)
			}
		}
	}
	switch {
	case d.points == 0:
		return nil, fmt.Errorf("gpx: %w (is it a GPX file?)", ErrNoTrackPoints)
	case len(wo.Samples) == 0:
		return nil, fmt.Errorf("gpx: %w", ErrNoTimestamps)
	}
	d.notes()
	wo.Normalize() // FillDistanceFromGPS needs time order
	wo.Start = wo.Samples[0].Time
	if doc.Metadata != nil && !doc.Metadata.Time.IsZero() {
		if t := doc.Metadata.Time.UTC(); !t.After(wo.Start) && wo.Start.Sub(t) <= maxLeadIn {
			wo.Start = t
		}
	}
	wo.FillDistanceFromGPS()
	return wo, nil
}

// decoder holds the state of one Decode call.
type decoder struct {
	wo      *workout.Workout
	typed   bool      // a trk type has set the sport
	lastEnd time.Time // time of the previous segment's last point
	points  int       // track points seen
	noTime  int       // points dropped for want of a time
	badPos  int       // points kept without their impossible position
	badHR   int       // heart rates outside workout.ValidHeartRate
}

// segment appends one trkseg's points, and the pause since the previous
// segment.
func (d *decoder) segment(pts []*gogpx.WptType, onFoot bool) {
	var first, last time.Time
	for _, p := range pts {
		if p == nil {
			continue
		}
		d.points++
		s, ok := d.sample(p, onFoot)
		if !ok {
			continue
		}
		if first.IsZero() || s.Time.Before(first) {
			first = s.Time
		}
		if s.Time.After(last) {
			last = s.Time
		}
		d.wo.Samples = append(d.wo.Samples, s)
	}
	if first.IsZero() {
		return // an empty segment separates nothing
	}
	if !d.lastEnd.IsZero() && first.After(d.lastEnd) {
		d.wo.Pauses = append(d.wo.Pauses, workout.Interval{Start: d.lastEnd, End: first})
	}
	d.lastEnd = last
}

// sample converts one track point; ok is false when it has no time.
func (d *decoder) sample(p *gogpx.WptType, onFoot bool) (s workout.Sample, ok bool) {
	if p.Time.IsZero() {
		d.noTime++
		return s, false
	}
	s.Time = p.Time.UTC()
	if workout.ValidPosition(p.Lat, p.Lon) {
		s.SetPosition(p.Lat, p.Lon)
	} else {
		d.badPos++
	}
	if p.Ele != 0 && finite(p.Ele) {
		s.SetAltitude(p.Ele)
	}
	if p.Speed > 0 && finite(p.Speed) { // GPX 1.0 <speed>
		s.SetSpeed(p.Speed)
	}
	if p.Extensions != nil {
		d.extensions(p.Extensions.XML, &s, onFoot)
	}
	return s, true
}

// extensions reads the elements GPX writers use for heart rate, cadence,
// speed, distance and power from a trkpt's extensions, by local name: the
// namespaces in real files vary (see the package comment). The first
// element of a kind wins.
func (d *decoder) extensions(raw []byte, s *workout.Sample, onFoot bool) {
	dec := xml.NewDecoder(bytes.NewReader(raw))
	var elem string
	var seen workout.Fields
	for {
		tok, err := dec.RawToken()
		if err != nil {
			return // go-gpx has already checked the XML is well formed
		}
		switch t := tok.(type) {
		case xml.StartElement:
			elem = t.Name.Local
		case xml.EndElement:
			elem = ""
		case xml.CharData:
			f := extensionField(elem)
			elem = ""
			if f == 0 || seen&f != 0 {
				continue
			}
			v, err := strconv.ParseFloat(string(bytes.TrimSpace(t)), 64)
			if err != nil || !finite(v) || v < 0 {
				continue
			}
			seen |= f
			switch f {
			case workout.HasHeartRate:
				if bpm := math.Round(v); workout.ValidHeartRate(int(bpm)) {
					s.SetHeartRate(uint8(bpm))
				} else {
					d.badHR++
				}
			case workout.HasCadence:
				if onFoot {
					v *= 2 // strides to steps, see the package comment
				}
				s.SetCadence(v)
			case workout.HasSpeed:
				s.SetSpeed(v)
			case workout.HasDistance:
				s.SetDistance(v)
			case workout.HasPower:
				if v <= math.MaxUint16 {
					s.SetPower(uint16(math.Round(v)))
				}
			}
		}
	}
}

// extensionField maps an extension element's local name to the sample field
// it holds: TrackPointExtension hr, cad and speed, Cluetrust gpxdata hr,
// cadence and distance, and the bare names Strava reads (strava-api.md §6.9).
func extensionField(local string) workout.Fields {
	switch local {
	case "hr", "heartrate":
		return workout.HasHeartRate
	case "cad", "cadence":
		return workout.HasCadence
	case "speed":
		return workout.HasSpeed
	case "distance":
		return workout.HasDistance
	case "power":
		return workout.HasPower
	}
	return 0
}

// notes records the repairs Decode made.
func (d *decoder) notes() {
	if d.noTime > 0 {
		d.wo.Notes = append(d.wo.Notes, fmt.Sprintf("%d track points without a time dropped", d.noTime))
	}
	if d.badPos > 0 {
		d.wo.Notes = append(d.wo.Notes, fmt.Sprintf("%d track points with impossible coordinates kept without a position", d.badPos))
	}
	if d.badHR > 0 {
		d.wo.Notes = append(d.wo.Notes, fmt.Sprintf("%d heart-rate readings outside 25-250 bpm (such as 0) treated as absent", d.badHR))
	}
}
