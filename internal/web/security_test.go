package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

func TestCheckAddr(t *testing.T) {
	for _, tt := range []struct {
		addr     string
		remote   bool
		password string
		ok       bool
	}{
		{"127.0.0.1:8270", false, "", true},
		{"[::1]:8270", false, "", true},
		{"localhost:0", false, "", true},
		{"127.3.2.1:80", false, "", true},
		{"0.0.0.0:8270", false, "", false},
		{":8270", false, "", false},
		{"192.168.1.5:8270", false, "", false},
		{"0.0.0.0:8270", true, "", false},
		{"0.0.0.0:8270", false, "pw", false},
		{"0.0.0.0:8270", true, "pw", true},
		{"no-port", false, "", false},
	} {
		err := CheckAddr(tt.addr, tt.remote, tt.password)
		if (err == nil) != tt.ok {
			t.Errorf("CheckAddr(%q, remote %v, password %q) = %v, want ok %v", tt.addr, tt.remote, tt.password, err, tt.ok)
		}
	}
}

func TestListenRefusesEveryInterface(t *testing.T) {
	e := newEnv(t, nil)
	if ln, err := e.srv.Listen("0.0.0.0:0"); err == nil {
		ln.Close()
		t.Fatal("Listen on 0.0.0.0 without AllowRemote succeeded")
	}
	if _, err := New(Options{Store: e.store, AllowRemote: true}); err == nil {
		t.Fatal("New with AllowRemote and no password succeeded")
	}
	ln, err := e.srv.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatalf("Listen on loopback: %v", err)
	}
	ln.Close()
}

func TestCSRF(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.token(t)
	for name, tt := range map[string]struct {
		form   url.Values
		header http.Header
	}{
		"no token":      {url.Values{}, nil},
		"wrong token":   {url.Values{"csrf": {strings.Repeat("0", len(tok))}}, nil},
		"short token":   {url.Values{"csrf": {tok[:10]}}, nil},
		"other origin":  {url.Values{"csrf": {tok}}, http.Header{"Origin": {"https://evil.example"}}},
		"cross site":    {url.Values{"csrf": {tok}}, http.Header{"Sec-Fetch-Site": {"cross-site"}}},
		"opaque origin": {url.Values{"csrf": {tok}}, http.Header{"Origin": {"null"}}},
	} {
		for _, path := range []string{"/sync", "/retry"} {
			if resp := e.post(t, path, tt.form, tt.header); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s: POST %s: %s, want 403", name, path, resp.Status)
			}
		}
	}
	select {
	case <-e.synced:
		t.Fatal("a refused POST started a sync")
	default:
	}
	if resp := e.post(t, "/retry", url.Values{"csrf": {tok}}, http.Header{"Origin": {e.http.URL}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("POST with the token from this origin: %s", resp.Status)
	}
}

func TestHostCheck(t *testing.T) {
	e := newEnv(t, nil)
	req, _ := http.NewRequest(http.MethodGet, e.http.URL+"/", nil)
	req.Host = "attacker.example:8270"
	resp, err := e.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("foreign Host header: %s, want 421", resp.Status)
	}
}

func TestBasicAuth(t *testing.T) {
	const password = "correct horse battery"
	e := newEnv(t, func(o *Options) { o.AllowRemote, o.Password = true, password })
	resp, body := e.get(t, "/")
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("no credentials: %s", resp.Status)
	}
	if strings.Contains(body, password) {
		t.Fatal("the password is on the refusal page")
	}
	for _, tt := range []struct {
		user, pass string
		want       int
	}{
		{"bandsync", password, http.StatusOK},
		{"bandsync", "wrong", http.StatusUnauthorized},
		{"admin", password, http.StatusUnauthorized},
	} {
		req, _ := http.NewRequest(http.MethodGet, e.http.URL+"/", nil)
		req.SetBasicAuth(tt.user, tt.pass)
		resp, err := e.http.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s/%s: %s, want %d", tt.user, tt.pass, resp.Status, tt.want)
		}
	}
}

// everyPage lists every page and data URL the dashboard serves over the
// seeded ledger.
func everyPage(t *testing.T, e *env) []string {
	paths := []string{"/", "/workouts", "/workouts?state=failed", "/?done=sync", "/?done=retry&n=3", "/workouts/999"}
	for i := range seeds {
		id := e.workoutID(t, i)
		paths = append(paths, fmt.Sprintf("/workouts/%d", id), fmt.Sprintf("/workouts/%d/data.json", id))
	}
	return paths
}

func TestPagesShowNoSecretAndRunNoInlineScript(t *testing.T) {
	const password = "pw-that-must-not-show-9c1e"
	e := newEnv(t, func(o *Options) { o.Password = password })
	// Make the fake Strava fail for one activity with its token in the
	// error, as a careless client might.
	e.strava.mu.Lock()
	e.strava.failFor = map[string]bool{"1003": true}
	e.strava.mu.Unlock()
	for _, path := range everyPage(t, e) {
		req, _ := http.NewRequest(http.MethodGet, e.http.URL+path, nil)
		req.SetBasicAuth("bandsync", password)
		resp, err := e.http.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		doc, err := html.Parse(teeReader{resp.Body, &b})
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		body := b.String()
		for _, secret := range []string{secretToken, password} {
			if strings.Contains(body, secret) {
				t.Errorf("%s shows a secret", path)
			}
		}
		csp := resp.Header.Get("Content-Security-Policy")
		for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "default-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %s", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "http") {
			t.Errorf("%s: CSP %q allows inline code or another origin", path, csp)
		}
		if resp.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: X-Frame-Options %q", path, resp.Header.Get("X-Frame-Options"))
		}
		checkNoInlineScript(t, path, doc)
	}
	if e.strava.count("1003") == 0 {
		t.Error("the failing Strava fetch was never tried: the test proves nothing")
	}
}

// checkNoInlineScript fails on a <script> with content or without a src
// on this origin, on an inline event handler, and on a javascript: URL.
func checkNoInlineScript(t *testing.T, path string, n *html.Node) {
	t.Helper()
	if n.Type == html.ElementNode {
		if n.Data == "script" {
			src := ""
			for _, a := range n.Attr {
				if a.Key == "src" {
					src = a.Val
				}
			}
			if n.FirstChild != nil || !strings.HasPrefix(src, "/assets/") {
				t.Errorf("%s: inline or foreign script (src %q)", path, src)
			}
		}
		for _, a := range n.Attr {
			if strings.HasPrefix(a.Key, "on") || strings.HasPrefix(strings.TrimSpace(strings.ToLower(a.Val)), "javascript:") || a.Key == "style" {
				t.Errorf("%s: <%s %s=%q> runs or styles inline", path, n.Data, a.Key, a.Val)
			}
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		checkNoInlineScript(t, path, c)
	}
}

type teeReader struct {
	r interface{ Read([]byte) (int, error) }
	b *strings.Builder
}

func (t teeReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.b.Write(p[:n])
	return n, err
}

func TestAssetsServed(t *testing.T) {
	e := newEnv(t, nil)
	for _, path := range []string{"/assets/app.js", "/assets/app.css", "/assets/vendor/uplot/uPlot.iife.min.js", "/assets/vendor/leaflet/leaflet.js", "/assets/vendor/uplot/LICENSE"} {
		resp, body := e.get(t, path)
		if resp.StatusCode != http.StatusOK || len(body) == 0 {
			t.Errorf("GET %s: %s, %d bytes", path, resp.Status, len(body))
		}
	}
	for _, path := range []string{"/assets/package.json", "/assets/update-vendor.sh", "/assets/node_modules/uplot/package.json"} {
		if resp, _ := e.get(t, path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %s, want 404", path, resp.Status)
		}
	}
}
