// Package compare lays a band's workout beside what Strava made of it: the
// figures Strava shows with a one-line reason for each difference (Rows),
// and the band's samples and Strava's streams on one time axis for charts
// (Build). The dashboard draws it in a browser, the plot package in files.
package compare

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Streams is what Strava holds of one activity: its streams
// (strava-api.md §3.5), every one either empty or as long as Time, and the
// activity's own figures. A zero Activity means they are not known.
//
// Its JSON form is Strava's: the key_by_type stream set, with the activity
// (GET /activities/{id}) under "activity". That is what the dashboard keeps
// in the store's stream cache.
type Streams struct {
	Time      []float64    // s since the activity's start
	LatLng    [][2]float64 // degrees
	HeartRate []float64    // bpm; 0 = no reading
	// Cadence is as Strava gives it: per minute, and per leg for runs
	// (half the band's steps per minute).
	Cadence  []float64
	Altitude []float64 // m
	Distance []float64 // cumulative m
	Velocity []float64 // m/s, Strava's velocity_smooth
	Moving   []bool    // Strava's own moving/stopped judgement
	Activity Activity
}

// Activity is Strava's summary of an activity. Zero fields are unknown.
type Activity struct {
	ID         string
	Name       string
	SportType  string
	DeviceName string
	Start      time.Time
	Elapsed    time.Duration
	Moving     time.Duration
	Distance   float64 // m
	Calories   float64 // kcal
	AvgHR      float64 // bpm
}

// Empty reports whether s holds no stream at all.
func (s *Streams) Empty() bool { return len(s.Time) == 0 }

// maxPoints bounds a decoded stream: a day-long activity sampled every
// second is 86 400 points; Strava itself caps streams well below this.
const maxPoints = 200_000

// ErrStreams is wrapped by the errors of UnmarshalJSON.
var ErrStreams = errors.New("strava streams")

type wireNum struct {
	Data []float64 `json:"data"`
}

type wireLatLng struct {
	Data [][]float64 `json:"data"`
}

type wireBool struct {
	Data []bool `json:"data"`
}

type wireActivity struct {
	ID               json.Number `json:"id"`
	Name             string      `json:"name,omitempty"`
	SportType        string      `json:"sport_type,omitempty"`
	DeviceName       string      `json:"device_name,omitempty"`
	StartDate        *time.Time  `json:"start_date,omitempty"`
	ElapsedTime      float64     `json:"elapsed_time,omitempty"`
	MovingTime       float64     `json:"moving_time,omitempty"`
	Distance         float64     `json:"distance,omitempty"`
	Calories         float64     `json:"calories,omitempty"`
	AverageHeartrate float64     `json:"average_heartrate,omitempty"`
}

type wire struct {
	Time           *wireNum      `json:"time,omitempty"`
	LatLng         *wireLatLng   `json:"latlng,omitempty"`
	Heartrate      *wireNum      `json:"heartrate,omitempty"`
	Cadence        *wireNum      `json:"cadence,omitempty"`
	Altitude       *wireNum      `json:"altitude,omitempty"`
	Distance       *wireNum      `json:"distance,omitempty"`
	VelocitySmooth *wireNum      `json:"velocity_smooth,omitempty"`
	Moving         *wireBool     `json:"moving,omitempty"`
	Activity       *wireActivity `json:"activity,omitempty"`
}

// MarshalJSON writes s in Strava's key_by_type form plus "activity".
func (s Streams) MarshalJSON() ([]byte, error) {
	var w wire
	num := func(v []float64) *wireNum {
		if len(v) == 0 {
			return nil
		}
		return &wireNum{Data: v}
	}
	w.Time, w.Heartrate, w.Cadence = num(s.Time), num(s.HeartRate), num(s.Cadence)
	w.Altitude, w.Distance, w.VelocitySmooth = num(s.Altitude), num(s.Distance), num(s.Velocity)
	if len(s.LatLng) > 0 {
		w.LatLng = &wireLatLng{Data: make([][]float64, len(s.LatLng))}
		for i, p := range s.LatLng {
			w.LatLng.Data[i] = []float64{p[0], p[1]}
		}
	}
	if len(s.Moving) > 0 {
		w.Moving = &wireBool{Data: s.Moving}
	}
	if a := s.Activity; a != (Activity{}) {
		wa := &wireActivity{
			ID: json.Number(a.ID), Name: a.Name, SportType: a.SportType, DeviceName: a.DeviceName,
			ElapsedTime: a.Elapsed.Seconds(), MovingTime: a.Moving.Seconds(),
			Distance: a.Distance, Calories: a.Calories, AverageHeartrate: a.AvgHR,
		}
		if a.ID == "" {
			wa.ID = "0"
		}
		if !a.Start.IsZero() {
			t := a.Start.UTC()
			wa.StartDate = &t
		}
		w.Activity = wa
	}
	for _, v := range [][]float64{s.Time, s.HeartRate, s.Cadence, s.Altitude, s.Distance, s.Velocity} {
		for _, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, fmt.Errorf("%w: a stream holds %v", ErrStreams, x)
			}
		}
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads Strava's key_by_type stream set (with or without
// bandsync's "activity" member). It refuses a time stream that goes
// backwards or is absurdly long, and drops any other stream whose length
// differs from the time stream's, since its points could not be placed.
func (s *Streams) UnmarshalJSON(b []byte) error {
	var w wire
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("%w: %w", ErrStreams, err)
	}
	var out Streams
	if w.Time != nil {
		out.Time = w.Time.Data
	}
	if len(out.Time) > maxPoints {
		return fmt.Errorf("%w: %d points, more than %d", ErrStreams, len(out.Time), maxPoints)
	}
	for i, t := range out.Time {
		if t < 0 || (i > 0 && t < out.Time[i-1]) {
			return fmt.Errorf("%w: time stream not in order at point %d", ErrStreams, i)
		}
	}
	n := len(out.Time)
	num := func(w *wireNum) []float64 {
		if w == nil || len(w.Data) != n || n == 0 {
			return nil
		}
		return w.Data
	}
	out.HeartRate, out.Cadence, out.Altitude = num(w.Heartrate), num(w.Cadence), num(w.Altitude)
	out.Distance, out.Velocity = num(w.Distance), num(w.VelocitySmooth)
	if w.LatLng != nil && len(w.LatLng.Data) == n && n > 0 {
		out.LatLng = make([][2]float64, n)
		for i, p := range w.LatLng.Data {
			if len(p) != 2 {
				out.LatLng = nil
				break
			}
			out.LatLng[i] = [2]float64{p[0], p[1]}
		}
	}
	if w.Moving != nil && len(w.Moving.Data) == n && n > 0 {
		out.Moving = w.Moving.Data
	}
	if a := w.Activity; a != nil {
		id := a.ID.String()
		if id == "0" {
			id = ""
		}
		if id != "" {
			if _, err := strconv.ParseInt(id, 10, 64); err != nil {
				return fmt.Errorf("%w: activity id %q", ErrStreams, id)
			}
		}
		out.Activity = Activity{
			ID: id, Name: a.Name, SportType: a.SportType, DeviceName: a.DeviceName,
			Elapsed: seconds(a.ElapsedTime), Moving: seconds(a.MovingTime),
			Distance: a.Distance, Calories: a.Calories, AvgHR: a.AverageHeartrate,
		}
		if a.StartDate != nil {
			out.Activity.Start = a.StartDate.UTC()
		}
	}
	*s = out
	return nil
}

// seconds converts a count of seconds, clamping what a Duration cannot hold.
func seconds(s float64) time.Duration {
	const maxSeconds = float64(math.MaxInt64 / int64(time.Second))
	switch {
	case s <= 0 || math.IsNaN(s):
		return 0
	case s >= maxSeconds:
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(s * float64(time.Second)).Round(time.Millisecond)
}

// FromStrava joins the JSON of Strava's stream set (GET
// /activities/{id}/streams?key_by_type=true) and, when not nil, of the
// activity (GET /activities/{id}) into Streams. It is how a caller holding
// the Strava sink's wire types turns them into Streams: marshal both, pass
// them here.
func FromStrava(streamSet, activity []byte) (Streams, error) {
	var s Streams
	if err := s.UnmarshalJSON(streamSet); err != nil {
		return Streams{}, err
	}
	if len(activity) > 0 {
		var a wireActivity
		if err := json.Unmarshal(activity, &a); err != nil {
			return Streams{}, fmt.Errorf("%w: activity: %w", ErrStreams, err)
		}
		raw, err := json.Marshal(wire{Activity: &a})
		if err != nil {
			return Streams{}, fmt.Errorf("%w: activity: %w", ErrStreams, err)
		}
		var only Streams
		if err := only.UnmarshalJSON(raw); err != nil {
			return Streams{}, err
		}
		s.Activity = only.Activity
	}
	return s, nil
}
