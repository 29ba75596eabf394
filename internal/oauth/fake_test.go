package oauth_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// events is an ordered log shared by the fake provider and the test store,
// so tests can check what happened before what.
type events struct {
	mu  sync.Mutex
	log []string
}

func (e *events) add(s string) {
	e.mu.Lock()
	e.log = append(e.log, s)
	e.mu.Unlock()
}

func (e *events) list() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.log...)
}

func (e *events) index(s string) int {
	for i, v := range e.list() {
		if v == s {
			return i
		}
	}
	return -1
}

// fakeProvider is a small Strava-like OAuth server: authorization codes
// with PKCE, rotating refresh tokens that die when replaced, deauthorize,
// and one bearer-protected API path. With leaky set, its error bodies echo
// the request form, secrets included, as a careless server might.
type fakeProvider struct {
	t        *testing.T
	srv      *httptest.Server
	ev       *events
	clientID string
	secret   string

	mu        sync.Mutex
	lifetime  time.Duration
	leaky     bool
	deny      bool   // answer error=access_denied
	grant     string // scope to report granted; "" = as requested
	codes     map[string]codeGrant
	access    map[string]time.Time
	refresh   string // the only refresh token that works
	refreshes int
	exchanges int
	seenAuth  url.Values
}

type codeGrant struct {
	challenge, redirect string
}

func newFakeProvider(t *testing.T, ev *events) *fakeProvider {
	p := &fakeProvider{
		t: t, ev: ev, clientID: "4242", secret: "client-secret-" + randHex(8),
		lifetime: 6 * time.Hour, codes: map[string]codeGrant{}, access: map[string]time.Time{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oauth/authorize", p.authorize)
	mux.HandleFunc("POST /oauth/token", p.token)
	mux.HandleFunc("POST /oauth/deauthorize", p.deauthorize)
	mux.HandleFunc("GET /api/v3/athlete", p.athlete)
	mux.HandleFunc("POST /api/v3/uploads", p.athlete) // same check; tests replay bodies
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

func fault(w http.ResponseWriter, status int, resource, field, code string, echo url.Values) {
	body := map[string]any{
		"message": http.StatusText(status),
		"errors":  []map[string]string{{"resource": resource, "field": field, "code": code}},
	}
	if echo != nil {
		body["request"] = echo.Encode()
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func loopbackRedirect(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "http" {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func (p *fakeProvider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seenAuth = q
	if q.Get("client_id") != p.clientID {
		fault(w, 400, "Application", "client_id", "invalid", nil)
		return
	}
	if q.Get("response_type") != "code" {
		fault(w, 400, "Application", "response_type", "invalid", nil)
		return
	}
	redirect := q.Get("redirect_uri")
	if !loopbackRedirect(redirect) {
		fault(w, 400, "Application", "redirect_uri", "invalid", nil)
		return
	}
	back, _ := url.Parse(redirect)
	v := url.Values{"state": {q.Get("state")}}
	switch {
	case p.deny:
		v.Set("error", "access_denied")
	default:
		code := "code-" + randHex(8)
		p.codes[code] = codeGrant{challenge: q.Get("code_challenge"), redirect: redirect}
		v.Set("code", code)
		scope := p.grant
		if scope == "" {
			scope = "read," + q.Get("scope")
		}
		v.Set("scope", scope)
	}
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (p *fakeProvider) issue(w http.ResponseWriter, withAthlete bool) {
	access, refresh := "access-"+randHex(12), "refresh-"+randHex(12)
	exp := time.Now().Add(p.lifetime)
	p.access[access] = exp
	p.refresh = refresh
	body := map[string]any{
		"token_type": "Bearer", "access_token": access, "refresh_token": refresh,
		"expires_at": exp.Unix(), "expires_in": int(p.lifetime / time.Second),
	}
	if withAthlete {
		body["athlete"] = map[string]any{"id": 134815, "firstname": "Ada", "lastname": "Runner"}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

func (p *fakeProvider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		fault(w, 400, "Request", "body", "invalid", nil)
		return
	}
	f := r.PostForm
	p.mu.Lock()
	defer p.mu.Unlock()
	var echo url.Values
	if p.leaky {
		echo = f
	}
	if f.Get("client_id") != p.clientID || f.Get("client_secret") != p.secret {
		fault(w, 401, "Application", "client_secret", "invalid", echo)
		return
	}
	switch f.Get("grant_type") {
	case "authorization_code":
		g, ok := p.codes[f.Get("code")]
		delete(p.codes, f.Get("code")) // single use
		sum := sha256.Sum256([]byte(f.Get("code_verifier")))
		switch {
		case !ok:
			fault(w, 400, "AuthorizationCode", "code", "invalid", echo)
		case g.challenge != "" && base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
			fault(w, 400, "AuthorizationCode", "code_verifier", "invalid", echo)
		case f.Get("redirect_uri") != "" && f.Get("redirect_uri") != g.redirect:
			fault(w, 400, "Application", "redirect_uri", "invalid", echo)
		default:
			p.exchanges++
			p.issue(w, true)
		}
	case "refresh_token":
		if p.refresh == "" || f.Get("refresh_token") != p.refresh {
			fault(w, 400, "RefreshToken", "refresh_token", "invalid", echo)
			return
		}
		p.refreshes++
		p.ev.add("refresh")
		p.issue(w, false) // rotates: the old refresh token stops working
	default:
		fault(w, 400, "Request", "grant_type", "invalid", echo)
	}
}

func (p *fakeProvider) deauthorize(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.access[r.PostForm.Get("access_token")]; !ok {
		fault(w, 401, "Athlete", "access_token", "invalid", nil)
		return
	}
	p.revokeLocked()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{}`))
}

func (p *fakeProvider) revokeLocked() {
	p.access = map[string]time.Time{}
	p.refresh = ""
}

// expireAccess ends every access token now, unknown to clients.
func (p *fakeProvider) expireAccess() {
	p.mu.Lock()
	for k := range p.access {
		p.access[k] = time.Now().Add(-time.Second)
	}
	p.mu.Unlock()
}

func (p *fakeProvider) revoke() {
	p.mu.Lock()
	p.revokeLocked()
	p.mu.Unlock()
}

func (p *fakeProvider) athlete(w http.ResponseWriter, r *http.Request) {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	p.ev.add("api:" + tok)
	if r.Method == http.MethodPost {
		b, _ := io.ReadAll(r.Body)
		p.ev.add("body:" + string(b))
	}
	p.mu.Lock()
	exp, ok := p.access[tok]
	p.mu.Unlock()
	if !ok || time.Now().After(exp) {
		fault(w, 401, "Athlete", "access_token", "invalid", nil)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"id":134815}`))
}

func (p *fakeProvider) counts() (exchanges, refreshes int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exchanges, p.refreshes
}

func (p *fakeProvider) currentRefresh() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refresh
}
