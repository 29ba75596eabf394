// Package tcx encodes a workout as a Garmin Training Center (TCX v2)
// activity and decodes TCX files into workouts.
//
// It is written on encoding/xml because no maintained Go TCX library exists
// (go-libraries.md §2.2: the candidates have no releases or go.mod); the
// handful of elements a workout needs are declared here from the
// TrainingCenterDatabase v2 and ActivityExtension v2 schemas.
//
// What a TCX activity carries and how Encode and Decode agree on it:
//
//   - Sport: the schema allows only Running, Biking and Other, so a trail
//     run comes back as a run, a walk as other. Decode also accepts the
//     names other writers use (Walking, Hiking, ...). A walk's cadence reads
//     back in steps per minute (from RunCadence); encoding it again as other
//     writes it as the generic Trackpoint Cadence.
//   - Laps: the workout's laps, else one lap per kilometre, else one lap.
//     TotalTimeSeconds is the lap's moving (timer) time. Split laps share the
//     workout's calories in proportion to distance. Decode keeps laps when
//     there are two or more; a single lap only feeds the summary.
//   - Pauses: a lap holds one Track per stretch between pauses; Decode reads
//     the gap between consecutive Tracks of a lap as a pause. A gap between
//     laps is not a pause, so a pause that spans a lap boundary is lost.
//     Samples recorded while paused are not written.
//   - Samples: Trackpoint Time, Position, AltitudeMeters, DistanceMeters,
//     HeartRateBpm and, for cycling and other non-foot sports, Cadence in
//     rpm; the ActivityExtension TPX adds Speed, Watts and, for foot sports,
//     RunCadence in strides per minute (half the steps, as Garmin writes it
//     and Strava reads it, strava-api.md §6.5/§6.9). Both cadences are whole
//     numbers of at most 254; Decode doubles RunCadence back to steps.
//   - Device: Activity/Creator (Device_t) with the device's name, serial
//     (UnitId), FIT product id (ProductID) and firmware (Version, up to four
//     numbers); the workout's name goes in Activity/Notes.
//   - Times are written in UTC; the workout's zone is not carried.
package tcx

import (
	"encoding/xml"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Namespaces and schema locations (offline-formats.md §5.1).
const (
	nsTCX          = "http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"
	nsAX           = "http://www.garmin.com/xmlschemas/ActivityExtension/v2"
	nsXSI          = "http://www.w3.org/2001/XMLSchema-instance"
	schemaLocation = nsTCX + " http://www.garmin.com/xmlschemas/TrainingCenterDatabasev2.xsd " +
		nsAX + " https://www8.garmin.com/xmlschemas/ActivityExtensionv2.xsd"
)

// The types below mirror the schema's elements, in its element order. The
// same types decode: Go matches untagged-namespace fields by local name, so
// any prefix works. Attributes named "xmlns:xsi", "xsi:..." are written
// literally and ignored on reading.

type database struct {
	XMLName        xml.Name
	XSI            string      `xml:"xmlns:xsi,attr,omitempty"`
	SchemaLocation string      `xml:"xsi:schemaLocation,attr,omitempty"`
	Activities     *activities `xml:"Activities"`
}

type activities struct {
	Activity []activity `xml:"Activity"`
}

type activity struct {
	Sport   string   `xml:"Sport,attr"`
	ID      tcxTime  `xml:"Id"`
	Laps    []lap    `xml:"Lap"`
	Notes   string   `xml:"Notes,omitempty"`
	Creator *creator `xml:"Creator,omitempty"`
}

type creator struct {
	XSIType   string   `xml:"xsi:type,attr,omitempty"`
	Name      string   `xml:"Name"`
	UnitID    num      `xml:"UnitId"`
	ProductID num      `xml:"ProductID"`
	Version   *version `xml:"Version"`
}

type version struct {
	Major      num  `xml:"VersionMajor"`
	Minor      num  `xml:"VersionMinor"`
	BuildMajor *num `xml:"BuildMajor,omitempty"`
	BuildMinor *num `xml:"BuildMinor,omitempty"`
}

type lap struct {
	StartTime        tcxTime  `xml:"StartTime,attr"`
	TotalTimeSeconds num      `xml:"TotalTimeSeconds"`
	DistanceMeters   num      `xml:"DistanceMeters"`
	MaximumSpeed     *num     `xml:"MaximumSpeed,omitempty"`
	Calories         num      `xml:"Calories"`
	AverageHeartRate *bpm     `xml:"AverageHeartRateBpm,omitempty"`
	MaximumHeartRate *bpm     `xml:"MaximumHeartRateBpm,omitempty"`
	Intensity        string   `xml:"Intensity"`
	TriggerMethod    string   `xml:"TriggerMethod"`
	Tracks           []*track `xml:"Track"`
}

type track struct {
	Points []*trackpoint `xml:"Trackpoint"`
}

type trackpoint struct {
	Time       tcxTime     `xml:"Time"`
	Position   *position   `xml:"Position,omitempty"`
	Altitude   *num        `xml:"AltitudeMeters,omitempty"`
	Distance   *num        `xml:"DistanceMeters,omitempty"`
	HeartRate  *bpm        `xml:"HeartRateBpm,omitempty"`
	Cadence    *num        `xml:"Cadence,omitempty"`
	Extensions *extensions `xml:"Extensions,omitempty"`
}

type position struct {
	Lat num `xml:"LatitudeDegrees"`
	Lon num `xml:"LongitudeDegrees"`
}

type bpm struct {
	Value num `xml:"Value"`
}

type extensions struct {
	TPX *tpx `xml:"TPX,omitempty"`
}

// tpx is ActivityExtension v2's trackpoint extension. Encode sets XMLName
// to put it, and so its children, in the extension's namespace.
type tpx struct {
	XMLName    xml.Name
	Speed      *num `xml:"Speed,omitempty"`
	RunCadence *num `xml:"RunCadence,omitempty"`
	Watts      *num `xml:"Watts,omitempty"`
}

// num is an xsd:double or integer element. It is written in plain decimal
// (Go's default 'g' format gives 1e+06) and read leniently: surrounding
// space is ignored and integers may have a fraction.
type num float64

func (n num) MarshalText() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("tcx: cannot write %v", f)
	}
	return strconv.AppendFloat(nil, f, 'f', -1, 64), nil
}

func (n *num) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "" {
		*n = 0
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("not a number: %q", s)
	}
	*n = num(f)
	return nil
}

func numPtr(f float64) *num { n := num(f); return &n }

// tcxTime is an xsd:dateTime, written in UTC. Reading also accepts a time
// without zone, as UTC, which some exporters write.
type tcxTime time.Time

var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"}

func (t tcxTime) MarshalText() ([]byte, error) {
	return time.Time(t).UTC().AppendFormat(nil, time.RFC3339Nano), nil
}

func (t *tcxTime) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "" {
		*t = tcxTime{}
		return nil
	}
	for _, layout := range timeLayouts {
		if v, err := time.Parse(layout, s); err == nil {
			*t = tcxTime(v.UTC())
			return nil
		}
	}
	return fmt.Errorf("not a date and time: %q", s)
}

func (t tcxTime) Time() time.Time { return time.Time(t) }
