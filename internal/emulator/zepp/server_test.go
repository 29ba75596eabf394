package zepp

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bandsync/bandsync/internal/format/zeppjson"
	"github.com/bandsync/bandsync/internal/source/zepp/api"
	"github.com/bandsync/bandsync/internal/workout"
)

const email, password = "a@example.com", "pw"

func newTest(t *testing.T, o Options) (*Server, *httptest.Server) {
	t.Helper()
	s := New(o)
	s.AddAccount(Account{Email: email, Password: password, Host: "api-mifit-de2.huami.com"})
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return s, hs
}

type reply struct {
	status int
	header http.Header
	body   []byte
	err    error
}

// get sends a data call to host with the classic headers (token "" = none).
func get(t *testing.T, hs *httptest.Server, host, path, token string, q url.Values, headers bool) reply {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, hs.URL+path+"?"+q.Encode(), nil)
	req.Host = host
	if headers {
		req.Header.Set(api.HeaderAppPlatform, api.DataAppPlatform)
		req.Header.Set(api.HeaderAppName, api.DataAppName)
	}
	req.Header.Set(api.HeaderAppToken, token)
	resp, err := hs.Client().Do(req)
	if err != nil {
		return reply{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: b, err: err}
}

func envelope(t *testing.T, b []byte) api.Envelope {
	t.Helper()
	var e api.Envelope
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("body %.80q: %v", b, err)
	}
	return e
}

func TestGenerateIsDeterministicAndVaried(t *testing.T) {
	a, b := Generate(40, 9), Generate(40, 9)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Fatalf("same seed, different workouts:\n%s", diff)
	}
	if cmp.Equal(a[0], Generate(1, 10)[0]) {
		t.Error("different seeds gave the same workout")
	}
	sports, zones := map[workout.Sport]bool{}, map[string]bool{}
	var paused, indoor, gps int
	for i, w := range a {
		sports[w.Sport], zones[w.Zone.Name] = true, true
		if len(w.Pauses) > 0 {
			paused++
		}
		if w.HasGPS() {
			gps++
		} else {
			indoor++
		}
		if i > 0 && !w.Start.Before(a[i-1].Start) {
			t.Errorf("workout %d does not start before workout %d", i, i-1)
		}
		if w.Summary.Moving+pausedTime(w) != w.Summary.Elapsed {
			t.Errorf("workout %d: moving %v + pauses != elapsed %v", i, w.Summary.Moving, w.Summary.Elapsed)
		}
		if w.Sport.ZeppType() == 0 {
			t.Errorf("workout %d: %v has no Zepp type code", i, w.Sport)
		}
	}
	if len(sports) < 12 || len(zones) < 4 || paused == 0 || indoor == 0 || gps == 0 {
		t.Errorf("not varied: %d sports, %d zones, %d with pauses, %d indoor, %d with GPS", len(sports), len(zones), paused, indoor, gps)
	}
}

func pausedTime(w workout.Workout) time.Duration {
	var d time.Duration
	for _, p := range w.Pauses {
		d += p.Duration()
	}
	return d
}

// TestGeneratedSurviveZeppEncoding: what the emulator serves decodes back
// to the generated workout's essentials.
func TestGeneratedSurviveZeppEncoding(t *testing.T) {
	for i, w := range Generate(16, 3) {
		sum, det, err := zeppjson.Encode(&w)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		got, err := zeppjson.Decode(sum, det)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if !got.Start.Equal(w.Start) || got.Sport != w.Sport || got.HasGPS() != w.HasGPS() ||
			len(got.Pauses) != len(w.Pauses) || got.Summary.Moving != w.Summary.Moving {
			t.Errorf("%d (%v): decoded start %v sport %v gps %t pauses %d moving %v; generated %v %v %t %d %v", i, w.Sport,
				got.Start, got.Sport, got.HasGPS(), len(got.Pauses), got.Summary.Moving,
				w.Start, w.Sport, w.HasGPS(), len(w.Pauses), w.Summary.Moving)
		}
	}
}

func TestDataCallErrors(t *testing.T) {
	s, hs := newTest(t, Options{})
	tok, _ := s.IssueAppToken(email)

	r := get(t, hs, "api-mifit-de2.huami.com", api.PathHistory, tok, nil, false)
	if e := envelope(t, r.body); r.status != 500 || e.Code != api.CodeMissingHeaders {
		t.Errorf("without appPlatform/appname: %d %+v, want 500 code -50000 (§7.6)", r.status, e)
	}
	r = get(t, hs, "api-mifit-de2.huami.com", api.PathHistory, "nope", nil, true)
	e := envelope(t, r.body)
	var ed api.ErrorData
	_ = json.Unmarshal(e.Data, &ed)
	if r.status != 401 || e.Code != 0 || e.Message != "invalid token" || ed.Code != api.ErrCodeInvalidToken {
		t.Errorf("bad token: %d %s", r.status, r.body)
	}
	s.ExpireAppTokens()
	if r = get(t, hs, "api-mifit-de2.huami.com", api.PathHistory, tok, nil, true); r.status != 401 {
		t.Errorf("expired token: %d", r.status)
	}
}

func TestHistoryPagingAndRegions(t *testing.T) {
	s, hs := newTest(t, Options{PageSize: 200})
	if err := s.AddGenerated(email, 450, 1); err != nil {
		t.Fatal(err)
	}
	tok, _ := s.IssueAppToken(email)
	var cursor string
	total, pages := 0, 0
	for {
		q := url.Values{}
		if cursor != "" {
			q.Set("trackid", cursor)
		}
		r := get(t, hs, "api-mifit-de2.huami.com", api.PathHistory, tok, q, true)
		next, sums, err := zeppjson.DecodeHistory(r.body)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		total += len(sums)
		if len(sums) > 200 {
			t.Fatalf("page of %d", len(sums))
		}
		for i := 1; i < len(sums); i++ {
			if sums[i].TrackID > sums[i-1].TrackID {
				t.Fatal("page not newest first")
			}
		}
		if next == -1 {
			break
		}
		cursor = jsonInt(next)
	}
	if total != 450 || pages != 3 {
		t.Errorf("%d workouts in %d pages, want 450 in 3", total, pages)
	}
	// Another region answers success with an empty list (§7.5).
	r := get(t, hs, "api-mifit-us2.huami.com", api.PathHistory, tok, nil, true)
	next, sums, err := zeppjson.DecodeHistory(r.body)
	if err != nil || next != -1 || len(sums) != 0 {
		t.Errorf("wrong region: next %d, %d summaries, %v", next, len(sums), err)
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestDetailServesFixturesAndEmptyForUnknown(t *testing.T) {
	s, hs := newTest(t, Options{})
	if err := s.AddFixtures(email); err != nil {
		t.Fatal(err)
	}
	tok, _ := s.IssueAppToken(email)
	for _, f := range Fixtures() {
		sum, _ := zeppjson.DecodeSummary(f.Summary)
		q := url.Values{"trackid": {jsonInt(sum.TrackID)}, "source": {sum.Source}}
		r := get(t, hs, "api-mifit-de2.huami.com", api.PathDetail, tok, q, true)
		e := envelope(t, r.body)
		var got, want any
		_ = json.Unmarshal(e.Data, &got)
		_ = json.Unmarshal(f.Detail, &want)
		if e.Code != 1 || !cmp.Equal(got, want) {
			t.Errorf("%s: detail differs from the fixture", f.Name)
		}
		q.Set("source", "run.mifit.huami.com.wrong")
		r = get(t, hs, "api-mifit-de2.huami.com", api.PathDetail, tok, q, true)
		if e := envelope(t, r.body); e.Code != 1 || len(e.Data) > 60 {
			t.Errorf("%s with a wrong source: %s, want an almost empty success (§3.1)", f.Name, r.body)
		}
	}
}

func TestLoginFlow(t *testing.T) {
	s, hs := newTest(t, Options{})
	post := func(host, path string, form url.Values) reply {
		req, _ := http.NewRequest(http.MethodPost, hs.URL+path, strings.NewReader(form.Encode()))
		req.Host = host
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		c := *hs.Client()
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := c.Do(req)
		if err != nil {
			return reply{err: err}
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return reply{status: resp.StatusCode, header: resp.Header, body: b}
	}
	form := url.Values{"client_id": {"HuaMi"}, "token": {"access"}, "redirect_uri": {"x"}, "json_response": {"true"}, "password": {"bad"}}
	r := post(api.HostUser, api.PathRegistrationsPrefix+url.PathEscape(email)+api.PathRegistrationsSuffix, form)
	loc, _ := url.Parse(r.header.Get("Location"))
	if r.status != 303 || loc.Query().Get("error") != "401" || loc.Query().Get("attempts") != "1" {
		t.Errorf("wrong password: %d %s", r.status, r.header.Get("Location"))
	}
	form.Set("password", password)
	r = post(api.HostUser, api.PathRegistrationsPrefix+url.PathEscape(email)+api.PathRegistrationsSuffix, form)
	var ar api.AccessResponse
	if err := json.Unmarshal(r.body, &ar); err != nil || r.status != 200 || ar.Access == "" || ar.Region != "eu-central-1" {
		t.Fatalf("tokens: %d %s", r.status, r.body)
	}
	login := url.Values{"code": {ar.Access}, "grant_type": {"access_token"}, "device_id": {"web_1"}}
	r = post(api.HostAccount, api.PathClientLogin, login)
	var lr api.LoginResponse
	if err := json.Unmarshal(r.body, &lr); err != nil || lr.TokenInfo.LoginToken == "" || len(lr.Domains) == 0 || lr.Domains[0].Cnames[0] != "api-mifit-de2.huami.com" {
		t.Fatalf("client login: %d %s", r.status, r.body)
	}
	r = post(api.HostAccount, api.PathClientLogin, login)
	var eb api.ErrorBody
	if _ = json.Unmarshal(r.body, &eb); eb.ErrorCode != api.ErrCodeVerification {
		t.Errorf("access code used twice: %d %s, want 0106", r.status, r.body)
	}
	q := url.Values{"login_token": {lr.TokenInfo.LoginToken}}
	r = get(t, hs, api.HostAccount, api.PathAppTokens, "", q, false)
	var at api.LoginResponse
	if err := json.Unmarshal(r.body, &at); err != nil || at.TokenInfo.AppToken == "" || at.TokenInfo.AppTTL != 30*24*3600 {
		t.Fatalf("app_tokens: %d %s", r.status, r.body)
	}
	if r := get(t, hs, "api-mifit-de2.huami.com", api.PathHistory, at.TokenInfo.AppToken, nil, true); r.status != 200 {
		t.Errorf("the new app token is refused: %d", r.status)
	}
	s.ExpireLoginTokens()
	r = get(t, hs, api.HostAccount, api.PathAppTokens, "", q, false)
	if _ = json.Unmarshal(r.body, &eb); eb.ErrorCode != api.ErrCodeLoginTokenExpired {
		t.Errorf("expired login token: %d %s, want 0101", r.status, r.body)
	}
}

func TestFaults(t *testing.T) {
	s, hs := newTest(t, Options{})
	tok, _ := s.IssueAppToken(email)
	s.Inject(Fault{Kind: FaultStatus, Status: 503, RetryAfter: 2 * time.Second})
	if r := get(t, hs, "", api.PathHistory, tok, nil, true); r.status != 503 || r.header.Get("Retry-After") != "2" {
		t.Errorf("status fault: %d %v", r.status, r.header)
	}
	s.Inject(Fault{Kind: FaultReset})
	if r := get(t, hs, "", api.PathHistory, tok, nil, true); r.err == nil {
		t.Error("reset fault: the body arrived whole")
	}
	s.Inject(Fault{Kind: FaultShortBody})
	if r := get(t, hs, "", api.PathHistory, tok, nil, true); r.err == nil {
		t.Error("short-body fault: the body arrived whole")
	}
	s.Inject(Fault{Kind: FaultTruncateJSON})
	if r := get(t, hs, "", api.PathHistory, tok, nil, true); r.err != nil || json.Valid(r.body) {
		t.Errorf("truncate fault: %v, valid JSON %t", r.err, json.Valid(r.body))
	}
	s.Inject(Fault{Kind: FaultSlow, Delay: 200 * time.Millisecond})
	start := time.Now()
	if r := get(t, hs, "", api.PathHistory, tok, nil, true); r.err != nil || !json.Valid(r.body) || time.Since(start) < 200*time.Millisecond {
		t.Errorf("slow fault: %v after %v", r.err, time.Since(start))
	}
	if r := get(t, hs, "", api.PathHistory, tok, nil, true); r.status != 200 {
		t.Errorf("faults did not clear: %d", r.status)
	}
	if n := s.Requests(api.PathHistory); n != 6 {
		t.Errorf("counted %d history requests, want 6", n)
	}
}

func TestStart(t *testing.T) {
	s := New(Options{})
	base, stop, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	resp, err := http.Get(base + api.PathHistory)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 500 {
		t.Errorf("header-less call: %d", resp.StatusCode)
	}
}

// A 10 000-workout history stays after 2000 and has no two workouts within
// Strava's duplicate tolerance of each other.
func TestGenerateTenThousand(t *testing.T) {
	starts := make([]int64, 0, 10000)
	for i := range 10000 {
		w := GenerateOne(1, i)
		if w.Start.Year() < 2000 {
			t.Fatalf("workout %d starts in %d", i, w.Start.Year())
		}
		starts = append(starts, w.Start.Unix())
	}
	slices.Sort(starts)
	for i := 1; i < len(starts); i++ {
		if starts[i]-starts[i-1] < 5*60 {
			t.Fatalf("two workouts start %d s apart", starts[i]-starts[i-1])
		}
	}
}
