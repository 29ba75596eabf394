package web

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/bandsync/bandsync/internal/progress"
	"github.com/bandsync/bandsync/internal/store"
)

// csrfValue finds the CSRF token in a page.
var csrfValue = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

func (e *env) token(t *testing.T) string {
	t.Helper()
	_, body := e.get(t, "/")
	m := csrfValue.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no CSRF token on the overview")
	}
	return m[1]
}

func TestGoldenPages(t *testing.T) {
	e := newEnv(t, nil)
	for name, path := range map[string]string{
		"overview.html.golden":       "/",
		"list.html.golden":           "/workouts",
		"list-filtered.html.golden":  "/workouts?sport=run&state=done&sink=strava&since=2025-01-01&until=2026-01-01&q=zepp",
		"list-problems.html.golden":  "/workouts?sport=curling&state=lost&since=yesterday",
		"workout.html.golden":        fmt.Sprintf("/workouts/%d", e.workoutID(t, 0)),
		"workout-failed.html.golden": fmt.Sprintf("/workouts/%d", e.workoutID(t, 2)),
	} {
		t.Run(name, func(t *testing.T) {
			resp, body := e.get(t, path)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %s\n%s", path, resp.Status, body)
			}
			golden(t, name, csrfValue.ReplaceAllString(body, `name="csrf" value="TOKEN"`))
		})
	}
}

// cells returns the text of every element with attribute attr, by value.
func cells(t *testing.T, body, attr string) map[string]string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			for _, a := range n.Attr {
				if a.Key == attr {
					out[a.Val] = strings.TrimSpace(textOf(n))
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

func textOf(n *html.Node) string {
	if n.Type == html.TextNode {
		return n.Data
	}
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		b.WriteString(textOf(c))
	}
	return b.String()
}

func TestOverviewCountsAreTheStores(t *testing.T) {
	e := newEnv(t, nil)
	_, body := e.get(t, "/")
	got := cells(t, body, "data-count")
	counts, err := e.store.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for sink, c := range counts {
		for _, st := range store.States {
			want[sink+":"+string(st)] = strconv.Itoa(c.States[st])
		}
		want[sink+":total"] = strconv.Itoa(c.Total())
	}
	if len(got) != len(want) {
		t.Errorf("overview shows %d counts, the store has %d", len(got), len(want))
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("overview %s = %q, store says %s", k, got[k], w)
		}
	}
	// The month grid: January 2025 holds the workout recorded at 01:30 on
	// New Year's Day in its own zone (23:30 UTC the day before).
	if !strings.Contains(body, "<th scope=\"row\">2025</th>") || strings.Contains(body, "<th scope=\"row\">2024</th>") {
		t.Error("the New Year's Eve workout is not counted in its local year")
	}
}

func TestListFilters(t *testing.T) {
	e := newEnv(t, nil)
	for _, tt := range []struct {
		query string
		want  int
	}{
		{"", len(seeds)},
		{"sport=run", 3},
		{"state=done&sink=strava", 3},
		{"state=failed", 1},
		{"since=2026-01-01", 4},
		{"since=2025-11-01&until=2025-12-01", 2},
		{"q=1002", 1},
		{"sport=run&state=pending&sink=strava", 0},
	} {
		_, body := e.get(t, "/workouts?"+tt.query)
		got := cells(t, body, "data-total")
		m := regexp.MustCompile(`data-total="(\d+)"`).FindStringSubmatch(body)
		if m == nil || m[1] != strconv.Itoa(tt.want) {
			t.Errorf("/workouts?%s: total %v, want %d", tt.query, got, tt.want)
		}
	}
	_, body := e.get(t, "/workouts?state=done&sink=strava")
	for _, id := range []string{"1001", "1003", "1004"} {
		if !strings.Contains(body, `href="https://www.strava.com/activities/`+id+`"`) {
			t.Errorf("no link to Strava activity %s", id)
		}
	}
}

func TestWorkoutPageComparesWithStrava(t *testing.T) {
	e := newEnv(t, nil)
	path := fmt.Sprintf("/workouts/%d", e.workoutID(t, 0))
	_, body := e.get(t, path)
	rows := cells(t, body, "scope")
	_ = rows
	for _, want := range []string{
		"Strava&#39;s moving time excludes 1 pause, 3:00, as the band&#39;s timer does",
		"Huami Amazfit Pace",
		`data-src="` + path + `/data.json"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("workout page lacks %q", want)
		}
	}
	resp, data := e.get(t, path+"/data.json")
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("data.json content type %q", ct)
	}
	for _, key := range []string{`"key":"hr"`, `"key":"pace"`, `"key":"altitude"`, `"key":"cadence"`, `"pauses":[[720,900]]`} {
		if !strings.Contains(data, key) {
			t.Errorf("data.json lacks %s", key)
		}
	}
	// The page and its data asked Strava once; the cache has the answer.
	if n := e.strava.count("1001"); n != 1 {
		t.Errorf("Strava asked %d times for activity 1001, want 1", n)
	}
	if _, _, err := e.store.Streams(context.Background(), StravaSink, "1001"); err != nil {
		t.Errorf("streams not cached: %v", err)
	}
	// A new server on the same store does not ask Strava again.
	other := newFakeStrava()
	srv, err := New(Options{Store: e.store, Cache: e.store, Band: fakeBand{}, Strava: other, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	rec := httptestGet(t, srv, path)
	if rec != http.StatusOK || other.count("1001") != 0 {
		t.Errorf("second server: status %d, %d Strava calls, want 200 and none", rec, other.count("1001"))
	}
}

func TestWorkoutPageWithoutStrava(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Strava, o.Band = nil, nil })
	_, body := e.get(t, fmt.Sprintf("/workouts/%d", e.workoutID(t, 6)))
	for _, want := range []string{"could not be fetched", "only its summary is shown"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	resp, _ := e.get(t, "/workouts/999999")
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown workout: %s", resp.Status)
	}
	resp, _ = e.get(t, "/workouts/abc/data.json")
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("bad workout ID: %s", resp.Status)
	}
}

func httptestGet(t *testing.T, srv *Server, path string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://127.0.0.1"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := &recorder{h: http.Header{}}
	srv.Handler().ServeHTTP(w, req)
	return w.code
}

type recorder struct {
	h    http.Header
	code int
}

func (r *recorder) Header() http.Header { return r.h }
func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return len(b), nil
}
func (r *recorder) WriteHeader(c int) { r.code = c }

// post sends a form to path without following redirects.
func (e *env) post(t *testing.T, path string, form url.Values, header http.Header) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.http.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	c := *e.http.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestSyncNowAndRetry(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.token(t)
	resp := e.post(t, "/sync", url.Values{"csrf": {tok}}, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/?done=sync" {
		t.Fatalf("POST /sync: %s to %q", resp.Status, resp.Header.Get("Location"))
	}
	select {
	case <-e.synced:
	case <-time.After(5 * time.Second):
		t.Fatal("SyncNow was not called")
	}
	resp = e.post(t, "/retry", url.Values{"csrf": {tok}}, nil)
	if loc := resp.Header.Get("Location"); loc != "/?done=retry&n=1" {
		t.Fatalf("POST /retry: %s to %q, want one failed delivery reopened", resp.Status, loc)
	}
	_, body := e.get(t, "/?done=retry&n=1")
	if !strings.Contains(body, "1 failed deliveries will be tried again") {
		t.Error("no message after retry")
	}
	if c, _ := e.store.Counts(context.Background()); c[StravaSink].States[store.Failed] != 0 {
		t.Error("the failed delivery is still failed")
	}
}

func TestEventsStreamProgress(t *testing.T) {
	e := newEnv(t, nil)
	feed := e.srv.opt.Feed
	feed.Report(progress.Event{Time: testNow, Kind: progress.Start, Phase: progress.Listing, Total: -1})
	feed.Report(progress.Event{Time: testNow, Kind: progress.End, Phase: progress.Listing, Done: 8, Total: 8})
	resp, err := e.http.Client().Get(e.http.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "data: ") {
				lines <- strings.TrimPrefix(sc.Text(), "data: ")
			}
		}
		close(lines)
	}()
	next := func() string {
		select {
		case l := <-lines:
			return l
		case <-time.After(5 * time.Second):
			t.Fatal("no event")
		}
		return ""
	}
	if l := next(); !strings.Contains(l, `"event":"end"`) || !strings.Contains(l, `"phase":"listing"`) || !strings.Contains(l, `"done":8`) {
		t.Errorf("first event %s, want the listing's end so far", l)
	}
	feed.Report(progress.Event{Time: testNow, Kind: progress.Item, Phase: progress.Uploading, Done: 1, Total: 3, Item: "zepp-1", Outcome: "created"})
	if l := next(); !strings.Contains(l, `"workout":"zepp-1"`) || !strings.Contains(l, `"outcome":"created"`) {
		t.Errorf("live event %s", l)
	}
}

// Stopping the dashboard while a page still holds its event stream open is
// a clean stop: Serve returns nil.
func TestServeStopsWithAPageOpen(t *testing.T) {
	e := newEnv(t, nil)
	ln, err := e.srv.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ctx, ln) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve = %v, want nil after a requested stop", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Serve did not return")
	}
}
