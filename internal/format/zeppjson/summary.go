package zeppjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
)

// Summary is the typed view of one history.json summary entry
// (zepp-cloud-api.md §2.4). Numbers arrive as JSON numbers or as numeric
// strings; both are accepted. Values are as sent, sentinels (-1, -20000)
// included; a field that is absent, null or "" reads as 0.
type Summary struct {
	TrackID   int64  // trackid: workout id and start, Unix seconds UTC
	Source    string // source: data-source key, echoed to detail.json
	Type      int    // type: sport code (zepp-cloud-api.md §4)
	SportMode int    // sport_mode: 0 normal, 5 Zepp Coach
	Version   int    // version: 12 Mi Fit era, 15 Zepp era

	Distance float64 // dis, m
	Calories float64 // calorie, kcal
	EndTime  int64   // end_time, Unix s; EndTime-TrackID is the elapsed time
	RunTime  int64   // run_time, s: moving time (elapsed minus pauses)

	AvgPace float64 // avg_pace, s/m
	// MaxPace and MinPace are max_pace and min_pace in s/m; which one is the
	// fastest changed between versions, see FastestPace.
	MaxPace, MinPace float64

	AvgHR, MaxHR, MinHR int // avg_heart_rate, max_heart_rate, min_heart_rate; bpm

	Steps        int     // total_step
	AvgStride    int     // avg_stride_length, cm
	AvgFrequency float64 // avg_frequency, steps/min
	MaxFrequency int     // max_frequency, steps/min (swims: strokes/min)
	AvgCadence   int     // avg_cadence, rpm (cycling)
	MaxCadence   int     // max_cadence, rpm

	Ascent, Descent          float64 // altitude_ascend, altitude_descend, m
	MaxAltitude, MinAltitude float64 // max_altitude, min_altitude, m; -20000 = none

	PoolLength           int     // swim_pool_length, m
	Strokes              int     // total_strokes
	Trips                int     // total_trips: pool lengths swum
	SwimStyle            int     // swim_style: 1 breaststroke, 2 freestyle, 4 mixed
	SWOLF                int     // swolf
	AvgStrokeSpeed       float64 // avg_stroke_speed, strokes/s
	MaxStrokeSpeed       float64 // max_stroke_speed, strokes/s
	AvgDistancePerStroke float64 // avg_distance_per_stroke, cm

	TE            int    // te: training effect ×10
	AnaerobicTE   int    // anaerobic_te: ×10
	LapDistance   int    // lap_distance: auto-lap distance, m; -1 none
	ParentTrackID int64  // parent_trackid: multisport parent; 0 or -1 none
	BindDevice    string // bind_device, e.g. "0:MILI:8"; see DeviceModel
	Timezone      string // syncedTimezone: IANA zone of the workout, when sent

	// Raw is the entry exactly as received (unwrapped), for archiving.
	Raw json.RawMessage
}

// FastestPace is the smallest positive of MaxPace and MinPace (s/m), or 0.
// Mi Fit (v12) put the fastest pace in min_pace, Zepp (v15) in max_pace.
func (s Summary) FastestPace() float64 {
	p := 0.0
	for _, v := range []float64{s.MaxPace, s.MinPace} {
		if v > 0 && (p == 0 || v < p) {
			p = v
		}
	}
	return p
}

// DecodeSummary decodes one summary object, with or without the
// {"code":1,"message":"success","data":…} wrapper.
func DecodeSummary(data []byte) (Summary, error) {
	if err := checkSize("summary", data, MaxSummarySize); err != nil {
		return Summary{}, err
	}
	obj, err := unwrap(data, false)
	if err != nil {
		return Summary{}, fmt.Errorf("summary: %w", err)
	}
	s, err := decodeSummaryObject(obj, "")
	if err != nil {
		return Summary{}, fmt.Errorf("summary: %w", err)
	}
	return s, nil
}

// DecodeHistory decodes one history.json page, which must carry the
// {"code":1,"message":"success","data":{"next":…,"summary":[…]}} wrapper.
// next is the cursor for the following page, -1 after the last one.
func DecodeHistory(data []byte) (next int64, summaries []Summary, err error) {
	if err := checkSize("history page", data, MaxHistorySize); err != nil {
		return 0, nil, err
	}
	page, err := unwrap(data, true)
	if err != nil {
		return 0, nil, fmt.Errorf("history page: %w", err)
	}
	var haveNext, haveSummary bool
	sc := scanner{data: page}
	err = sc.object(func(key, val []byte) error {
		switch string(key) {
		case "next":
			n, err := flexInt(val)
			if err != nil {
				return &FieldError{Field: "data.next", Entry: -1, Err: err}
			}
			next, haveNext = n, true
		case "summary":
			haveSummary = true
			if val[0] == 'n' {
				return nil
			}
			if val[0] != '[' {
				return fieldErr("data.summary", -1, "want an array, got %s", kindOf(val))
			}
			arr := scanner{data: val}
			return arr.array(func(i int, elem []byte) error {
				s, err := decodeSummaryObject(elem, fmt.Sprintf("data.summary[%d].", i))
				if err != nil {
					return err
				}
				summaries = append(summaries, s)
				return nil
			})
		}
		return nil
	})
	switch {
	case err != nil:
		return 0, nil, fmt.Errorf("history page: %w", err)
	case !haveNext:
		return 0, nil, fmt.Errorf("history page: %w", fieldErr("data.next", -1, "missing"))
	case !haveSummary:
		return 0, nil, fmt.Errorf("history page: %w", fieldErr("data.summary", -1, "missing"))
	}
	return next, summaries, nil
}

// unwrap returns the data member of a {"code":…,"message":…,"data":…}
// response (checking that code is 1), or the object itself when it is not
// wrapped and the wrapper is not required.
func unwrap(data []byte, required bool) ([]byte, error) {
	var code, msg, payload []byte
	sc := scanner{data: data}
	err := sc.object(func(key, val []byte) error {
		switch string(key) {
		case "code":
			code = val
		case "message":
			msg = val
		case "data":
			payload = val
		}
		return nil
	})
	if err == nil {
		err = sc.end()
	}
	if err != nil {
		return nil, err
	}
	if code == nil || payload == nil {
		if required {
			return nil, errors.New(`want a {"code":1,"message":…,"data":…} response`)
		}
		return data, nil
	}
	return checkWrapper(code, msg, payload)
}

func checkWrapper(code, msg, payload []byte) ([]byte, error) {
	c, err := flexInt(code)
	if err != nil {
		return nil, &FieldError{Field: "code", Entry: -1, Err: err}
	}
	if c != 1 {
		m, _ := flexString(msg)
		if m == "" && len(msg) > 0 && msg[0] != '"' {
			m = string(truncate(msg))
		}
		return nil, fmt.Errorf("%w: code %d: %s", ErrAPI, c, truncateString(m, 200))
	}
	if payload[0] != '{' {
		return nil, fieldErr("data", -1, "want an object, got %s", kindOf(payload))
	}
	return payload, nil
}

func truncateString(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// decodeSummaryObject decodes one summary object; prefix names it in errors
// ("data.summary[3].").
func decodeSummaryObject(obj []byte, prefix string) (Summary, error) {
	var s Summary
	sc := scanner{data: obj}
	err := sc.object(func(key, val []byte) error {
		var err error
		f := func(dst *float64) { *dst, err = flexFloat(val) }
		i := func(dst *int) {
			var n int64
			n, err = flexInt(val)
			if err == nil && (n > math.MaxInt32 || n < math.MinInt32) {
				err = errRange
			}
			*dst = int(n)
		}
		rounded := func(dst *int) { // "168.0"-style averages
			var v float64
			v, err = flexFloat(val)
			if err == nil && math.Abs(v) > math.MaxInt32 {
				err = errRange
			}
			*dst = int(math.Round(v))
		}
		i64 := func(dst *int64) { *dst, err = flexInt(val) }
		str := func(dst *string) { *dst, err = flexString(val) }
		switch string(key) {
		case "trackid":
			i64(&s.TrackID)
		case "source":
			str(&s.Source)
		case "type":
			i(&s.Type)
		case "sport_mode":
			i(&s.SportMode)
		case "version":
			i(&s.Version)
		case "dis":
			f(&s.Distance)
		case "calorie":
			f(&s.Calories)
		case "end_time":
			i64(&s.EndTime)
		case "run_time":
			i64(&s.RunTime)
		case "avg_pace":
			f(&s.AvgPace)
		case "max_pace":
			f(&s.MaxPace)
		case "min_pace":
			f(&s.MinPace)
		case "avg_heart_rate":
			rounded(&s.AvgHR)
		case "max_heart_rate":
			rounded(&s.MaxHR)
		case "min_heart_rate":
			rounded(&s.MinHR)
		case "total_step":
			i(&s.Steps)
		case "avg_stride_length":
			rounded(&s.AvgStride)
		case "avg_frequency":
			f(&s.AvgFrequency)
		case "max_frequency":
			rounded(&s.MaxFrequency)
		case "avg_cadence":
			rounded(&s.AvgCadence)
		case "max_cadence":
			rounded(&s.MaxCadence)
		case "altitude_ascend":
			f(&s.Ascent)
		case "altitude_descend":
			f(&s.Descent)
		case "max_altitude":
			f(&s.MaxAltitude)
		case "min_altitude":
			f(&s.MinAltitude)
		case "swim_pool_length":
			rounded(&s.PoolLength)
		case "total_strokes":
			i(&s.Strokes)
		case "total_trips":
			i(&s.Trips)
		case "swim_style":
			i(&s.SwimStyle)
		case "swolf":
			rounded(&s.SWOLF)
		case "avg_stroke_speed":
			f(&s.AvgStrokeSpeed)
		case "max_stroke_speed":
			f(&s.MaxStrokeSpeed)
		case "avg_distance_per_stroke":
			f(&s.AvgDistancePerStroke)
		case "te":
			rounded(&s.TE)
		case "anaerobic_te":
			rounded(&s.AnaerobicTE)
		case "lap_distance":
			rounded(&s.LapDistance)
		case "parent_trackid":
			i64(&s.ParentTrackID)
		case "bind_device":
			str(&s.BindDevice)
		case "syncedTimezone":
			str(&s.Timezone)
		}
		if err != nil {
			return &FieldError{Field: prefix + string(key), Entry: -1, Err: err}
		}
		return nil
	})
	if err == nil {
		err = sc.end()
	}
	if err != nil {
		return Summary{}, err
	}
	s.Raw = append(json.RawMessage(nil), obj...)
	s.BindDevice = strings.TrimSpace(s.BindDevice)
	return s, nil
}
