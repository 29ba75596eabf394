package oauth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// DefaultTimeout is how long Authorize waits for the browser to come back.
const DefaultTimeout = 5 * time.Minute

// callbackPath is where the provider sends the browser back.
const callbackPath = "/callback"

// ErrStateMismatch is returned when the callback's state is missing or
// wrong: the answer belongs to another request (or to an attacker).
var ErrStateMismatch = errors.New("the authorization answer did not match this request (state mismatch); run bandsync auth strava again")

// ErrAccessDenied is returned when the person declined on the consent page.
var ErrAccessDenied = errors.New("the authorization was declined on the consent page; run bandsync auth strava again and choose Authorize")

// AuthorizeOptions tune Authorize.
type AuthorizeOptions struct {
	// Stderr receives "Open this URL to authorize: <url>", printed in
	// every case. nil discards it.
	Stderr io.Writer
	// NoBrowser leaves opening the URL to the person.
	NoBrowser bool
	// Timeout bounds the wait for the callback; 0 means DefaultTimeout.
	Timeout time.Duration
	// OpenBrowser opens url; nil means the system's opener (xdg-open,
	// open, rundll32). Failures are ignored: the URL is printed anyway.
	OpenBrowser func(url string) error
}

// Authorize runs the authorization-code flow: it listens on a random port
// of 127.0.0.1, prints (and opens) the consent URL with a random state and
// a PKCE challenge, waits for the browser to come back to
// http://127.0.0.1:PORT/callback, checks the state and the granted scopes,
// exchanges the code and returns the token. It does not store the token;
// see Save.
func Authorize(ctx context.Context, cfg Config, opts AuthorizeOptions) (*Token, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	stderr := opts.Stderr
	if stderr == nil {
		stderr = io.Discard
	}

	// Loopback only: the callback carries the code, which must not be
	// reachable from the network.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the authorization callback on 127.0.0.1: %w", err)
	}
	redirectURL := "http://" + ln.Addr().String() + callbackPath

	state, err := randomState()
	if err != nil {
		ln.Close()
		return nil, err
	}
	verifier := oauth2.GenerateVerifier()
	conf := cfg.oauth2Config(redirectURL)
	authURL := conf.AuthCodeURL(state,
		oauth2.S256ChallengeOption(verifier), // harmless where the server ignores PKCE
		oauth2.SetAuthURLParam("scope", strings.Join(cfg.scopes(), ",")),
		oauth2.SetAuthURLParam("approval_prompt", "auto"),
	)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	timer := time.NewTimer(timeout)
	defer timer.Stop()

	cb := &callback{
		ctx:      ctx,
		cfg:      &cfg,
		conf:     conf,
		state:    state,
		verifier: verifier,
		done:     make(chan result, 1),
	}
	srv := &http.Server{Handler: cb, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer scancel()
		_ = srv.Shutdown(sctx)
	}()

	fmt.Fprintf(stderr, "Open this URL to authorize: %s\n", authURL)
	if !opts.NoBrowser {
		open := opts.OpenBrowser
		if open == nil {
			open = openBrowser
		}
		_ = open(authURL) // best effort: the URL is printed
	}

	select {
	case r := <-cb.done:
		return r.tok, r.err
	case <-timer.C:
		return nil, fmt.Errorf("no answer from the browser within %s; run bandsync auth strava again", timeout)
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for the authorization: %w", ctx.Err())
	}
}

func randomState() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make OAuth state: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

type result struct {
	tok *Token
	err error
}

// callback serves the redirect. Only the first answer counts; the flow
// ends with it whether it succeeded or not.
type callback struct {
	ctx      context.Context // the Authorize call's, bounding the exchange
	cfg      *Config
	conf     *oauth2.Config
	state    string
	verifier string
	done     chan result
}

func (c *callback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != callbackPath {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		page(w, http.StatusMethodNotAllowed, "Method not allowed", "")
		return
	}
	q := r.URL.Query()
	got := q.Get("state")
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(c.state)) != 1 {
		page(w, http.StatusBadRequest, "Authorization refused", "This answer does not belong to the request bandsync made. Run bandsync auth strava again.")
		c.finish(nil, ErrStateMismatch)
		return
	}
	if e := q.Get("error"); e != "" {
		err := ErrAccessDenied
		if e != "access_denied" {
			err = fmt.Errorf("the provider refused the authorization (%s); run bandsync auth strava again", safeText(e))
		}
		page(w, http.StatusBadRequest, "Authorization declined", "bandsync was not authorized. You can close this tab.")
		c.finish(nil, err)
		return
	}
	code := q.Get("code")
	if code == "" {
		page(w, http.StatusBadRequest, "Authorization failed", "The answer carried no authorization code. Run bandsync auth strava again.")
		c.finish(nil, errors.New("the authorization answer carried no code; run bandsync auth strava again"))
		return
	}
	// Strava lets the person untick scopes and reports what was granted.
	granted := q.Get("scope")
	if granted != "" {
		if missing := missingScopes(c.cfg.scopes(), granted); len(missing) > 0 {
			page(w, http.StatusBadRequest, "Permissions missing", "bandsync needs "+strings.Join(missing, ", ")+". Run bandsync auth strava again and leave every box ticked.")
			c.finish(nil, fmt.Errorf("the authorization lacks %s (granted: %s); run bandsync auth strava again and leave every box ticked",
				strings.Join(missing, ", "), safeText(granted)))
			return
		}
	}
	tok, err := c.conf.Exchange(c.cfg.context(c.ctx), code, oauth2.VerifierOption(c.verifier))
	if err != nil {
		page(w, http.StatusBadGateway, "Authorization failed", "The code could not be exchanged for a token; bandsync printed why. You can close this tab.")
		c.finish(nil, tokenError("exchange the authorization code", err, c.cfg.hint(), code, c.cfg.ClientSecret, c.verifier))
		return
	}
	t := fromOAuth2(tok)
	t.Scope = granted
	page(w, http.StatusOK, "bandsync is authorized", "You can close this tab and return to the terminal.")
	c.finish(t, nil)
}

func (c *callback) finish(tok *Token, err error) {
	select {
	case c.done <- result{tok, err}:
	default: // an answer was already taken
	}
}

// missingScopes lists the wanted scopes absent from the granted list. A
// broader grant satisfies a narrower want (activity:read_all covers
// activity:read).
func missingScopes(want []string, granted string) []string {
	have := map[string]bool{}
	for _, s := range strings.FieldsFunc(granted, func(r rune) bool { return r == ',' || r == ' ' }) {
		have[s] = true
		if base, ok := strings.CutSuffix(s, "_all"); ok {
			have[base] = true
		}
	}
	var missing []string
	for _, s := range want {
		if !have[s] {
			missing = append(missing, s)
		}
	}
	return missing
}

func page(w http.ResponseWriter, status int, title, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><meta charset=utf-8><title>%s</title><h1>%s</h1><p>%s</p>\n",
		html.EscapeString(title), html.EscapeString(title), html.EscapeString(body))
}
