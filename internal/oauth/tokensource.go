package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/tokenstore"
)

// DefaultTokenName is the tokenstore name Strava's grant is kept under.
const DefaultTokenName = "strava"

// DefaultRefreshBefore is how long before expiry a token is refreshed, so a
// request never leaves with a token that dies in flight.
const DefaultRefreshBefore = 5 * time.Minute

// remoteTimeout bounds a refresh or save that runs detached from the
// caller's context (see TokenSource.Token).
const remoteTimeout = 30 * time.Second

// Save stores tok under name as JSON.
func Save(ctx context.Context, store tokenstore.Store, name string, tok *Token) error {
	b, err := json.Marshal(tok)
	if err != nil {
		return fmt.Errorf("encode token: %w", err)
	}
	if err := store.Set(ctx, name, b); err != nil {
		return fmt.Errorf("save the %s token: %w", name, err)
	}
	return nil
}

// Load reads the token stored under name. Nothing stored is a ReAuth
// error with hint.
func Load(ctx context.Context, store tokenstore.Store, name, hint string) (*Token, error) {
	b, err := store.Get(ctx, name)
	if errors.Is(err, tokenstore.ErrNotFound) {
		if hint == "" {
			hint = DefaultReAuthHint
		}
		return nil, errclass.Auth(fmt.Errorf("not authorized: no %s token stored", name), hint)
	}
	if err != nil {
		return nil, fmt.Errorf("read the %s token: %w", name, err)
	}
	var t Token
	if err := json.Unmarshal(b, &t); err != nil || t.RefreshToken == "" && t.AccessToken == "" {
		// Never quote b: it is the secret.
		return nil, errclass.Auth(fmt.Errorf("the stored %s token is unreadable", name), hint)
	}
	return &t, nil
}

// TokenSourceOptions tune a TokenSource.
type TokenSourceOptions struct {
	// Name is the tokenstore name; empty means DefaultTokenName.
	Name string
	// RefreshBefore is how early to refresh; 0 means DefaultRefreshBefore.
	RefreshBefore time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// TokenSource hands out valid access tokens for one stored grant,
// refreshing them before they expire. It is safe for concurrent use; one
// refresh runs at a time.
//
// Refresh tokens rotate (Strava invalidates the old one as soon as it
// issues a new one), so a refreshed token is saved to the store before it
// is returned. When saving fails the new token is not used: Token returns
// the error and tries to save the same token again on the next call.
type TokenSource struct {
	cfg   Config
	store tokenstore.Store
	name  string
	early time.Duration
	now   func() time.Time

	mu      sync.Mutex
	tok     *Token // last token known to be saved
	pending *Token // refreshed but not yet saved: never handed out
	// rejected is an access token the provider refused (401) before its
	// expiry: it is refreshed however long it claims to live.
	rejected string
}

// NewTokenSource returns a TokenSource for the grant stored under
// opts.Name in store.
func NewTokenSource(cfg Config, store tokenstore.Store, opts TokenSourceOptions) *TokenSource {
	s := &TokenSource{cfg: cfg, store: store, name: opts.Name, early: opts.RefreshBefore, now: opts.Now}
	if s.name == "" {
		s.name = DefaultTokenName
	}
	if s.early <= 0 {
		s.early = DefaultRefreshBefore
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// fresh reports whether t can be handed out without refreshing: it lives
// longer than the refresh margin.
func (s *TokenSource) fresh(t *Token) bool {
	return t != nil && t.AccessToken != "" && t.AccessToken != s.rejected &&
		(t.Expiry.IsZero() || s.now().Add(s.early).Before(t.Expiry))
}

// reject marks accessToken as refused by the provider, so the next Token
// call refreshes instead of handing it out again.
func (s *TokenSource) reject(accessToken string) {
	s.mu.Lock()
	s.rejected = accessToken
	s.mu.Unlock()
}

// usable reports whether a token just obtained from the provider can be
// handed out: not yet expired, even if inside the margin (a provider whose
// tokens live shorter than the margin gets a refresh per call, not a loop).
func (s *TokenSource) usable(t *Token) bool {
	return t != nil && t.AccessToken != "" && (t.Expiry.IsZero() || s.now().Before(t.Expiry))
}

// Token returns a token whose access token is valid for at least the
// refresh margin. A grant the provider refuses to refresh (revoked,
// expired) is an errclass.ReAuth error carrying the re-authorization hint.
//
// The refresh request and the save run detached from ctx's cancellation
// (bounded by their own timeout): once the provider has rotated the
// refresh token, abandoning the answer would lose the grant.
func (s *TokenSource) Token(ctx context.Context) (*Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.pending != nil {
		if err := s.savePending(ctx); err != nil {
			return nil, err
		}
		if s.usable(s.tok) {
			return s.copy(), nil
		}
	}
	if s.tok == nil {
		t, err := Load(ctx, s.store, s.name, s.cfg.hint())
		if err != nil {
			return nil, err
		}
		s.tok = t
	}
	if s.fresh(s.tok) {
		return s.copy(), nil
	}
	// Another bandsync process (the daemon, a CLI run) may have refreshed
	// and rotated the grant since we loaded it: its refresh token is the
	// only one that still works.
	if t, err := Load(ctx, s.store, s.name, s.cfg.hint()); err != nil {
		return nil, err
	} else {
		s.tok = t
	}
	if s.fresh(s.tok) {
		return s.copy(), nil
	}
	if s.tok.RefreshToken == "" {
		return nil, errclass.Auth(fmt.Errorf("the %s access token expired and there is no refresh token", s.name), s.cfg.hint())
	}

	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), remoteTimeout)
	defer cancel()
	old := s.tok
	conf := s.cfg.oauth2Config("")
	// Only the refresh token: x/oauth2 would reuse an access token it still
	// deems valid.
	ot, err := conf.TokenSource(s.cfg.context(rctx), &oauth2.Token{RefreshToken: old.RefreshToken}).Token()
	if err != nil {
		return nil, tokenError("refresh the "+s.name+" access token", err, s.cfg.hint(),
			old.RefreshToken, old.AccessToken, s.cfg.ClientSecret)
	}
	nt := fromOAuth2(ot)
	if nt.RefreshToken == "" {
		nt.RefreshToken = old.RefreshToken
	}
	nt.Scope, nt.AthleteID, nt.AthleteName = old.Scope, old.AthleteID, old.AthleteName
	s.pending, s.rejected = nt, ""
	if err := s.savePending(ctx); err != nil {
		return nil, err
	}
	if !s.usable(s.tok) {
		return nil, fmt.Errorf("refresh the %s access token: the server returned a token that has already expired", s.name)
	}
	return s.copy(), nil
}

// savePending saves the refreshed token and makes it current.
func (s *TokenSource) savePending(ctx context.Context) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), remoteTimeout)
	defer cancel()
	if err := Save(sctx, s.store, s.name, s.pending); err != nil {
		return errclass.Retry(fmt.Errorf("the refreshed %s token was not used because it could not be saved (the old refresh token no longer works; bandsync retries the save): %w", s.name, err), 0)
	}
	s.tok, s.pending = s.pending, nil
	return nil
}

func (s *TokenSource) copy() *Token { t := *s.tok; return &t }

// Client returns an HTTP client that sends every request with the current
// access token as a bearer token. base carries the requests; nil means
// http.DefaultTransport.
func (s *TokenSource) Client(base http.RoundTripper) *http.Client {
	if base == nil {
		base = http.DefaultTransport
	}
	return &http.Client{Transport: &Transport{Source: s, Base: base}}
}

// Transport adds the bearer token from Source to each request.
type Transport struct {
	Source *TokenSource
	Base   http.RoundTripper
}

// RoundTrip implements http.RoundTripper. When the provider answers 401 to
// an access token that had not expired by our clock (revoked, or expired
// early on the provider's side), it refreshes once and, if the request's
// body can be replayed, sends it again; a grant the refresh is refused for
// becomes the ReAuth error instead of the 401. A 401 is never the result
// of acting on the request, so sending it again is safe, uploads included.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	tok, err := t.Source.Token(ctx)
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	r := req.Clone(ctx)
	r.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := t.Base.RoundTrip(r)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	t.Source.reject(tok.AccessToken)
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return resp, nil // cannot replay; the next request refreshes
	}
	tok2, err := t.Source.Token(ctx)
	if err != nil {
		drain(resp)
		return nil, err
	}
	if tok2.AccessToken == tok.AccessToken {
		return resp, nil
	}
	drain(resp)
	r = req.Clone(ctx)
	if req.GetBody != nil {
		if r.Body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	r.Header.Set("Authorization", "Bearer "+tok2.AccessToken)
	return t.Base.RoundTrip(r)
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// Logout revokes the grant at the provider (when it has a deauthorize
// endpoint) and deletes the stored token. A grant the provider already
// dropped is not an error. When the provider cannot be reached the token
// is kept, so Logout can be run again.
func (s *TokenSource) Logout(ctx context.Context) error {
	if s.cfg.Endpoint.DeauthURL != "" {
		tok, err := s.Token(ctx)
		switch {
		case errclass.ClassOf(err) == errclass.ReAuth:
			// Nothing left to revoke remotely.
		case err != nil:
			return err
		default:
			if err := Deauthorize(ctx, s.cfg, tok.AccessToken); err != nil {
				return err
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tok, s.pending = nil, nil
	if err := s.store.Delete(ctx, s.name); err != nil {
		return fmt.Errorf("delete the %s token: %w", s.name, err)
	}
	return nil
}

// Deauthorize revokes the grant behind accessToken at the provider: every
// access and refresh token the app holds for that account stops working.
// A token the provider no longer accepts (401) counts as revoked.
func Deauthorize(ctx context.Context, cfg Config, accessToken string) error {
	if cfg.Endpoint.DeauthURL == "" {
		return errors.New("this provider has no deauthorize endpoint")
	}
	form := url.Values{"access_token": {accessToken}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.Endpoint.DeauthURL, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("deauthorize: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hc := cfg.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return &scrubbed{msg: scrub("deauthorize: "+err.Error(), []string{accessToken}), err: err}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode/100 == 2, resp.StatusCode == http.StatusUnauthorized:
		return nil
	}
	return errclass.FromStatus(resp.StatusCode, resp.Header,
		fmt.Errorf("deauthorize: the server answered HTTP %d %s; the token is kept, try again later", resp.StatusCode, http.StatusText(resp.StatusCode)))
}
