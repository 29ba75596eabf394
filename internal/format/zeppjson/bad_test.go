package zeppjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bandsync/bandsync/internal/workout"
)

const t0 = 1698569116

// detailJSON builds a detail object with trackid t0 and the given members.
func detailJSON(t *testing.T, members map[string]any) []byte {
	t.Helper()
	m := map[string]any{"trackid": t0, "source": "run.411.huami.com", "version": 15}
	for k, v := range members {
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeRejects(t *testing.T) {
	run, _ := readFixture(t, "run_1698569116")
	deep := strings.Repeat(`{"a":`, 200) + "1" + strings.Repeat("}", 200)
	for _, tc := range []struct {
		name            string
		summary, detail []byte
		want            string // in the error text
		is              error
	}{
		{"empty detail", nil, []byte{}, "detail: empty input", ErrEmpty},
		{"empty summary", []byte{}, detailJSON(t, nil), "summary: empty input", ErrEmpty},
		{"truncated JSON", nil, []byte(`{"trackid":1698569116,"time":"1;2`), "invalid JSON", nil},
		{"not an object", nil, []byte(`[1,2]`), "want an object", nil},
		{"trailing garbage", nil, []byte(`{"trackid":1698569116} x`), "after the top-level value", nil},
		{"too deep", nil, []byte(`{"x":` + deep + `}`), "nested deeper", nil},
		{"stream as number", nil, detailJSON(t, map[string]any{"heart_rate": 12}), "field heart_rate: want a string, got a number", nil},
		{"stream as object", nil, detailJSON(t, map[string]any{"time": map[string]int{}}), "field time: want a string, got an object", nil},
		{"summary number as object", []byte(`{"trackid":"1698569116","dis":{}}`), detailJSON(t, nil), "field dis: want a number, got an object", nil},
		{"summary number as word", []byte(`{"trackid":"abc"}`), detailJSON(t, nil), `field trackid: want a number, got the string "abc"`, nil},
		{"summary int with fraction", []byte(`{"trackid":"1698569116","type":1.5}`), detailJSON(t, nil), "field type: want an integer", nil},
		{"summary string as number", []byte(`{"trackid":"1698569116","bind_device":7}`), detailJSON(t, nil), "field bind_device: want a string", nil},
		{"heart rate garbage", nil, detailJSON(t, map[string]any{"heart_rate": "1,80;x,2;"}), "field heart_rate entry 1", nil},
		{"heart rate NaN", nil, detailJSON(t, map[string]any{"heart_rate": "1,80;1,NaN;"}), "field heart_rate entry 1", nil},
		{"speed Inf", nil, detailJSON(t, map[string]any{"speed": "1,1.5;1,Inf;"}), "field speed entry 1", nil},
		{"time backwards", nil, detailJSON(t, map[string]any{"time": "1;-2;", "longitude_latitude": "1,1;0,0;"}), "field time entry 1: time goes backwards", nil},
		{"heart rate backwards", nil, detailJSON(t, map[string]any{"heart_rate": "5,80;-3,1;"}), "field heart_rate entry 1: time goes backwards", nil},
		{"gait missing fields", nil, detailJSON(t, map[string]any{"gait": "1,2,3,4;5;"}), "field gait entry 1", nil},
		{"lat,lon,extra", nil, detailJSON(t, map[string]any{"time": "1;", "longitude_latitude": "1,2,3;"}), "field longitude_latitude entry 0", nil},
		{"lat only", nil, detailJSON(t, map[string]any{"time": "1;1;", "longitude_latitude": "5000000000,300000000;7;"}), "field longitude_latitude entry 1", nil},
		{"altitude word", nil, detailJSON(t, map[string]any{"time": "1;", "altitude": "high;"}), "field altitude entry 0", nil},
		{"pause garbage", nil, detailJSON(t, map[string]any{"pause": "soon,5,-1,-1,3;"}), "field pause entry 0", nil},
		{"offset beyond limit", nil, detailJSON(t, map[string]any{"speed": "999999999,1.0;"}), "beyond the", ErrTooLarge},
		{"too many entries", nil, detailJSON(t, map[string]any{"distance": strings.Repeat("1,1;", MaxStreamEntries+1)}), "field distance", ErrTooLarge},
		{"too large", nil, make([]byte, MaxDetailSize+1), "over the", ErrTooLarge},
		{"api error", nil, []byte(`{"code":0,"message":"invalid token","data":{"code":"0102"}}`), "code 0: invalid token", ErrAPI},
		{"wrapper with non-object data", nil, []byte(`{"code":1,"message":"success","data":"x"}`), "field data: want an object", nil},
		{"no trackid", nil, []byte(`{"time":"1;"}`), "field trackid: missing", nil},
		{"absurd trackid", nil, []byte(`{"trackid":5}`), "not a start time", nil},
		{"trackid mismatch", run, detailJSON(t, map[string]any{"trackid": t0 + 1}), "does not match detail trackid", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := Decode(tc.summary, tc.detail)
			if err == nil {
				t.Fatalf("Decode succeeded: %+v", w)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %v", err, tc.is)
			}
			if strings.Contains(tc.want, "field") {
				var fe *FieldError
				if !errors.As(err, &fe) {
					t.Errorf("error %q is not a *FieldError", err)
				}
			}
		})
	}
}

func TestDecodeRepairs(t *testing.T) {
	at := func(s int) time.Time { return time.Unix(t0+int64(s), 0).UTC() }
	for _, tc := range []struct {
		name    string
		detail  map[string]any
		note    string
		samples []workout.Sample
	}{
		{"0 bpm is no reading", map[string]any{"heart_rate": "1,100;1,-100;1,101;"},
			"1 heart-rate readings of 0 bpm treated as absent",
			[]workout.Sample{{Time: at(1), Has: workout.HasHeartRate, HeartRate: 100}, {Time: at(3), Has: workout.HasHeartRate, HeartRate: 101}}},
		{"255 is not a heart rate", map[string]any{"heart_rate": "1,255;1,-135;"},
			"1 heart-rate readings outside 25–250 bpm",
			[]workout.Sample{{Time: at(2), Has: workout.HasHeartRate, HeartRate: 120}}},
		{"empty Δt is one second", map[string]any{"heart_rate": "11,82;,7;0,1;"}, "",
			[]workout.Sample{{Time: at(11), Has: workout.HasHeartRate, HeartRate: 82}, {Time: at(12), Has: workout.HasHeartRate, HeartRate: 90}}},
		{"impossible coordinates cut the track", map[string]any{"time": "1;1;1;", "longitude_latitude": "5000000000,300000000;5000000000,0;-5000000000,0;", "altitude": "100;200;300;"},
			"GPS track cut at point 1 of 3",
			[]workout.Sample{
				{Time: at(1), Has: workout.HasPosition | workout.HasAltitude, Lat: 50, Lon: 3, Altitude: 1},
				{Time: at(2), Has: workout.HasAltitude, Altitude: 2},
				{Time: at(3), Has: workout.HasAltitude, Altitude: 3}}},
		{"placeholders keep alignment", map[string]any{"time": "1;1;1;", "longitude_latitude": "5000000000,300000000;;1,1;", "altitude": "-2000000;-2003943;500;"}, "",
			[]workout.Sample{
				{Time: at(1), Has: workout.HasPosition, Lat: 50, Lon: 3},
				{Time: at(3), Has: workout.HasPosition | workout.HasAltitude, Lat: 50.00000001, Lon: 3.00000001, Altitude: 5}}},
		{"shorter position stream", map[string]any{"time": "1;1;1;", "longitude_latitude": "5000000000,300000000;1,1;", "altitude": "100;"},
			"positions matched by index up to the shorter",
			[]workout.Sample{
				{Time: at(1), Has: workout.HasPosition | workout.HasAltitude, Lat: 50, Lon: 3, Altitude: 1},
				{Time: at(2), Has: workout.HasPosition, Lat: 50.00000001, Lon: 3.00000001}}},
		{"cadence outlier", map[string]any{"gait": "1,2,70,1169;1,2,70,170;1,2,70,0;"},
			"1 gait cadence values outside",
			[]workout.Sample{{Time: at(2), Has: workout.HasCadence, Cadence: 170}}},
		{"negative speed", map[string]any{"speed": "1,-1.5;1,2.5;"}, "1 speed values outside",
			[]workout.Sample{{Time: at(2), Has: workout.HasSpeed, Speed: 2.5}}},
		{"negative distance delta", map[string]any{"distance": "1,5;1,-3;1,4;"}, "1 negative distance deltas ignored",
			[]workout.Sample{{Time: at(1), Has: workout.HasDistance, Distance: 5}, {Time: at(2), Has: workout.HasDistance, Distance: 5}, {Time: at(3), Has: workout.HasDistance, Distance: 9}}},
		{"negative pause", map[string]any{"pause": "1698569200,-5,-1,-1,3;", "speed": "1,1.0;"}, "1 pauses with a negative duration ignored",
			[]workout.Sample{{Time: at(1), Has: workout.HasSpeed, Speed: 1}}},
		{"bad kilo_pace rows", map[string]any{"kilo_pace": "0,300,u0,-1,-1,300;5,300,u0,-1,-1,600;", "speed": "1,1.0;"}, "kilo_pace entry 1",
			[]workout.Sample{{Time: at(1), Has: workout.HasSpeed, Speed: 1}}},
		{"no streams", nil, "detail holds no streams", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := Decode(nil, detailJSON(t, tc.detail))
			if err != nil {
				t.Fatal(err)
			}
			if len(w.Samples) != len(tc.samples) {
				t.Fatalf("samples = %+v, want %+v", w.Samples, tc.samples)
			}
			for i := range tc.samples {
				if w.Samples[i] != tc.samples[i] {
					t.Errorf("sample %d = %+v, want %+v", i, w.Samples[i], tc.samples[i])
				}
			}
			if tc.note != "" && !hasNote(w, tc.note) {
				t.Errorf("notes %q lack %q", w.Notes, tc.note)
			}
			if tc.note == "" && len(w.Notes) != 1 { // only "no summary"
				t.Errorf("unexpected notes %q", w.Notes)
			}
		})
	}
}

func TestDecodeFlexibleNumbersAndWrapper(t *testing.T) {
	sum, det := readFixture(t, "walk_1542558074")
	want, err := Decode(sum, det)
	if err != nil {
		t.Fatal(err)
	}
	// numbers as numbers instead of strings, trackid as a string, both wrapped
	sum2 := bytes.Replace(sum, []byte(`"dis": "3571.0"`), []byte(`"dis": 3571.0`), 1)
	sum2 = bytes.Replace(sum2, []byte(`"run_time": "2846"`), []byte(`"run_time": 2846`), 1)
	det2 := bytes.Replace(det, []byte(`"trackid": 1542558074`), []byte(`"trackid": "1542558074"`), 1)
	if bytes.Equal(sum, sum2) || bytes.Equal(det, det2) {
		t.Fatal("fixture layout changed; the replacements did nothing")
	}
	wrap := func(b []byte) []byte {
		return append(append([]byte(`{"code":1,"message":"success","data":`), b...), '}')
	}
	got, err := Decode(wrap(sum2), wrap(det2))
	if err != nil {
		t.Fatal(err)
	}
	if got.Summary != want.Summary || len(got.Samples) != len(want.Samples) || got.Samples[100] != want.Samples[100] {
		t.Errorf("flexible/wrapped input decodes differently")
	}
	// a summary's absent, null and "" values all read as 0
	s, err := DecodeSummary([]byte(`{"trackid":1542558074,"dis":"","calorie":null,"type":"6","syncedTimezone":"Europe/Madrid"}`))
	if err != nil {
		t.Fatal(err)
	}
	if s.TrackID != 1542558074 || s.Distance != 0 || s.Calories != 0 || s.Type != 6 || s.Timezone != "Europe/Madrid" {
		t.Errorf("summary = %+v", s)
	}
}

func TestDecodeWithoutSummary(t *testing.T) {
	_, det := readFixture(t, "walk_1542558074")
	w, err := Decode(nil, det)
	if err != nil {
		t.Fatal(err)
	}
	// totals from the streams: Σ distance deltas, Σ gait steps, the end of
	// the last pause (+2959 s, after the last reading at +2930 s), elapsed
	// minus the pauses (which here equals the summary's run_time, 2846 s)
	if w.Sport != workout.SportOther || w.Summary.Distance != 3312 || w.Summary.Steps != 5171 ||
		w.Summary.Elapsed != 2959*time.Second || w.Summary.Moving != (2959-113)*time.Second {
		t.Errorf("summary-less totals: sport %v, %+v", w.Sport, w.Summary)
	}
	if !hasNote(w, "no summary") {
		t.Errorf("notes = %q", w.Notes)
	}
}

func TestDecodeHistory(t *testing.T) {
	run, _ := readFixture(t, "run_1698569116")
	walk, _ := readFixture(t, "walk_1542558074")
	page := []byte(`{"code":1,"message":"success","data":{"next":"1542558074","summary":[` + string(run) + "," + string(walk) + `]}}`)
	next, sums, err := DecodeHistory(page)
	if err != nil {
		t.Fatal(err)
	}
	if next != 1542558074 || len(sums) != 2 || sums[0].TrackID != 1698569116 || sums[1].BindDevice != "0:MILI:8" {
		t.Errorf("next %d, summaries %+v", next, sums)
	}
	for _, tc := range []struct{ page, want string }{
		{string(run), `want a {"code":1`},
		{`{"code":1,"message":"success","data":{"summary":[]}}`, "data.next: missing"},
		{`{"code":1,"message":"success","data":{"next":-1}}`, "data.summary: missing"},
		{`{"code":1,"message":"success","data":{"next":-1,"summary":{}}}`, "data.summary: want an array"},
		{`{"code":1,"message":"success","data":{"next":-1,"summary":[{"dis":"1"},{"dis":[]}]}}`, "field data.summary[1].dis"},
		{`{"code":0,"message":"invalid token","data":{"code":"0102"}}`, "invalid token"},
		{``, "empty input"},
	} {
		if _, _, err := DecodeHistory([]byte(tc.page)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("DecodeHistory(%.40s…) error %v, want %q", tc.page, err, tc.want)
		}
	}
}

func TestDeviceModel(t *testing.T) {
	for in, want := range map[string]workout.Device{
		"0:MILI_STUTTGART_W:10289411:0.132.24.1": {Maker: "Zepp", Model: "MILI_STUTTGART_W", Firmware: "0.132.24.1"},
		"0:MILI:8":                               {Maker: "Zepp", Model: "Mi Band"},
		"":                                       {Maker: "Zepp"},
		"MILI":                                   {Maker: "Zepp", Model: "Mi Band"},
		" 1:CHAOHU:7:1.2.3:4 ":                   {Maker: "Zepp", Model: "CHAOHU", Firmware: "1.2.3:4"},
	} {
		if got := DeviceModel(in); got != want {
			t.Errorf("DeviceModel(%q) = %+v, want %+v", in, got, want)
		}
		if in == "" {
			continue
		}
		if got := DeviceModel(bindDevice(want)); got != want {
			t.Errorf("DeviceModel(bindDevice(%+v)) = %+v", want, got)
		}
	}
}

func TestDecodeAbsurdEndTime(t *testing.T) {
	w, err := Decode([]byte(`{"trackid":1698569116,"end_time":"900000000000000000","run_time":"-5"}`), detailJSON(t, map[string]any{"speed": "10,1.0;"}))
	if err != nil {
		t.Fatal(err)
	}
	if w.Summary.Elapsed != 10*time.Second || w.Summary.Moving != 0 || !hasNote(w, "end_time is") {
		t.Errorf("summary %+v, notes %q", w.Summary, w.Notes)
	}
}
