// Package gpx encodes a workout as GPX 1.1 and decodes GPX 1.0 and 1.1 files
// into workouts, on top of github.com/twpayne/go-gpx.
//
// GPX carries time, position and elevation, plus heart rate, cadence and
// speed in Garmin's TrackPointExtension. Encode writes TrackPointExtension v2;
// Decode matches extension elements by local name whatever their namespace or
// prefix, because real files use TrackPointExtension v1, v2, the XSD URL
// Gadgetbridge has used as a namespace since October 2024, Cluetrust gpxdata,
// and bare <heartrate> elements (offline-formats.md §2.5, §5.2).
//
// Encode and Decode agree on these choices, so a decoded file encodes back to
// the same GPX:
//
//   - Pauses: GPX has none. Encode writes each stretch between pauses as its
//     own trkseg and leaves out samples recorded while paused (a sample at the
//     instant a pause starts or ends belongs to the stretch it borders);
//     Decode reads the gap between the last point of a segment and the first
//     point of the next as a pause. See PauseNote.
//   - Samples without a position: a trkpt must have lat and lon, so Encode
//     skips samples without a valid position, and their heart rate goes
//     nowhere. It returns ErrNoPosition when no sample has one. Decode keeps
//     a point whose coordinates are impossible (lat 95) without its position
//     and says so in Workout.Notes.
//   - Cadence: cad is per minute in the sample's unit, except for foot sports,
//     where it is strides per minute (half the steps) as Garmin devices write
//     it and Strava reads it: Strava doubles GPX cad for runs and walks
//     (strava-api.md §6.5). TrackPointExtension cad is a whole number, so an odd
//     step rate comes back as the next even one. Decode doubles cad only when
//     trk type names a foot sport.
//   - Elevation: go-gpx treats an ele of 0 as unset, so an altitude of exactly
//     0 m is not written, and an ele of 0 reads back as absent.
//   - Distance and power: TrackPointExtension has no element for them, so
//     Encode does not write them; Decode reads Cluetrust distance and a bare
//     power when present and otherwise computes distance from the positions.
//   - Sport: trk type holds the sport's stable identifier ("trail-run");
//     Decode also understands the names other writers use (see SportFromName).
//   - Device: the creator attribute is the device name followed by
//     " (via bandsync)"; Decode reads a device from any creator that is not an
//     app name (see DeviceFromName).
//   - Start: metadata time is the workout start; Decode uses it when it lies
//     shortly before the first point, since writers such as Gadgetbridge put
//     the export time there instead.
//   - Times are written in UTC; the workout's zone is not carried.
package gpx

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	gogpx "github.com/twpayne/go-gpx"

	"github.com/bandsync/bandsync/internal/workout"
)

// PauseNote explains, for help text, how pauses travel through GPX.
const PauseNote = "GPX cannot carry pauses: they are written as track segments, and segment gaps are read back as pauses"

// Namespaces and schema locations (offline-formats.md §5.1).
const (
	nsTPXv2     = "http://www.garmin.com/xmlschemas/TrackPointExtension/v2"
	schemaTPXv2 = "https://www8.garmin.com/xmlschemas/TrackPointExtensionv2.xsd"
)

// creatorSuffix marks a creator attribute bandsync wrote.
const creatorSuffix = " (via bandsync)"

// ErrNoPosition is returned by Encode for a workout without a single valid
// position: a GPX track point cannot exist without lat and lon.
var ErrNoPosition = errors.New("gpx: workout has no GPS positions, and every GPX track point needs one")

// Encode writes wo to w as a GPX 1.1 document with one track.
func Encode(w io.Writer, wo *workout.Workout) error {
	if wo == nil {
		return errors.New("gpx: encode: nil workout")
	}
	segs := segments(wo)
	if len(segs) == 0 {
		return ErrNoPosition
	}
	trk := &gogpx.TrkType{Name: wo.Name, Type: wo.Sport.String()}
	for _, pts := range segs {
		trk.TrkSeg = append(trk.TrkSeg, &gogpx.TrkSegType{TrkPt: pts})
	}
	start := wo.Start.UTC()
	if start.IsZero() {
		start = segs[0][0].Time
	}
	doc := &gogpx.GPX{
		Version:            "1.1",
		Creator:            creator(wo.Device),
		XMLAttrs:           map[string]string{"xmlns:gpxtpx": nsTPXv2},
		XMLSchemaLocations: []string{nsTPXv2, schemaTPXv2},
		Metadata:           &gogpx.MetadataType{Time: start},
		Trk:                []*gogpx.TrkType{trk},
	}
	if _, err := io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"); err != nil {
		return fmt.Errorf("gpx: encode: %w", err)
	}
	if err := doc.WriteIndent(w, "", " "); err != nil {
		return fmt.Errorf("gpx: encode: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("gpx: encode: %w", err)
	}
	return nil
}

// creator names the device and bandsync for the creator attribute.
func creator(d workout.Device) string {
	if name := DeviceName(d); name != "" {
		return name + creatorSuffix
	}
	return "bandsync"
}

// segments converts the positioned samples of each stretch between pauses
// into the points of one trkseg.
func segments(wo *workout.Workout) [][]*gogpx.WptType {
	onFoot := wo.Sport.OnFoot()
	var out [][]*gogpx.WptType
	for _, stretch := range Stretches(wo.Samples, wo.Pauses) {
		var pts []*gogpx.WptType
		for i := range stretch {
			s := &stretch[i]
			if s.Has&workout.HasPosition != 0 && workout.ValidPosition(s.Lat, s.Lon) {
				pts = append(pts, trackPoint(s, onFoot))
			}
		}
		if len(pts) > 0 {
			out = append(out, pts)
		}
	}
	return out
}

// Stretches cuts time-ordered samples into the runs between pauses, the
// runs GPX writes as segments and TCX as tracks. Samples strictly inside a
// pause are left out; a sample at the instant a pause starts ends the run
// before it, and one at the instant it ends starts the run after it. The
// runs are subslices of samples.
func Stretches(samples []workout.Sample, pauses []workout.Interval) [][]workout.Sample {
	pauses = workout.MergeIntervals(pauses)
	var out [][]workout.Sample
	start, pi := 0, 0 // start of the current run; first pause not yet passed
	cut := func(end, next int) {
		if end > start {
			out = append(out, samples[start:end])
		}
		start = next
	}
	for i := range samples {
		t := samples[i].Time
		for pi < len(pauses) && !pauses[pi].End.After(t) {
			pi++
			cut(i, i)
		}
		if pi < len(pauses) && pauses[pi].Start.Before(t) {
			cut(i, i+1) // recorded while paused
		}
	}
	cut(len(samples), len(samples))
	return out
}

// trackPoint converts one positioned sample.
func trackPoint(s *workout.Sample, onFoot bool) *gogpx.WptType {
	p := &gogpx.WptType{Lat: s.Lat, Lon: s.Lon, Time: s.Time.UTC()}
	if s.Has&workout.HasAltitude != 0 && finite(s.Altitude) {
		p.Ele = s.Altitude
	}
	if ext := appendTPX(nil, s, onFoot); ext != nil {
		p.Extensions = &gogpx.ExtensionsType{XML: ext}
	}
	return p
}

// appendTPX appends a TrackPointExtension v2 element for the sample's heart
// rate, cadence and speed, in the order the schema requires, or nothing when
// the sample has none of them.
func appendTPX(b []byte, s *workout.Sample, onFoot bool) []byte {
	hr := s.Has&workout.HasHeartRate != 0 && s.HeartRate >= 1 // the schema's minimum
	cad, hasCad := -1.0, false
	if s.Has&workout.HasCadence != 0 && finite(s.Cadence) && s.Cadence >= 0 {
		cad = s.Cadence
		if onFoot {
			cad /= 2
		}
		cad = math.Round(cad)
		hasCad = cad <= 254 // the schema's maximum
	}
	speed := s.Has&workout.HasSpeed != 0 && finite(s.Speed) && s.Speed >= 0
	if !hr && !hasCad && !speed {
		return b
	}
	b = append(b, "<gpxtpx:TrackPointExtension>"...)
	if hr {
		b = append(b, "<gpxtpx:hr>"...)
		b = strconv.AppendUint(b, uint64(s.HeartRate), 10)
		b = append(b, "</gpxtpx:hr>"...)
	}
	if hasCad {
		b = append(b, "<gpxtpx:cad>"...)
		b = strconv.AppendInt(b, int64(cad), 10)
		b = append(b, "</gpxtpx:cad>"...)
	}
	if speed {
		b = append(b, "<gpxtpx:speed>"...)
		b = strconv.AppendFloat(b, s.Speed, 'f', -1, 64)
		b = append(b, "</gpxtpx:speed>"...)
	}
	return append(b, "</gpxtpx:TrackPointExtension>"...)
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// trimCreator removes the suffix Encode adds to the creator attribute.
func trimCreator(c string) string {
	return strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(c), creatorSuffix))
}
