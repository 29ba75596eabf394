package strava

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bandsync/bandsync/internal/format/fit"
	"github.com/bandsync/bandsync/internal/format/gpx"
	"github.com/bandsync/bandsync/internal/format/tcx"
	"github.com/bandsync/bandsync/internal/sink/strava/api"
	"github.com/bandsync/bandsync/internal/workout"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	t     *testing.T
	s     *Server
	srv   *httptest.Server
	clk   *clock
	token string
}

func newFixture(t *testing.T, opt Options) *fixture {
	clk := &clock{t: time.Date(2026, 5, 20, 14, 37, 0, 0, time.UTC)}
	opt.Clock = clk.now
	s := New(opt)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	tok, _, _ := s.IssueToken("read,activity:read_all,activity:write")
	return &fixture{t: t, s: s, srv: srv, clk: clk, token: tok}
}

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (f *fixture) do(method, path, ctype string, body io.Reader) (*http.Response, []byte) {
	f.t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, body)
	if err != nil {
		f.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if f.token != "" {
		req.Header.Set("Authorization", "Bearer "+f.token)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func (f *fixture) form(path string, v url.Values) (*http.Response, []byte) {
	return f.do(http.MethodPost, path, "application/x-www-form-urlencoded", strings.NewReader(v.Encode()))
}

func (f *fixture) upload(dataType string, file []byte, fields map[string]string) (*http.Response, api.Upload) {
	f.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("data_type", dataType)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	if file != nil {
		part, _ := mw.CreateFormFile("file", "upload."+dataType)
		_, _ = part.Write(file)
	}
	_ = mw.Close()
	resp, b := f.do(http.MethodPost, "/api/v3/uploads", mw.FormDataContentType(), &body)
	var u api.Upload
	_ = json.Unmarshal(b, &u)
	return resp, u
}

func run(start time.Time, sport workout.Sport, gps bool) *workout.Workout {
	w := &workout.Workout{Start: start, Sport: sport, Device: workout.Device{Maker: "Zepp", Model: "Amazfit Balance"},
		Origin: workout.Origin{Source: "zepp", ID: "1"}}
	pause := workout.Interval{Start: start.Add(5 * time.Minute), End: start.Add(7 * time.Minute)}
	w.Pauses = []workout.Interval{pause}
	d := 0.0
	for t := time.Duration(0); t <= 20*time.Minute; t += 5 * time.Second {
		if pause.Contains(start.Add(t)) {
			continue
		}
		var s workout.Sample
		s.Time = start.Add(t)
		d += 14
		s.SetDistance(d)
		s.SetHeartRate(140)
		s.SetCadence(170)
		if gps {
			s.SetPosition(52.37+d/111000, 4.89)
		}
		w.Samples = append(w.Samples, s)
	}
	w.Summary = workout.Summary{Elapsed: 20 * time.Minute, Moving: 18 * time.Minute, Distance: d}
	return w
}

func encode(t *testing.T, w *workout.Workout, format string, gz bool) []byte {
	t.Helper()
	var b bytes.Buffer
	var out io.Writer = &b
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(&b)
		out = zw
	}
	var err error
	switch format {
	case "fit":
		err = fit.Encode(out, w, fit.EncodeOptions{})
	case "gpx":
		err = gpx.Encode(out, w)
	case "tcx":
		err = tcx.Encode(out, w)
	}
	if err != nil {
		t.Fatal(err)
	}
	if zw != nil {
		_ = zw.Close()
	}
	return b.Bytes()
}

func TestAuthorizeRedirects(t *testing.T) {
	f := newFixture(t, Options{UncheckScopes: []string{"read"}})
	q := url.Values{"client_id": {f.s.ClientID()}, "response_type": {"code"}, "scope": {"read,activity:write"}, "state": {"xyz"}}
	q.Set("redirect_uri", "http://evil.example.com/cb")
	resp, body := f.do(http.MethodGet, "/oauth/authorize?"+q.Encode(), "", nil)
	var fault api.Fault
	if resp.StatusCode != http.StatusBadRequest || json.Unmarshal(body, &fault) != nil || !fault.Has("Application", "redirect_uri") {
		t.Errorf("non-loopback redirect: %s %s", resp.Status, body)
	}
	q.Set("redirect_uri", "http://127.0.0.1:53682/callback")
	resp, _ = f.do(http.MethodGet, "/oauth/authorize?"+q.Encode(), "", nil)
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("authorize: %s %v", resp.Status, err)
	}
	if loc.Host != "127.0.0.1:53682" || loc.Query().Get("state") != "xyz" || loc.Query().Get("code") == "" || loc.Query().Get("scope") != "activity:write" {
		t.Errorf("redirect %s: want the callback with state, code and the accepted scope", loc)
	}
}

func TestConsentPage(t *testing.T) {
	f := newFixture(t, Options{ConsentPage: true})
	q := url.Values{"client_id": {f.s.ClientID()}, "response_type": {"code"}, "scope": {"activity:write"},
		"state": {"s1"}, "redirect_uri": {"http://localhost:8080/cb"}}
	resp, body := f.do(http.MethodGet, "/oauth/authorize?"+q.Encode(), "", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "<form") || !strings.Contains(string(body), "activity:write") {
		t.Fatalf("consent page: %s %s", resp.Status, body)
	}
	q.Set("decision", "cancel")
	resp, _ = f.form("/oauth/authorize", q)
	if loc := resp.Header.Get("Location"); !strings.Contains(loc, "error=access_denied") || !strings.Contains(loc, "state=s1") {
		t.Errorf("cancel redirects to %q", loc)
	}
	q.Set("decision", "authorize")
	resp, _ = f.form("/oauth/authorize", q)
	if loc := resp.Header.Get("Location"); !strings.Contains(loc, "code=") {
		t.Errorf("authorize redirects to %q", loc)
	}
}

func (f *fixture) code(extra url.Values) string {
	f.t.Helper()
	q := url.Values{"client_id": {f.s.ClientID()}, "response_type": {"code"}, "scope": {"read,activity:read_all,activity:write"},
		"redirect_uri": {"http://127.0.0.1:1/cb"}}
	for k, v := range extra {
		q[k] = v
	}
	resp, _ := f.do(http.MethodGet, "/oauth/authorize?"+q.Encode(), "", nil)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	return loc.Query().Get("code")
}

func (f *fixture) exchange(v url.Values) (int, api.TokenResponse, api.Fault) {
	f.t.Helper()
	v.Set("client_id", f.s.ClientID())
	if !v.Has("client_secret") {
		v.Set("client_secret", f.s.ClientSecret())
	}
	resp, body := f.form("/oauth/token", v)
	var tr api.TokenResponse
	var fault api.Fault
	_ = json.Unmarshal(body, &tr)
	_ = json.Unmarshal(body, &fault)
	return resp.StatusCode, tr, fault
}

func TestTokenGrants(t *testing.T) {
	f := newFixture(t, Options{})
	f.token = ""
	code := f.code(nil)
	if st, _, _ := f.exchange(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_secret": {"wrong"}}); st != http.StatusUnauthorized {
		t.Errorf("wrong secret: %d", st)
	}
	st, tr, _ := f.exchange(url.Values{"grant_type": {"authorization_code"}, "code": {code}})
	if st != http.StatusOK || tr.AccessToken == "" || tr.RefreshToken == "" || tr.Athlete == nil || tr.ExpiresIn != 21600 {
		t.Fatalf("exchange: %d %+v", st, tr)
	}
	if st, _, fault := f.exchange(url.Values{"grant_type": {"authorization_code"}, "code": {code}}); st != http.StatusBadRequest || !fault.Has("AuthorizationCode", "code") {
		t.Errorf("reused code: %d %+v", st, fault)
	}
	// More than an hour left: the same access token, a rotated refresh token.
	st, tr2, _ := f.exchange(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}})
	if st != http.StatusOK || tr2.AccessToken != tr.AccessToken || tr2.RefreshToken == tr.RefreshToken || tr2.Athlete != nil {
		t.Fatalf("early refresh: %d %+v", st, tr2)
	}
	if st, _, fault := f.exchange(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}}); st != http.StatusBadRequest || !fault.Has("RefreshToken", "refresh_token") {
		t.Errorf("old refresh token after rotation: %d %+v", st, fault)
	}
	f.clk.add(5*time.Hour + 30*time.Minute)
	st, tr3, _ := f.exchange(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr2.RefreshToken}})
	if st != http.StatusOK || tr3.AccessToken == tr.AccessToken {
		t.Fatalf("late refresh: %d %+v", st, tr3)
	}
	// Both access tokens work until the old one expires.
	for _, tok := range []string{tr.AccessToken, tr3.AccessToken} {
		f.token = tok
		if resp, _ := f.do(http.MethodGet, "/api/v3/athlete", "", nil); resp.StatusCode != http.StatusOK {
			t.Errorf("access token after refresh: %s", resp.Status)
		}
	}
	f.clk.add(31 * time.Minute)
	f.token = tr.AccessToken
	resp, body := f.do(http.MethodGet, "/api/v3/athlete", "", nil)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), `"access_token"`) {
		t.Errorf("expired token: %s %s", resp.Status, body)
	}
	// Deauthorize ends every token.
	f.token = ""
	if resp, _ := f.form("/oauth/deauthorize", url.Values{"access_token": {tr3.AccessToken}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("deauthorize: %s", resp.Status)
	}
	f.token = tr3.AccessToken
	if resp, _ := f.do(http.MethodGet, "/api/v3/athlete", "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("after deauthorize: %s", resp.Status)
	}
	if st, _, _ := f.exchange(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr3.RefreshToken}}); st != http.StatusBadRequest {
		t.Errorf("refresh after deauthorize: %d", st)
	}
}

func TestPKCE(t *testing.T) {
	f := newFixture(t, Options{})
	f.token = ""
	verifier := "a-long-random-verifier-string-of-at-least-43-characters-xyz"
	sum := sha256.Sum256([]byte(verifier))
	challenge := url.Values{"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	if st, _, _ := f.exchange(url.Values{"grant_type": {"authorization_code"}, "code": {f.code(challenge)}, "code_verifier": {"wrong"}}); st != http.StatusBadRequest {
		t.Errorf("wrong verifier: %d", st)
	}
	if st, _, _ := f.exchange(url.Values{"grant_type": {"authorization_code"}, "code": {f.code(challenge)}, "code_verifier": {verifier}}); st != http.StatusOK {
		t.Errorf("right verifier: %d", st)
	}
}

func TestRateLimitHeadersAndWindows(t *testing.T) {
	f := newFixture(t, Options{Limits: Limits{Overall: api.Pair{Quarter: 3, Day: 5}, Read: api.Pair{Quarter: 2, Day: 4}}})
	get := func() (*http.Response, []byte) { return f.do(http.MethodGet, "/api/v3/athlete", "", nil) }
	resp, _ := get()
	rl := api.ParseRateLimits(resp.Header)
	if !rl.HasOverall || !rl.HasRead || rl.Overall.Usage != (api.Pair{Quarter: 1, Day: 1}) || rl.Read.Limit != (api.Pair{Quarter: 2, Day: 4}) {
		t.Fatalf("headers %+v", rl)
	}
	// An upload counts only overall.
	resp, _ = f.upload("fit", encode(t, run(f.clk.now().Add(-time.Hour), workout.SportRun, true), "fit", false), nil)
	if rl := api.ParseRateLimits(resp.Header); resp.StatusCode != http.StatusCreated || rl.Overall.Usage.Quarter != 2 || rl.Read.Usage.Quarter != 1 {
		t.Fatalf("upload: %s %+v", resp.Status, rl)
	}
	get()
	resp, body := get() // fourth request, quarter limit 3
	var fault api.Fault
	if resp.StatusCode != http.StatusTooManyRequests || json.Unmarshal(body, &fault) != nil || fault.Message != api.RateLimitMessage {
		t.Fatalf("over the limit: %s %s", resp.Status, body)
	}
	if resp.Header.Get(api.HeaderUsage) == "" || f.s.Rejected() != 1 {
		t.Error("429 without headers, or not counted")
	}
	f.clk.add(8 * time.Minute) // 14:45: a new quarter, same day
	resp, _ = get()
	if rl := api.ParseRateLimits(resp.Header); resp.StatusCode != http.StatusOK || rl.Overall.Usage != (api.Pair{Quarter: 1, Day: 5}) {
		t.Fatalf("new quarter: %s %+v", resp.Status, rl)
	}
	resp, _ = get() // the day's sixth
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("over the daily limit: %s", resp.Status)
	}
	if f.s.APIRequests() != 6 || f.s.Count(RouteAthlete) != 5 {
		t.Errorf("counts %v", f.s.Counts())
	}
}

func TestUploadFormats(t *testing.T) {
	f := newFixture(t, Options{ProcessingDelay: 2 * time.Second})
	base := f.clk.now().Add(-48 * time.Hour)
	for i, c := range []struct {
		dataType, format string
		gz               bool
	}{{"fit", "fit", false}, {"fit.gz", "fit", true}, {"gpx", "gpx", false}, {"GPX.GZ", "gpx", true}, {"tcx", "tcx", false}, {"tcx.gz", "tcx", true}} {
		w := run(base.Add(time.Duration(i)*time.Hour), workout.SportRun, true)
		ext := "98765-" + c.dataType
		resp, u := f.upload(c.dataType, encode(t, w, c.format, c.gz), map[string]string{"external_id": ext, "name": "Test"})
		if resp.StatusCode != http.StatusCreated || u.Status != api.StatusProcessing || u.ActivityID != nil || u.Error != nil {
			t.Fatalf("%s: %s %+v", c.dataType, resp.Status, u)
		}
		if want := ext + "." + c.format; u.ExternalID != want {
			t.Errorf("%s: external_id %q, want %q", c.dataType, u.ExternalID, want)
		}
		f.clk.add(3 * time.Second)
		_, body := f.do(http.MethodGet, "/api/v3/uploads/"+u.IDStr, "", nil)
		var got api.Upload
		if err := json.Unmarshal(body, &got); err != nil || got.Status != api.StatusReady || got.Activity() == 0 {
			t.Fatalf("%s: after processing %s", c.dataType, body)
		}
		a, _ := f.s.Activity(got.Activity())
		if a.ElapsedTime != 1200 || a.SportType != "Run" || a.Name != "Test" {
			t.Errorf("%s: activity %+v", c.dataType, a.SummaryActivity)
		}
		if c.format == "fit" && (a.MovingTime != 1080 || a.DeviceName != "Amazfit Balance") {
			t.Errorf("%s: moving %d s, device %q; want the timer time 1080 s and the band", c.dataType, a.MovingTime, a.DeviceName)
		}
	}
}

func TestUploadErrors(t *testing.T) {
	f := newFixture(t, Options{})
	resp, _ := f.do(http.MethodPost, "/api/v3/uploads", "multipart/form-data; boundary=x", strings.NewReader("--x--\r\n"))
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("no file: %s", resp.Status)
	}
	if resp, _ := f.upload("fit", nil, nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("no file part: %s", resp.Status)
	}
	_, u := f.upload("fit", []byte("garbage"), nil)
	f.clk.add(2 * time.Second)
	got, _ := f.s.Upload(u.ID)
	if got.Status != api.StatusError || !strings.Contains(got.ErrorText(), "malformed") {
		t.Errorf("bad file: %+v", got)
	}
	// Duplicate during processing, then the deleted status.
	w := run(f.clk.now().Add(-time.Hour), workout.SportRun, true)
	_, u1 := f.upload("fit", encode(t, w, "fit", false), nil)
	_, u2 := f.upload("fit", encode(t, w, "fit", false), map[string]string{"external_id": "again.fit"})
	f.clk.add(2 * time.Second)
	g1, _ := f.s.Upload(u1.ID)
	g2, _ := f.s.Upload(u2.ID)
	if id, ok := api.ParseDuplicate(g2.ErrorText()); !ok || id != g1.Activity() || g2.Status != api.StatusError || !strings.HasPrefix(g2.ErrorText(), "again.fit duplicate of activity ") {
		t.Errorf("duplicate: %+v of %+v", g2, g1)
	}
	f.s.Delete(g1.Activity())
	if g1, _ = f.s.Upload(u1.ID); g1.Status != api.StatusDeleted || g1.ActivityID != nil {
		t.Errorf("after delete: %+v", g1)
	}
}

func TestLoseResponseCreatesUpload(t *testing.T) {
	f := newFixture(t, Options{})
	f.s.Inject(RouteUpload, FaultLoseResponse)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("data_type", "fit")
	part, _ := mw.CreateFormFile("file", "a.fit")
	_, _ = part.Write(encode(t, run(f.clk.now().Add(-time.Hour), workout.SportRun, true), "fit", false))
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/api/v3/uploads", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+f.token)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("answer arrived: %s", resp.Status)
	}
	f.clk.add(2 * time.Second)
	if n := len(f.s.Activities()); n != 1 || f.s.Uploads() != 1 {
		t.Errorf("%d activities from %d uploads, want 1", n, f.s.Uploads())
	}
}

func TestListOrderAndPrivacy(t *testing.T) {
	f := newFixture(t, Options{})
	base := f.clk.now().Add(-10 * 24 * time.Hour)
	var ids []int64
	for i := range 5 {
		ids = append(ids, f.s.Add(Seed{Workout: run(base.Add(time.Duration(i)*24*time.Hour), workout.SportRun, true), Private: i == 4}))
	}
	list := func(q string) []api.SummaryActivity {
		_, body := f.do(http.MethodGet, "/api/v3/athlete/activities?"+q, "", nil)
		var out []api.SummaryActivity
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatalf("%s: %s", q, body)
		}
		return out
	}
	if got := list("per_page=2"); len(got) != 2 || got[0].ID != ids[4] || got[1].ID != ids[3] {
		t.Errorf("no after: want newest first, got %v", got)
	}
	after := base.Add(12 * time.Hour).Unix()
	if got := list("after=" + itoa(after) + "&per_page=2&page=2"); len(got) != 2 || got[0].ID != ids[3] || got[1].ID != ids[4] {
		t.Errorf("after, page 2: want oldest first, got %v", got)
	}
	if got := list("after=" + itoa(after) + "&before=" + itoa(base.Add(36*time.Hour).Unix())); len(got) != 1 || got[0].ID != ids[1] {
		t.Errorf("after+before: %v", got)
	}
	tok, _, _ := f.s.IssueToken("read,activity:read")
	f.token = tok
	if got := list("per_page=200"); len(got) != 4 {
		t.Errorf("activity:read sees %d activities, want the 4 not private", len(got))
	}
	if resp, _ := f.do(http.MethodGet, "/api/v3/activities/"+itoa(ids[4]), "", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("private activity with activity:read: %s", resp.Status)
	}
	if resp, _ := f.upload("fit", []byte("x"), nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("upload without write scope: %s", resp.Status)
	}
}

func itoa(n int64) string { return api.FormatID(n) }

func TestUpdateAndStreams(t *testing.T) {
	f := newFixture(t, Options{})
	id := f.s.Add(Seed{Workout: run(f.clk.now().Add(-time.Hour), workout.SportRun, true)})
	body := `{"sport_type":"TrailRun","trainer":true,"hide_from_home":true,"gear_id":"b1","description":"x"}`
	resp, raw := f.do(http.MethodPut, "/api/v3/activities/"+itoa(id), "application/json", strings.NewReader(body))
	var a api.DetailedActivity
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &a) != nil {
		t.Fatalf("PUT: %s %s", resp.Status, raw)
	}
	if a.SportType != "TrailRun" || a.Type != "Run" || !a.Trainer || !a.HideFromHome || a.Gear() != "b1" || *a.Description != "x" || a.Commute {
		t.Errorf("after PUT: %+v", a)
	}
	resp, _ = f.do(http.MethodPut, "/api/v3/activities/"+itoa(id), "application/json", strings.NewReader(`{"sport_type":"Flying"}`))
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown sport_type: %s", resp.Status)
	}
	_, raw = f.do(http.MethodGet, "/api/v3/activities/"+itoa(id)+"/streams?keys=time,latlng,heartrate,cadence,moving,velocity_smooth&key_by_type=true", "", nil)
	var set api.StreamSet
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatal(err)
	}
	if set.Time == nil || set.LatLng == nil || set.Heartrate == nil || set.Moving == nil || set.VelocitySmooth == nil || set.Distance == nil {
		t.Fatalf("streams missing: %s", raw)
	}
	n := len(set.Time.Data)
	if len(set.LatLng.Data) != n || set.Cadence.Data[0] != 85 || set.VelocitySmooth.Data[1] < 2.7 || set.VelocitySmooth.Data[1] > 2.9 {
		t.Errorf("streams: %d points, cadence %d, speed %.2f", n, set.Cadence.Data[0], set.VelocitySmooth.Data[1])
	}
	if resp, _ := f.do(http.MethodGet, "/api/v3/activities/999", "", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown activity: %s", resp.Status)
	}
}

// With FileDir the server keeps uploaded files on disk, not in memory, and
// still serves their streams and finds duplicates.
func TestFileDirKeepsFilesOnDisk(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, Options{ProcessingDelay: time.Second, FileDir: dir})
	t.Cleanup(func() { f.s.Close() })
	w := run(f.clk.now().Add(-48*time.Hour), workout.SportRun, true)
	file := encode(t, w, "fit", true)
	_, u := f.upload("fit.gz", file, map[string]string{"external_id": "k1"})
	f.clk.add(2 * time.Second)
	_, body := f.do(http.MethodGet, "/api/v3/uploads/"+u.IDStr, "", nil)
	var got api.Upload
	if err := json.Unmarshal(body, &got); err != nil || got.Activity() == 0 {
		t.Fatalf("upload: %s", body)
	}
	// One store file holds every upload: no file (inode) per upload.
	if files, _ := os.ReadDir(dir); len(files) != 1 || files[0].Name() != "uploads.bin" {
		t.Fatalf("files on disk: %v", files)
	}
	if fi, err := os.Stat(filepath.Join(dir, "uploads.bin")); err != nil || fi.Size() != int64(len(file)) {
		t.Fatalf("uploads.bin: %v, %v; want the %d bytes uploaded", fi, err, len(file))
	}
	f.s.mu.Lock()
	a := f.s.activities[got.Activity()]
	inMemory := a.w != nil
	f.s.mu.Unlock()
	if inMemory {
		t.Error("the workout is still held in memory")
	}
	_, raw := f.do(http.MethodGet, "/api/v3/activities/"+itoa(got.Activity())+"/streams?keys=time,heartrate&key_by_type=true", "", nil)
	var set api.StreamSet
	if err := json.Unmarshal(raw, &set); err != nil || set.Time == nil || len(set.Time.Data) == 0 {
		t.Fatalf("streams from disk: %s", raw)
	}
	// The same start again is a duplicate, found through the index.
	_, u2 := f.upload("fit.gz", encode(t, w, "fit", true), map[string]string{"external_id": "k2"})
	f.clk.add(2 * time.Second)
	_, body = f.do(http.MethodGet, "/api/v3/uploads/"+u2.IDStr, "", nil)
	if !strings.Contains(string(body), "duplicate of activity "+itoa(got.Activity())) {
		t.Fatalf("second upload: %s", body)
	}
	// A second activity's file is read back from behind the first.
	w2 := run(f.clk.now().Add(-24*time.Hour), workout.SportRide, true)
	_, u3 := f.upload("fit.gz", encode(t, w2, "fit", true), map[string]string{"external_id": "k3"})
	f.clk.add(2 * time.Second)
	_, body = f.do(http.MethodGet, "/api/v3/uploads/"+u3.IDStr, "", nil)
	var third api.Upload
	if err := json.Unmarshal(body, &third); err != nil || third.Activity() == 0 {
		t.Fatalf("third upload: %s", body)
	}
	_, raw = f.do(http.MethodGet, "/api/v3/activities/"+itoa(third.Activity())+"/streams?keys=time&key_by_type=true", "", nil)
	var set2 api.StreamSet
	if err := json.Unmarshal(raw, &set2); err != nil || set2.Time == nil || len(set2.Time.Data) != len(w2.Samples) {
		t.Fatalf("second file's streams: %s; want %d points", raw, len(w2.Samples))
	}
	if !f.s.Delete(got.Activity()) {
		t.Fatal("delete")
	}
	if resp, _ := f.do(http.MethodGet, "/api/v3/activities/"+itoa(got.Activity())+"/streams?keys=time", "", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a deleted activity's streams: %d, want 404", resp.StatusCode)
	}
}
