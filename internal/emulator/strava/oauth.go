package strava

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/bandsync/bandsync/internal/sink/strava/api"
)

// knownScopes are Strava's OAuth scopes (strava-api.md §1.1).
var knownScopes = []string{"read", "read_all", "profile:read_all", "profile:write", "activity:read", "activity:read_all", "activity:write"}

// codeLifetime bounds an authorization code's life. Strava says only that
// the code "is short lived and can only be used once" (guess: 10 minutes).
const codeLifetime = 10 * time.Minute

type authCode struct {
	redirect  string
	scope     string
	challenge string // PKCE code_challenge, "" when none was sent
	method    string
	expires   time.Time
}

type accessToken struct {
	expires time.Time
	scope   string
}

func (t *accessToken) has(scope string) bool {
	scopes := strings.Split(t.scope, ",")
	if slices.Contains(scopes, scope) {
		return true
	}
	// read_all implies read for activities.
	return scope == "activity:read" && slices.Contains(scopes, "activity:read_all")
}

// IssueToken grants scope (comma-separated, e.g.
// "read,activity:read_all,activity:write") as a completed authorization
// would, and returns the tokens. Tests use it to skip the browser step.
func (s *Server) IssueToken(scope string) (access, refresh string, expires time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.issueLocked(scope, true)
	return t.AccessToken, t.RefreshToken, time.Unix(t.ExpiresAt, 0)
}

// Revoke invalidates every token of the grant, as when the athlete removes
// the app on strava.com: API calls answer 401 and refreshes are refused.
func (s *Server) Revoke() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.access, s.refresh, s.latest = map[string]*accessToken{}, map[string]string{}, ""
}

// ExpireAccessTokens makes every access token expire now, as if its six
// hours had passed; refresh tokens stay valid.
func (s *Server) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for _, t := range s.access {
		t.expires = now
	}
}

func (s *Server) issueLocked(scope string, newRefresh bool) api.TokenResponse {
	now := s.now()
	tok := newToken()
	s.access[tok] = &accessToken{expires: now.Add(s.opt.TokenLifetime), scope: scope}
	s.latest = tok
	var refresh string
	if newRefresh {
		refresh = newToken()
		s.refresh[refresh] = scope
	}
	exp := now.Add(s.opt.TokenLifetime)
	return api.TokenResponse{TokenType: "Bearer", AccessToken: tok, ExpiresAt: exp.Unix(),
		ExpiresIn: int64(s.opt.TokenLifetime / time.Second), RefreshToken: refresh}
}

// authenticate checks the bearer token and the scope a route needs.
func (s *Server) authenticate(r *http.Request, scope string) (*accessToken, *api.Fault) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	s.mu.Lock()
	t := s.access[strings.TrimSpace(tok)]
	now := s.now()
	s.mu.Unlock()
	if !ok || t == nil || !now.Before(t.expires) {
		return nil, &api.Fault{Message: "Authorization Error",
			Errors: []api.FaultError{{Resource: "Athlete", Field: "access_token", Code: "invalid"}}}
	}
	if scope != "" && !t.has(scope) {
		// The write form is documented (§1.1); the read form is the same
		// shape (guess).
		return nil, &api.Fault{Message: "Authorization Error",
			Errors: []api.FaultError{{Resource: "AccessToken", Field: scope + "_permission", Code: "missing"}}}
	}
	return t, nil
}

// loopbackRedirect reports whether u is an http(s) URL on localhost or
// 127.0.0.1, the hosts Strava white-lists. The emulated app's callback
// domain is loopback only; any port is allowed (strava-api.md §1.5: the
// white-list is by host, a guess for the port).
func loopbackRedirect(u string) bool {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") {
		return false
	}
	host := p.Hostname()
	if host == "localhost" || host == "127.0.0.1" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback() && ip.To4() != nil
}

func (s *Server) checkAuthorize(w http.ResponseWriter, q url.Values) (scopes []string, ok bool) {
	if q.Get("client_id") != s.opt.ClientID {
		badRequest(w, "Application", "client_id", "invalid")
		return nil, false
	}
	if !loopbackRedirect(q.Get("redirect_uri")) {
		badRequest(w, "Application", "redirect_uri", "invalid")
		return nil, false
	}
	if q.Get("response_type") != "code" {
		badRequest(w, "Application", "response_type", "invalid")
		return nil, false
	}
	for _, sc := range strings.Split(q.Get("scope"), ",") {
		sc = strings.TrimSpace(sc)
		if sc == "" {
			continue
		}
		if !slices.Contains(knownScopes, sc) {
			badRequest(w, "Authorize", "scope", "invalid") // guess at the body
			return nil, false
		}
		scopes = append(scopes, sc)
	}
	if len(scopes) == 0 {
		badRequest(w, "Authorize", "scope", "invalid")
		return nil, false
	}
	if m := q.Get("code_challenge_method"); q.Get("code_challenge") != "" && m != "" && m != "S256" && m != "plain" {
		badRequest(w, "Authorize", "code_challenge_method", "invalid")
		return nil, false
	}
	return scopes, true
}

// handleAuthorize is GET /oauth/authorize: it approves at once and
// redirects back with code, state and the accepted scopes, or shows a
// consent page when Options.ConsentPage is set.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	scopes, ok := s.checkAuthorize(w, q)
	if !ok {
		return
	}
	if s.opt.ConsentPage {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = consentPage.Execute(w, consentData{Scopes: scopes, Query: q})
		return
	}
	s.approve(w, r, q, scopes)
}

// handleConsent is the consent page's form: Authorize or Cancel.
func (s *Server) handleConsent(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		badRequest(w, "Authorize", "form", "invalid")
		return
	}
	scopes, ok := s.checkAuthorize(w, r.PostForm)
	if !ok {
		return
	}
	if r.PostForm.Get("decision") != "authorize" {
		redirectBack(w, r, r.PostForm, url.Values{"error": {"access_denied"}})
		return
	}
	s.approve(w, r, r.PostForm, scopes)
}

func (s *Server) approve(w http.ResponseWriter, r *http.Request, q url.Values, scopes []string) {
	var granted []string
	for _, sc := range scopes {
		if !slices.Contains(s.opt.UncheckScopes, sc) {
			granted = append(granted, sc)
		}
	}
	code := newToken()
	s.mu.Lock()
	s.codes[code] = &authCode{redirect: q.Get("redirect_uri"), scope: strings.Join(granted, ","),
		challenge: q.Get("code_challenge"), method: q.Get("code_challenge_method"), expires: s.now().Add(codeLifetime)}
	s.mu.Unlock()
	redirectBack(w, r, q, url.Values{"code": {code}, "scope": {strings.Join(granted, ",")}})
}

func redirectBack(w http.ResponseWriter, r *http.Request, q url.Values, add url.Values) {
	u, _ := url.Parse(q.Get("redirect_uri")) // checked by checkAuthorize
	v := u.Query()
	if st := q.Get("state"); st != "" {
		v.Set("state", st)
	}
	for k, vs := range add {
		v[k] = vs
	}
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// handleToken is POST /oauth/token, both grants. Strava documents the
// parameters "in query" and sends them as a form in its examples; both are
// read.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		badRequest(w, "Application", "form", "invalid")
		return
	}
	f := r.Form
	if f.Get("client_id") != s.opt.ClientID {
		badRequest(w, "Application", "client_id", "invalid")
		return
	}
	if subtle.ConstantTimeCompare([]byte(f.Get("client_secret")), []byte(s.opt.ClientSecret)) != 1 {
		writeJSON(w, http.StatusUnauthorized, &api.Fault{Message: "Authorization Error",
			Errors: []api.FaultError{{Resource: "Application", Field: "client_secret", Code: "invalid"}}})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch f.Get("grant_type") {
	case "authorization_code":
		c := s.codes[f.Get("code")]
		delete(s.codes, f.Get("code")) // single use, even when refused below
		if c == nil || !s.now().Before(c.expires) {
			badRequest(w, "AuthorizationCode", "code", "invalid")
			return
		}
		// PKCE: Strava's support for it is unverified; the emulator checks
		// a verifier whenever the authorize request sent a challenge.
		if c.challenge != "" && !pkceMatches(c.challenge, c.method, f.Get("code_verifier")) {
			badRequest(w, "AuthorizationCode", "code_verifier", "invalid")
			return
		}
		t := s.issueLocked(c.scope, true)
		ath := s.athlete
		t.Athlete = &ath
		writeJSON(w, http.StatusOK, t)
	case "refresh_token":
		old := f.Get("refresh_token")
		scope, ok := s.refresh[old]
		if !ok {
			badRequest(w, "RefreshToken", "refresh_token", "invalid")
			return
		}
		// "If the application has an access token for the user that expires
		// in more than one hour, the existing access token will be returned."
		var t api.TokenResponse
		if cur := s.access[s.latest]; cur != nil && cur.expires.Sub(s.now()) > time.Hour {
			t = api.TokenResponse{TokenType: "Bearer", AccessToken: s.latest, ExpiresAt: cur.expires.Unix(),
				ExpiresIn: int64(cur.expires.Sub(s.now()) / time.Second)}
		} else {
			t = s.issueLocked(scope, false)
		}
		if s.opt.KeepRefreshToken {
			t.RefreshToken = old
		} else {
			// "Once a new refresh token is returned, the older refresh
			// token is invalidated immediately."
			delete(s.refresh, old)
			t.RefreshToken = newToken()
			s.refresh[t.RefreshToken] = scope
		}
		writeJSON(w, http.StatusOK, t)
	default:
		badRequest(w, "Application", "grant_type", "invalid")
	}
}

func pkceMatches(challenge, method, verifier string) bool {
	if verifier == "" {
		return false
	}
	want := verifier
	if method != "plain" {
		sum := sha256.Sum256([]byte(verifier))
		want = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(challenge)) == 1
}

// handleDeauthorize is POST /oauth/deauthorize: it invalidates all of the
// athlete's tokens for the app.
func (s *Server) handleDeauthorize(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	tok := r.Form.Get("access_token")
	if tok == "" {
		tok, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	s.mu.Lock()
	t := s.access[tok]
	valid := t != nil && s.now().Before(t.expires)
	if valid {
		s.access, s.refresh, s.latest = map[string]*accessToken{}, map[string]string{}, ""
	}
	s.mu.Unlock()
	if !valid {
		writeJSON(w, http.StatusUnauthorized, &api.Fault{Message: "Authorization Error",
			Errors: []api.FaultError{{Resource: "Athlete", Field: "access_token", Code: "invalid"}}})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"access_token": tok})
}

type consentData struct {
	Scopes []string
	Query  url.Values
}

var consentPage = template.Must(template.New("consent").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Authorize bandsync (Strava emulator)</title>
<style>body{font-family:sans-serif;max-width:32em;margin:3em auto}button{padding:.5em 1.5em;margin-right:1em}</style></head>
<body><h1>Authorize bandsync</h1>
<p>This is bandsync's local Strava emulator. The app asks for:</p>
<ul>{{range .Scopes}}<li><code>{{.}}</code></li>{{end}}</ul>
<form method="post" action="/oauth/authorize">
{{range $k, $vs := .Query}}{{range $vs}}<input type="hidden" name="{{$k}}" value="{{.}}">{{end}}{{end}}
<button name="decision" value="authorize">Authorize</button>
<button name="decision" value="cancel">Cancel</button>
</form></body></html>
`))
