// Package oauth runs the OAuth2 authorization-code flow for Strava (and any
// provider with Strava's quirks) from a terminal: a loopback callback on
// 127.0.0.1, a random state, PKCE, comma-separated scopes and client
// credentials in the form body. It keeps the tokens in a tokenstore.Store
// and refreshes them before they expire, persisting a rotated refresh token
// before the new access token is used.
//
// Secrets never appear in errors, logs or fmt output: Token redacts itself,
// and errors from the token endpoint are rebuilt without the response body.
package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/bandsync/bandsync/internal/errclass"
)

// Strava's OAuth endpoints (strava-api.md §0, §1). The token endpoint is
// the one the authorization page documents; /api/v3/oauth/token works too.
const (
	StravaAuthURL   = "https://www.strava.com/oauth/authorize"
	StravaTokenURL  = "https://www.strava.com/oauth/token"
	StravaDeauthURL = "https://www.strava.com/oauth/deauthorize"
)

// StravaScopes are the scopes bandsync asks Strava for: activity:write to
// upload and edit, activity:read_all to see "Only You" activities when
// deduplicating.
var StravaScopes = []string{"activity:write", "activity:read_all"}

// DefaultReAuthHint is what a person is told to do when the grant is gone.
const DefaultReAuthHint = "run bandsync auth strava"

// Endpoint is where a provider's OAuth pages live.
type Endpoint struct {
	AuthURL   string // GET, the consent page
	TokenURL  string // POST, both grants
	DeauthURL string // POST with access_token; empty when the provider has none
}

// StravaEndpoint returns Strava's endpoints, or those under baseURL when it
// is not empty (BANDSYNC_STRAVA_URL: one base serving /oauth/authorize,
// /oauth/token and /oauth/deauthorize, as the emulator does).
func StravaEndpoint(baseURL string) (Endpoint, error) {
	if baseURL == "" {
		return Endpoint{AuthURL: StravaAuthURL, TokenURL: StravaTokenURL, DeauthURL: StravaDeauthURL}, nil
	}
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return Endpoint{}, errclass.Usagef("Strava base URL %q: want an absolute http(s) URL such as http://127.0.0.1:8271", baseURL)
	}
	base := strings.TrimRight(u.String(), "/")
	return Endpoint{
		AuthURL:   base + "/oauth/authorize",
		TokenURL:  base + "/oauth/token",
		DeauthURL: base + "/oauth/deauthorize",
	}, nil
}

// Config is an OAuth client: the app's credentials and the provider.
type Config struct {
	ClientID     string
	ClientSecret string
	Endpoint     Endpoint
	// Scopes are sent comma-separated, as Strava wants; nil means StravaScopes.
	Scopes []string
	// HTTPClient makes the token and deauthorize calls; nil means
	// http.DefaultClient. It must not add an Authorization header.
	HTTPClient *http.Client
	// ReAuthHint is the hint on errors that need a new authorization;
	// empty means DefaultReAuthHint.
	ReAuthHint string
}

func (c *Config) scopes() []string {
	if c.Scopes == nil {
		return StravaScopes
	}
	return c.Scopes
}

func (c *Config) hint() string {
	if c.ReAuthHint == "" {
		return DefaultReAuthHint
	}
	return c.ReAuthHint
}

func (c *Config) check() error {
	if c.ClientID == "" || c.ClientSecret == "" {
		return errclass.Usagef("the API app's client ID and client secret are both needed (config file, BANDSYNC_STRAVA_CLIENT_ID/BANDSYNC_STRAVA_CLIENT_SECRET, or --client-id and --client-secret-stdin)")
	}
	if c.Endpoint.AuthURL == "" || c.Endpoint.TokenURL == "" {
		return errclass.Usagef("OAuth endpoint not configured")
	}
	return nil
}

// oauth2Config is the x/oauth2 view of c. Scopes stay empty there because
// x/oauth2 joins them with spaces; callers add the comma-joined scope.
func (c *Config) oauth2Config(redirectURL string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		RedirectURL:  redirectURL,
		Endpoint: oauth2.Endpoint{
			AuthURL:  c.Endpoint.AuthURL,
			TokenURL: c.Endpoint.TokenURL,
			// Strava wants the credentials in the form body; this also
			// avoids x/oauth2's probing round trip.
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
}

func (c *Config) context(ctx context.Context) context.Context {
	if c.HTTPClient != nil {
		return context.WithValue(ctx, oauth2.HTTPClient, c.HTTPClient)
	}
	return ctx
}

// Token is a stored grant. Its String, GoString and Format methods never
// show the access or refresh token, so it can be logged and printed.
type Token struct {
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token"`
	TokenType    string    `json:"token_type,omitempty"`
	Expiry       time.Time `json:"expiry"`
	// Scope is what the person granted, comma-separated, when the provider
	// said (Strava does, on the callback).
	Scope string `json:"scope,omitempty"`
	// AthleteID and AthleteName identify the account when the provider
	// returned it with the token (Strava does on the first exchange).
	AthleteID   int64  `json:"athlete_id,omitempty"`
	AthleteName string `json:"athlete_name,omitempty"`
}

// String describes t without its secrets.
func (t Token) String() string {
	var b strings.Builder
	b.WriteString("oauth.Token{")
	if t.AthleteID != 0 {
		fmt.Fprintf(&b, "athlete %d", t.AthleteID)
		if t.AthleteName != "" {
			fmt.Fprintf(&b, " (%s)", t.AthleteName)
		}
		b.WriteString(", ")
	}
	fmt.Fprintf(&b, "expires %s", t.Expiry.UTC().Format(time.RFC3339))
	if t.Scope != "" {
		fmt.Fprintf(&b, ", scope %s", t.Scope)
	}
	b.WriteString(", tokens redacted}")
	return b.String()
}

// GoString is String, so %#v redacts too.
func (t Token) GoString() string { return t.String() }

// Format makes every verb print String: %x or %q would otherwise reach the fields.
func (t Token) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(t.String())) }

// fromOAuth2 converts x/oauth2's token, reading Strava's extras: expires_at
// (authoritative, epoch seconds) and the athlete.
func fromOAuth2(tok *oauth2.Token) *Token {
	t := &Token{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, TokenType: tok.TokenType, Expiry: tok.Expiry}
	if at, ok := number(tok.Extra("expires_at")); ok && at > 0 {
		t.Expiry = time.Unix(int64(at), 0)
	}
	t.Expiry = t.Expiry.UTC().Round(0)
	if a, ok := tok.Extra("athlete").(map[string]any); ok {
		if id, ok := number(a["id"]); ok {
			t.AthleteID = int64(id)
		}
		first, _ := a["firstname"].(string)
		last, _ := a["lastname"].(string)
		t.AthleteName = strings.TrimSpace(first + " " + last)
	}
	return t
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int64:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(n, 64)
		return f, err == nil
	}
	return 0, false
}

// TokenError is a refusal from the token endpoint. Unlike x/oauth2's
// RetrieveError it never holds the response body, which may echo secrets.
type TokenError struct {
	Op     string // "exchange the authorization code", "refresh the access token"
	Status int    // HTTP status; 0 when the server answered 2xx with an error field
	// Code is the OAuth error code (invalid_grant) or Strava's
	// resource/field/code triple (RefreshToken refresh_token invalid).
	Code string
}

func (e *TokenError) Error() string {
	msg := e.Op + ": the server refused"
	if e.Status != 0 {
		msg += fmt.Sprintf(" (HTTP %d %s", e.Status, http.StatusText(e.Status))
		if e.Code != "" {
			msg += "; " + e.Code
		}
		msg += ")"
	} else if e.Code != "" {
		msg += " (" + e.Code + ")"
	}
	return msg
}

// stravaFault is Strava's error body: {"message":..,"errors":[{resource,field,code}]}.
type stravaFault struct {
	Errors []struct {
		Resource string `json:"resource"`
		Field    string `json:"field"`
		Code     string `json:"code"`
	} `json:"errors"`
}

// tokenError turns an error from x/oauth2 into one that is safe to show
// and classified: a refused grant needs a new authorization, 5xx and
// transport failures are retryable. secrets are scrubbed from whatever
// server text survives.
func tokenError(op string, err error, hint string, secrets ...string) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		// Transport errors name the token URL, which holds no secret (the
		// form with the secrets is the body); scrub anyway, keeping the
		// chain so context cancellation and timeouts stay recognisable.
		return &scrubbed{msg: scrub(op+": "+err.Error(), secrets), err: err}
	}
	// Scrub before safeText too: it drops characters and truncates, which
	// could join a secret's pieces or leave a prefix of one.
	te := &TokenError{Op: op, Code: safeText(scrub(re.ErrorCode, secrets))}
	if re.Response != nil {
		te.Status = re.Response.StatusCode
	}
	if te.Code == "" {
		var f stravaFault
		if json.Unmarshal(re.Body, &f) == nil && len(f.Errors) > 0 {
			e := f.Errors[0]
			te.Code = safeText(scrub(strings.TrimSpace(e.Resource+" "+e.Field+" "+e.Code), secrets))
		}
	}
	te.Code = scrub(te.Code, secrets)
	switch {
	case te.Code == "invalid_grant" || te.Status == http.StatusBadRequest || te.Status == http.StatusUnauthorized || te.Status == http.StatusForbidden:
		return errclass.Auth(te, hint)
	case te.Status == http.StatusTooManyRequests || te.Status >= 500:
		var h http.Header
		if re.Response != nil {
			h = re.Response.Header
		}
		return errclass.FromStatus(te.Status, h, te)
	}
	return errclass.Fatal(te)
}

// scrubbed is err with a message cleaned of secrets.
type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }

// safeText keeps a short run of harmless characters from server text.
func safeText(s string) string {
	const max = 80
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= max {
			b.WriteString("…")
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune(" _-:.,", r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// scrub replaces every non-empty secret in s.
func scrub(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}
