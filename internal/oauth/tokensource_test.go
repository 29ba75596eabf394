package oauth_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/oauth"
	"github.com/bandsync/bandsync/internal/tokenstore"
)

// recStore is a file store that logs each Set in the shared event log and
// can be made to fail.
type recStore struct {
	tokenstore.FileStore
	ev   *events
	fail atomic.Bool
}

func (s *recStore) Set(ctx context.Context, name string, v []byte) error {
	if s.fail.Load() {
		return errors.New("disk full")
	}
	if err := s.FileStore.Set(ctx, name, v); err != nil {
		return err
	}
	t, err := oauth.Load(ctx, &s.FileStore, name, "")
	if err != nil {
		return err
	}
	s.ev.add("set:" + t.AccessToken)
	return nil
}

// authorized runs the real flow against p and stores the token, as
// `bandsync auth strava` does.
func authorized(t *testing.T, p *fakeProvider, store tokenstore.Store) *oauth.Token {
	t.Helper()
	br := newBrowser(t, nil)
	tok, err := oauth.Authorize(t.Context(), config(p), oauth.AuthorizeOptions{Stderr: br, NoBrowser: true, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	if err := oauth.Save(t.Context(), store, "strava", tok); err != nil {
		t.Fatal(err)
	}
	return tok
}

// expireStored makes the stored access token expire a minute ago.
func expireStored(t *testing.T, store tokenstore.Store) {
	t.Helper()
	tok, err := oauth.Load(t.Context(), store, "strava", "")
	if err != nil {
		t.Fatal(err)
	}
	tok.Expiry = time.Now().Add(-time.Minute)
	if err := oauth.Save(t.Context(), store, "strava", tok); err != nil {
		t.Fatal(err)
	}
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func callAPI(t *testing.T, c *http.Client, base string) (int, error) {
	t.Helper()
	resp, err := c.Get(base + "/api/v3/athlete")
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

func TestRefreshBeforeExpiry(t *testing.T) {
	ev := &events{}
	p := newFakeProvider(t, ev)
	store := &recStore{FileStore: tokenstore.FileStore{Dir: t.TempDir()}, ev: ev}
	first := authorized(t, p, store)

	clk := &clock{t: time.Now()}
	ts := oauth.NewTokenSource(config(p), store, oauth.TokenSourceOptions{Now: clk.now})
	tok, err := ts.Token(t.Context())
	if err != nil || tok.AccessToken != first.AccessToken {
		t.Fatalf("fresh token not reused: %v", err)
	}
	clk.add(6*time.Hour - 6*time.Minute) // still 6 minutes left
	if tok, _ = ts.Token(t.Context()); tok.AccessToken != first.AccessToken {
		t.Error("refreshed with more than the margin left")
	}
	clk.add(2 * time.Minute) // 4 minutes left: inside the 5-minute margin
	tok, err = ts.Token(t.Context())
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if tok.AccessToken == first.AccessToken || tok.RefreshToken == first.RefreshToken {
		t.Error("no new token after the margin")
	}
	if tok.RefreshToken != p.currentRefresh() {
		t.Error("the rotated refresh token is not the one handed out")
	}
	if tok.AthleteID != first.AthleteID || tok.Scope != first.Scope {
		t.Error("refresh lost the athlete or scope")
	}
	stored, _ := oauth.Load(t.Context(), store, "strava", "")
	if stored.RefreshToken != tok.RefreshToken {
		t.Error("rotated refresh token not persisted")
	}
	if _, refreshes := p.counts(); refreshes != 1 {
		t.Errorf("%d refreshes, want 1", refreshes)
	}
}

func TestRotatedTokenPersistedBeforeUse(t *testing.T) {
	ev := &events{}
	p := newFakeProvider(t, ev)
	p.lifetime = 2 * time.Minute // shorter than the margin: every use refreshes
	store := &recStore{FileStore: tokenstore.FileStore{Dir: t.TempDir()}, ev: ev}
	authorized(t, p, store)
	ts := oauth.NewTokenSource(config(p), store, oauth.TokenSourceOptions{})
	c := ts.Client(nil)
	for range 3 {
		if status, err := callAPI(t, c, p.srv.URL); err != nil || status != 200 {
			t.Fatalf("API call: %d %v", status, err)
		}
	}
	log := ev.list()
	uses := 0
	for i, e := range log {
		tok, ok := strings.CutPrefix(e, "api:")
		if !ok {
			continue
		}
		uses++
		set := ev.index("set:" + tok)
		if set < 0 || set > i {
			t.Errorf("access token used at event %d before its grant was saved (set at %d)", i, set)
		}
	}
	if uses != 3 {
		t.Errorf("%d API uses logged, want 3: %v", uses, len(log))
	}
	if _, refreshes := p.counts(); refreshes != 3 {
		t.Errorf("%d refreshes, want 3", refreshes)
	}
}

func TestPersistFailureKeepsNewTokenUnused(t *testing.T) {
	ev := &events{}
	p := newFakeProvider(t, ev)
	p.lifetime = 2 * time.Minute
	store := &recStore{FileStore: tokenstore.FileStore{Dir: t.TempDir()}, ev: ev}
	first := authorized(t, p, store)
	ts := oauth.NewTokenSource(config(p), store, oauth.TokenSourceOptions{})
	c := ts.Client(nil)

	store.fail.Store(true)
	_, err := callAPI(t, c, p.srv.URL)
	if err == nil || !strings.Contains(err.Error(), "could not be saved") {
		t.Fatalf("err = %v, want a save failure", err)
	}
	if errclass.ClassOf(err) != errclass.Retryable {
		t.Errorf("class %v, want retryable", errclass.ClassOf(err))
	}
	for _, e := range ev.list() {
		if strings.HasPrefix(e, "api:") {
			t.Fatalf("an API request went out with an unsaved token: %v", e)
		}
	}
	if stored, _ := oauth.Load(t.Context(), store, "strava", ""); stored.RefreshToken != first.RefreshToken {
		t.Error("store changed although Set failed")
	}

	// Once the store works again the same refreshed grant is saved and
	// used: no second refresh, whose old refresh token is already dead.
	store.fail.Store(false)
	if status, err := callAPI(t, c, p.srv.URL); err != nil || status != 200 {
		t.Fatalf("after the store recovered: %d %v", status, err)
	}
	if _, refreshes := p.counts(); refreshes != 1 {
		t.Errorf("%d refreshes, want 1", refreshes)
	}
	if stored, _ := oauth.Load(t.Context(), store, "strava", ""); stored.RefreshToken != p.currentRefresh() {
		t.Error("the rotated refresh token was not saved after recovery")
	}
}

func TestRevokedGrantNeedsReAuth(t *testing.T) {
	ev := &events{}
	p := newFakeProvider(t, ev)
	p.leaky = true // the refusal echoes the refresh token and secret
	store := &recStore{FileStore: tokenstore.FileStore{Dir: t.TempDir()}, ev: ev}
	tok := authorized(t, p, store)
	p.revoke()
	clk := &clock{t: time.Now().Add(7 * time.Hour)}
	ts := oauth.NewTokenSource(config(p), store, oauth.TokenSourceOptions{Now: clk.now})
	_, err := ts.Token(t.Context())
	if !errors.Is(err, errclass.ErrReAuth) {
		t.Fatalf("err = %v, want re-auth", err)
	}
	if h := errclass.HintOf(err); h != "run bandsync auth strava" {
		t.Errorf("hint %q", h)
	}
	if !strings.Contains(err.Error(), "RefreshToken refresh_token invalid") {
		t.Errorf("err %q does not say why", err)
	}
	noSecrets(t, []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)}, tok.RefreshToken, tok.AccessToken, p.secret)

	// Through the HTTP client the class survives url.Error wrapping.
	_, err = callAPI(t, ts.Client(nil), p.srv.URL)
	if errclass.ClassOf(err) != errclass.ReAuth {
		t.Errorf("client err class %v", errclass.ClassOf(err))
	}
}

func TestNothingStoredNeedsReAuth(t *testing.T) {
	p := newFakeProvider(t, &events{})
	ts := oauth.NewTokenSource(config(p), &tokenstore.FileStore{Dir: t.TempDir()}, oauth.TokenSourceOptions{})
	if _, err := ts.Token(t.Context()); errclass.ClassOf(err) != errclass.ReAuth || errclass.HintOf(err) == "" {
		t.Errorf("err = %v", err)
	}
}

func TestConcurrentUseRefreshesOnce(t *testing.T) {
	ev := &events{}
	p := newFakeProvider(t, ev)
	store := &recStore{FileStore: tokenstore.FileStore{Dir: t.TempDir()}, ev: ev}
	authorized(t, p, store)
	expireStored(t, store)
	ts := oauth.NewTokenSource(config(p), store, oauth.TokenSourceOptions{})
	var wg sync.WaitGroup
	toks := make([]string, 16)
	for i := range toks {
		wg.Go(func() {
			tok, err := ts.Token(t.Context())
			if err != nil {
				t.Error(err)
				return
			}
			toks[i] = tok.AccessToken
		})
	}
	wg.Wait()
	if _, refreshes := p.counts(); refreshes != 1 {
		t.Errorf("%d refreshes, want 1", refreshes)
	}
	for _, a := range toks {
		if a != toks[0] {
			t.Fatal("goroutines got different tokens")
		}
	}
}

// Another process refreshed (and rotated) the grant: the source must pick
// up the stored token rather than spend its dead refresh token.
func TestPicksUpTokenRefreshedElsewhere(t *testing.T) {
	ev := &events{}
	p := newFakeProvider(t, ev)
	dir := t.TempDir()
	store := &recStore{FileStore: tokenstore.FileStore{Dir: dir}, ev: ev}
	authorized(t, p, store)
	clk := &clock{t: time.Now()}
	a := oauth.NewTokenSource(config(p), store, oauth.TokenSourceOptions{Now: clk.now})
	if _, err := a.Token(t.Context()); err != nil {
		t.Fatal(err)
	}
	expireStored(t, store)
	p.mu.Lock()
	p.lifetime = 12 * time.Hour // b's grant outlives a's cached one
	p.mu.Unlock()
	b := oauth.NewTokenSource(config(p), &tokenstore.FileStore{Dir: dir}, oauth.TokenSourceOptions{})
	bt, err := b.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Token(t.Context()); err != nil {
		t.Fatal(err)
	}
	clk.add(8 * time.Hour) // a's cached token is now due for a refresh
	at, err := a.Token(t.Context())
	if err != nil {
		t.Fatalf("the first source did not pick up the rotated grant: %v", err)
	}
	if at.RefreshToken != bt.RefreshToken {
		t.Error("different grants")
	}
	if _, refreshes := p.counts(); refreshes != 1 {
		t.Errorf("%d refreshes, want 1 (by b only)", refreshes)
	}
}

func TestLogout(t *testing.T) {
	ev := &events{}
	p := newFakeProvider(t, ev)
	store := &recStore{FileStore: tokenstore.FileStore{Dir: t.TempDir()}, ev: ev}
	tok := authorized(t, p, store)
	ts := oauth.NewTokenSource(config(p), store, oauth.TokenSourceOptions{})
	if err := ts.Logout(t.Context()); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if _, err := store.Get(t.Context(), "strava"); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Errorf("token still stored: %v", err)
	}
	if p.currentRefresh() != "" {
		t.Error("grant not revoked at the provider")
	}
	// The old access token no longer works, and logging out again (or a
	// deauthorize with a dead token) is not an error.
	if err := oauth.Deauthorize(t.Context(), config(p), tok.AccessToken); err != nil {
		t.Errorf("Deauthorize with a revoked token: %v", err)
	}
	if err := ts.Logout(t.Context()); err != nil {
		t.Errorf("second Logout: %v", err)
	}
}

func TestLogoutKeepsTokenWhenProviderUnreachable(t *testing.T) {
	ev := &events{}
	p := newFakeProvider(t, ev)
	store := &recStore{FileStore: tokenstore.FileStore{Dir: t.TempDir()}, ev: ev}
	authorized(t, p, store)
	cfg := config(p)
	cfg.Endpoint.DeauthURL = p.srv.URL + "/nowhere" // 404 (the mux refuses POST there)
	ts := oauth.NewTokenSource(cfg, store, oauth.TokenSourceOptions{})
	if err := ts.Logout(t.Context()); err == nil {
		t.Fatal("Logout succeeded although the provider refused")
	}
	if _, err := store.Get(t.Context(), "strava"); err != nil {
		t.Errorf("token dropped after a failed deauthorize: %v", err)
	}
}

// The provider refuses an access token our clock still deems valid: the
// transport refreshes once and replays the request, body included.
func TestRejectedTokenRefreshedAndReplayed(t *testing.T) {
	ev := &events{}
	p := newFakeProvider(t, ev)
	store := &recStore{FileStore: tokenstore.FileStore{Dir: t.TempDir()}, ev: ev}
	authorized(t, p, store)
	c := oauth.NewTokenSource(config(p), store, oauth.TokenSourceOptions{}).Client(nil)
	p.expireAccess()
	resp, err := c.Post(p.srv.URL+"/api/v3/uploads", "text/plain", strings.NewReader("payload"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d after a transparent refresh", resp.StatusCode)
	}
	bodies := 0
	for _, e := range ev.list() {
		if e == "body:payload" {
			bodies++
		}
	}
	if _, refreshes := p.counts(); refreshes != 1 || bodies != 2 {
		t.Errorf("%d refreshes, body sent %d times; want 1 and 2", refreshes, bodies)
	}
}

// Revoked while the access token still looked valid: the API's 401
// becomes the re-auth error rather than a bare 401.
func TestRevokedWhileValid(t *testing.T) {
	ev := &events{}
	p := newFakeProvider(t, ev)
	store := &recStore{FileStore: tokenstore.FileStore{Dir: t.TempDir()}, ev: ev}
	authorized(t, p, store)
	c := oauth.NewTokenSource(config(p), store, oauth.TokenSourceOptions{}).Client(nil)
	p.revoke()
	_, err := callAPI(t, c, p.srv.URL)
	if errclass.ClassOf(err) != errclass.ReAuth || errclass.HintOf(err) != "run bandsync auth strava" {
		t.Fatalf("err = %v", err)
	}
}
