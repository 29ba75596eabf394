package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestParseDuplicate(t *testing.T) {
	tests := []struct {
		msg   string
		id    int64
		isDup bool
	}{
		{"test.fit duplicate of activity 14296882", 14296882, true},
		{"Test_Walk.gpx duplicate of activity 21234316", 21234316, true},
		{"ext-4.fit duplicate of <a href='/activities/18260018524' target='_blank'>Morning Ride</a>", 18260018524, true},
		{"46a62033.fit duplicate of <a href='/activities/19636549590' target='_blank'>????</a>", 19636549590, true},
		// A name with digits after the link must not win over the href.
		{"a.fit Duplicate Of <a href='https://www.strava.com/activities/77' target='_blank'>10k 2024</a>", 77, true},
		{"a.fit duplicate of activity", 0, true},
		{"The upload appears to be malformed and we are unable to process it", 0, false},
		{"", 0, false},
		{"x duplicate of activity 99999999999999999999999", 0, true},
	}
	for _, tt := range tests {
		id, ok := ParseDuplicate(tt.msg)
		if id != tt.id || ok != tt.isDup {
			t.Errorf("ParseDuplicate(%q) = %d, %v; want %d, %v", tt.msg, id, ok, tt.id, tt.isDup)
		}
	}
}

func FuzzParseDuplicate(f *testing.F) {
	for _, s := range []string{
		"test.fit duplicate of activity 14296882",
		"ext-4.fit duplicate of <a href='/activities/18260018524' target='_blank'>Morning Ride</a>",
		"duplicate of", "duplicate of /activities/", "DUPLICATE OF 9",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, ok := ParseDuplicate(s)
		if id < 0 {
			t.Fatalf("negative id %d", id)
		}
		if ok != strings.Contains(asciiLower(s), "duplicate of") {
			t.Fatalf("ok=%v for %q", ok, s)
		}
		if id > 0 && !strings.Contains(s, FormatID(id)) {
			t.Fatalf("id %d not in %q", id, s)
		}
	})
}

func TestParseRateLimits(t *testing.T) {
	h := http.Header{}
	h.Set(HeaderLimit, "200,2000")
	h.Set(HeaderUsage, "31, 412")
	h.Set(HeaderReadLimit, "100,1000")
	h.Set(HeaderReadUsage, "bad")
	r := ParseRateLimits(h)
	if !r.HasOverall || r.Overall.Limit != (Pair{200, 2000}) || r.Overall.Usage != (Pair{31, 412}) {
		t.Errorf("overall = %+v, %v", r.Overall, r.HasOverall)
	}
	if r.HasRead {
		t.Errorf("read bucket with a malformed usage header accepted: %+v", r.Read)
	}
	out := http.Header{}
	SetRateLimits(out, RateLimits{Overall: r.Overall, Read: Bucket{Pair{100, 1000}, Pair{5, 6}}})
	back := ParseRateLimits(out)
	if !back.HasRead || back.Read.Usage != (Pair{5, 6}) || back.Overall != r.Overall {
		t.Errorf("round trip = %+v", back)
	}
}

func FuzzParseRateLimit(f *testing.F) {
	for _, s := range []string{"200,2000", "600,30000", "0,0", " 1 , 2 ", "1,", ",", "-1,3", "99999999999999999999,1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePair(s)
		if err != nil {
			return
		}
		if p.Quarter < 0 || p.Day < 0 {
			t.Fatalf("negative pair %+v from %q", p, s)
		}
		q, err := ParsePair(p.String())
		if err != nil || q != p {
			t.Fatalf("round trip of %q: %+v, %v", s, q, err)
		}
	})
}

func TestWindows(t *testing.T) {
	at := time.Date(2026, 3, 4, 14, 37, 12, 0, time.FixedZone("x", 2*3600)) // 12:37 UTC
	if got, want := QuarterStart(at), time.Date(2026, 3, 4, 12, 30, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("QuarterStart = %v, want %v", got, want)
	}
	if got, want := NextQuarter(at), time.Date(2026, 3, 4, 12, 45, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("NextQuarter = %v, want %v", got, want)
	}
	late := time.Date(2026, 3, 4, 23, 50, 0, 0, time.UTC)
	if got, want := NextQuarter(late), time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("NextQuarter(23:50) = %v, want %v", got, want)
	}
	// 01:30 on the 5th at +02:00 is 23:30 UTC on the 4th.
	east := time.Date(2026, 3, 5, 1, 30, 0, 0, time.FixedZone("x", 2*3600))
	if got, want := NextDay(east), time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("NextDay = %v, want %v", got, want)
	}
}

func TestUnknownSportTypeDecodes(t *testing.T) {
	var a SummaryActivity
	body := `{"id":9007199254740993,"sport_type":"Hoverboarding","external_id":null,"gear_id":null,"start_date":"2024-07-02T00:00:01Z","start_date_local":"2024-07-02T02:00:01Z","extra":{"x":1}}`
	if err := json.Unmarshal([]byte(body), &a); err != nil {
		t.Fatal(err)
	}
	if a.SportType != "Hoverboarding" || a.SportType.Known() || a.ID != 9007199254740993 || a.External() != "" {
		t.Errorf("decoded %+v", a)
	}
	if SportType("Run").LegacyType() != "Run" || SportType("MountainBikeRide").LegacyType() != "Ride" || a.SportType.LegacyType() != "Workout" {
		t.Error("LegacyType folding")
	}
}

func TestUploadNulls(t *testing.T) {
	b, err := json.Marshal(Upload{ID: 1, IDStr: "1", Status: StatusProcessing})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"error":null`) || !strings.Contains(string(b), `"activity_id":null`) {
		t.Errorf("upload JSON %s lacks Strava's nulls", b)
	}
}

func TestFaultError(t *testing.T) {
	f := Fault{Message: "Authorization Error", Errors: []FaultError{{"Athlete", "access_token", "invalid"}}}
	if got := f.Error(); got != "Authorization Error (Athlete access_token invalid)" {
		t.Errorf("Error() = %q", got)
	}
	if !f.Has("Athlete", "access_token") || f.Has("Upload", "data") {
		t.Error("Has")
	}
}

func BenchmarkParseDuplicate(b *testing.B) {
	msg := strings.Repeat("x", 4096) + "a.fit duplicate of <a href='/activities/18260018524' target='_blank'>Morning Ride</a>"
	for b.Loop() {
		if _, ok := ParseDuplicate(msg); !ok {
			b.Fatal("not found")
		}
	}
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
