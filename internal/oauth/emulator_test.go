package oauth_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	emulator "github.com/bandsync/bandsync/internal/emulator/strava"
	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/oauth"
	"github.com/bandsync/bandsync/internal/tokenstore"
)

// startEmulator serves the Strava emulator on loopback and returns the
// client config aimed at it, as BANDSYNC_STRAVA_URL would.
func startEmulator(t *testing.T, opt emulator.Options) (*emulator.Server, *httptest.Server, oauth.Config) {
	t.Helper()
	em := emulator.New(opt)
	srv := httptest.NewServer(em)
	t.Cleanup(srv.Close)
	ep, err := oauth.StravaEndpoint(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return em, srv, oauth.Config{ClientID: em.ClientID(), ClientSecret: em.ClientSecret(), Endpoint: ep}
}

func getAthlete(t *testing.T, c *http.Client, base string) (int, string, error) {
	t.Helper()
	resp, err := c.Get(base + "/api/v3/athlete")
	if err != nil {
		return 0, "", err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(b), nil
}

// The whole life of a grant against the emulator: authorize through the
// printed URL, store, use, refresh with rotation, log out.
func TestEmulatorGrantLifecycle(t *testing.T) {
	em, srv, cfg := startEmulator(t, emulator.Options{})
	br := newBrowser(t, nil)
	tok, err := oauth.Authorize(t.Context(), cfg, oauth.AuthorizeOptions{Stderr: br, NoBrowser: true, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	if status, page := br.result(t); status != 200 || !strings.Contains(page, "close this tab") {
		t.Errorf("callback page %d %q", status, page)
	}
	if tok.AthleteID != em.AthleteID() || tok.AthleteName == "" {
		t.Errorf("athlete %d %q", tok.AthleteID, tok.AthleteName)
	}

	dir := t.TempDir()
	store := &tokenstore.FileStore{Dir: dir}
	if err := oauth.Save(t.Context(), store, "strava", tok); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "strava.json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v", fi, err)
	}

	ts := oauth.NewTokenSource(cfg, store, oauth.TokenSourceOptions{})
	c := ts.Client(nil)
	if status, _, err := getAthlete(t, c, srv.URL); err != nil || status != 200 {
		t.Fatalf("API call: %d %v", status, err)
	}

	// Six hours later: the access token is dead, the refresh rotates.
	em.ExpireAccessTokens()
	ts = oauth.NewTokenSource(cfg, store, oauth.TokenSourceOptions{})
	c = ts.Client(nil)
	if status, _, err := getAthlete(t, c, srv.URL); err != nil || status != 200 {
		t.Fatalf("API call after expiry: %d %v", status, err)
	}
	now, err := oauth.Load(t.Context(), store, "strava", "")
	if err != nil {
		t.Fatal(err)
	}
	if now.RefreshToken == tok.RefreshToken || now.AccessToken == tok.AccessToken {
		t.Error("refresh did not rotate or was not saved")
	}
	// The emulator killed the old refresh token: a source still holding it
	// (a stale copy of the file) must be told to re-authorize.
	stale := &tokenstore.FileStore{Dir: t.TempDir()}
	expired := *tok
	expired.Expiry = time.Now().Add(-time.Minute)
	_ = oauth.Save(t.Context(), stale, "strava", &expired)
	_, err = oauth.NewTokenSource(cfg, stale, oauth.TokenSourceOptions{}).Token(t.Context())
	if !errors.Is(err, errclass.ErrReAuth) || errclass.HintOf(err) != "run bandsync auth strava" {
		t.Errorf("old refresh token: err = %v", err)
	}

	out := []string{br.printed()}
	if err != nil {
		out = append(out, err.Error())
	}
	noSecrets(t, out, tok.AccessToken, tok.RefreshToken, now.AccessToken, now.RefreshToken, cfg.ClientSecret)

	if err := ts.Logout(t.Context()); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if status, _, _ := getAthlete(t, http.DefaultClient, srv.URL); status != http.StatusUnauthorized {
		t.Errorf("unauthenticated call answered %d", status)
	}
	if _, err := ts.Token(t.Context()); errclass.ClassOf(err) != errclass.ReAuth {
		t.Errorf("after logout: %v", err)
	}
}

func TestEmulatorRevokedGrant(t *testing.T) {
	em, srv, cfg := startEmulator(t, emulator.Options{})
	access, refresh, exp := em.IssueToken("activity:write,activity:read_all")
	store := &tokenstore.FileStore{Dir: t.TempDir()}
	_ = oauth.Save(t.Context(), store, "strava", &oauth.Token{AccessToken: access, RefreshToken: refresh, Expiry: exp})
	em.Revoke()
	em.ExpireAccessTokens()
	c := oauth.NewTokenSource(cfg, store, oauth.TokenSourceOptions{}).Client(nil)
	_, _, err := getAthlete(t, c, srv.URL)
	if errclass.ClassOf(err) != errclass.ReAuth || errclass.HintOf(err) != "run bandsync auth strava" {
		t.Fatalf("err = %v (class %v)", err, errclass.ClassOf(err))
	}
	noSecrets(t, []string{err.Error()}, access, refresh, cfg.ClientSecret)
}

func TestEmulatorWrongStateAndScopes(t *testing.T) {
	_, _, cfg := startEmulator(t, emulator.Options{})
	br := newBrowser(t, func(u *url.URL) {
		q := u.Query()
		q.Set("state", "attacker")
		u.RawQuery = q.Encode()
	})
	if _, err := oauth.Authorize(t.Context(), cfg, oauth.AuthorizeOptions{Stderr: br, NoBrowser: true, Timeout: 10 * time.Second}); !errors.Is(err, oauth.ErrStateMismatch) {
		t.Errorf("wrong state: %v", err)
	}

	_, _, cfg = startEmulator(t, emulator.Options{UncheckScopes: []string{"activity:read_all"}})
	br = newBrowser(t, nil)
	_, err := oauth.Authorize(t.Context(), cfg, oauth.AuthorizeOptions{Stderr: br, NoBrowser: true, Timeout: 10 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "activity:read_all") {
		t.Errorf("unticked scope: %v", err)
	}
}

func TestEmulatorRefusesNonLoopbackRedirect(t *testing.T) {
	em, srv, _ := startEmulator(t, emulator.Options{})
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for redirect, want := range map[string]int{
		"http://evil.example/callback":     http.StatusBadRequest,
		"http://10.0.0.1:5000/callback":    http.StatusBadRequest,
		"http://127.0.0.1:5000/callback":   http.StatusFound,
		"http://localhost:5000/callback":   http.StatusFound,
		"http://127.0.0.1.nip.io/callback": http.StatusBadRequest,
	} {
		q := url.Values{"client_id": {em.ClientID()}, "response_type": {"code"}, "redirect_uri": {redirect},
			"scope": {"activity:write,activity:read_all"}, "state": {"s"}}
		resp, err := c.Get(srv.URL + "/oauth/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", redirect, resp.StatusCode, want)
		}
	}
}
