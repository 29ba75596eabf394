package oauth_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/oauth"
	"github.com/bandsync/bandsync/internal/tokenstore"
)

const prompt = "Open this URL to authorize: "

// browser stands in for a person's browser: it watches what Authorize
// prints and follows the printed URL, optionally tampering with the
// redirect back to bandsync.
type browser struct {
	t      *testing.T
	tamper func(callback *url.URL) // nil follows the redirect untouched

	mu     sync.Mutex
	out    bytes.Buffer
	status int
	page   string
	done   chan struct{}
}

func newBrowser(t *testing.T, tamper func(*url.URL)) *browser {
	return &browser{t: t, tamper: tamper, done: make(chan struct{})}
}

// Write is the stderr Authorize prints to.
func (b *browser) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.out.Write(p)
	for line := range strings.Lines(b.out.String()) {
		if u, ok := strings.CutPrefix(strings.TrimSpace(line), prompt); ok && b.status == 0 {
			b.status = -1
			go b.follow(u)
		}
	}
	return len(p), nil
}

func (b *browser) follow(authURL string) {
	defer close(b.done)
	c := &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if b.tamper != nil && req.URL.Path == "/callback" {
			b.tamper(req.URL)
		}
		return nil
	}}
	resp, err := c.Get(authURL)
	if err != nil {
		b.t.Errorf("browser: %v", err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	b.mu.Lock()
	b.status, b.page = resp.StatusCode, string(body)
	b.mu.Unlock()
}

func (b *browser) result(t *testing.T) (int, string) {
	t.Helper()
	select {
	case <-b.done:
	case <-time.After(10 * time.Second):
		t.Fatal("browser never finished")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.status, b.page
}

func (b *browser) printed() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.out.String()
}

func config(p *fakeProvider) oauth.Config {
	ep, err := oauth.StravaEndpoint(p.srv.URL)
	if err != nil {
		p.t.Fatal(err)
	}
	return oauth.Config{ClientID: p.clientID, ClientSecret: p.secret, Endpoint: ep}
}

// noSecrets fails the test if any secret shows up in any of texts.
func noSecrets(t *testing.T, texts []string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, txt := range texts {
			if strings.Contains(txt, s) {
				// Quote the text with the secret blanked: test output is output too.
				t.Errorf("a secret leaked into %q", strings.ReplaceAll(txt, s, "<SECRET>"))
			}
		}
	}
}

func TestAuthorizeEndToEnd(t *testing.T) {
	p := newFakeProvider(t, &events{})
	br := newBrowser(t, nil)
	opened := false
	tok, err := oauth.Authorize(t.Context(), config(p), oauth.AuthorizeOptions{
		Stderr: br, NoBrowser: true, Timeout: 10 * time.Second,
		OpenBrowser: func(string) error { opened = true; return nil },
	})
	if err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	if opened {
		t.Error("NoBrowser: the browser was opened anyway")
	}
	status, page := br.result(t)
	if status != 200 || !strings.Contains(page, "close this tab") {
		t.Errorf("callback page: %d %q", status, page)
	}
	if tok.AccessToken == "" || tok.RefreshToken != p.currentRefresh() {
		t.Error("token not from the exchange")
	}
	if tok.AthleteID != 134815 || tok.AthleteName != "Ada Runner" {
		t.Errorf("athlete = %d %q", tok.AthleteID, tok.AthleteName)
	}
	if d := time.Until(tok.Expiry); d < 5*time.Hour || d > 7*time.Hour {
		t.Errorf("expiry in %s, want about 6h", d)
	}
	if !strings.Contains(tok.Scope, "activity:write") {
		t.Errorf("scope = %q", tok.Scope)
	}

	// What the consent URL asked for.
	q := p.seenAuth
	if got := q.Get("scope"); got != "activity:write,activity:read_all" {
		t.Errorf("scope param = %q", got)
	}
	if q.Get("approval_prompt") != "auto" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		t.Errorf("authorize query lacks approval_prompt/PKCE: %v", q)
	}
	if len(q.Get("state")) < 22 { // ≥ 128 bits in base64
		t.Errorf("state %q too short", q.Get("state"))
	}
	ru, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || ru.Scheme != "http" || ru.Hostname() != "127.0.0.1" || ru.Port() == "" || ru.Path != "/callback" {
		t.Errorf("redirect_uri = %q, want http://127.0.0.1:PORT/callback", q.Get("redirect_uri"))
	}

	// Stored as a 0600 file; nothing secret in what was printed or in the
	// token's own formatting.
	dir := t.TempDir()
	store := &tokenstore.FileStore{Dir: dir}
	if err := oauth.Save(t.Context(), store, "strava", tok); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "strava.json"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v, want 0600", fi.Mode().Perm())
	}
	back, err := oauth.Load(t.Context(), store, "strava", "")
	if err != nil || back.RefreshToken != tok.RefreshToken || !back.Expiry.Equal(tok.Expiry) || back.AthleteID != tok.AthleteID {
		t.Errorf("Load = %v, %v", back, err)
	}
	shown := []string{br.printed(), page}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		shown = append(shown, fmt.Sprintf(verb, tok), fmt.Sprintf(verb, *tok))
	}
	noSecrets(t, shown, tok.AccessToken, tok.RefreshToken, p.secret)
}

func TestAuthorizeOpensBrowserAndPrints(t *testing.T) {
	p := newFakeProvider(t, &events{})
	br := newBrowser(t, nil)
	var opened string
	_, err := oauth.Authorize(t.Context(), config(p), oauth.AuthorizeOptions{
		Stderr: br, Timeout: 10 * time.Second,
		OpenBrowser: func(u string) error { opened = u; return errors.New("no display") },
	})
	if err != nil {
		t.Fatalf("Authorize with a failing opener: %v", err)
	}
	if opened == "" || !strings.Contains(br.printed(), prompt+opened) {
		t.Errorf("opened %q; printed %q", opened, br.printed())
	}
}

func TestAuthorizeRefusesWrongState(t *testing.T) {
	for name, tamper := range map[string]func(*url.URL){
		"wrong": func(u *url.URL) {
			q := u.Query()
			q.Set("state", "forged-"+q.Get("state"))
			u.RawQuery = q.Encode()
		},
		"missing": func(u *url.URL) {
			q := u.Query()
			q.Del("state")
			u.RawQuery = q.Encode()
		},
	} {
		t.Run(name, func(t *testing.T) {
			p := newFakeProvider(t, &events{})
			br := newBrowser(t, tamper)
			_, err := oauth.Authorize(t.Context(), config(p), oauth.AuthorizeOptions{Stderr: br, NoBrowser: true, Timeout: 10 * time.Second})
			if !errors.Is(err, oauth.ErrStateMismatch) {
				t.Fatalf("err = %v, want state mismatch", err)
			}
			if !strings.Contains(err.Error(), "run bandsync auth strava again") {
				t.Errorf("err %q lacks the hint", err)
			}
			if status, _ := br.result(t); status != http.StatusBadRequest {
				t.Errorf("callback status %d, want 400", status)
			}
			if ex, _ := p.counts(); ex != 0 {
				t.Errorf("the code was exchanged %d times despite the bad state", ex)
			}
		})
	}
}

func TestAuthorizeDenied(t *testing.T) {
	p := newFakeProvider(t, &events{})
	p.deny = true
	br := newBrowser(t, nil)
	_, err := oauth.Authorize(t.Context(), config(p), oauth.AuthorizeOptions{Stderr: br, NoBrowser: true, Timeout: 10 * time.Second})
	if !errors.Is(err, oauth.ErrAccessDenied) {
		t.Fatalf("err = %v, want access denied", err)
	}
}

func TestAuthorizeMissingScope(t *testing.T) {
	p := newFakeProvider(t, &events{})
	p.grant = "read,activity:read_all" // the person unticked "upload"
	br := newBrowser(t, nil)
	_, err := oauth.Authorize(t.Context(), config(p), oauth.AuthorizeOptions{Stderr: br, NoBrowser: true, Timeout: 10 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "activity:write") {
		t.Fatalf("err = %v, want missing activity:write", err)
	}
	if ex, _ := p.counts(); ex != 0 {
		t.Error("exchanged a code whose grant is too narrow")
	}
}

func TestAuthorizeTimeout(t *testing.T) {
	p := newFakeProvider(t, &events{})
	var out bytes.Buffer
	start := time.Now()
	_, err := oauth.Authorize(t.Context(), config(p), oauth.AuthorizeOptions{Stderr: &out, NoBrowser: true, Timeout: 200 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "no answer") {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Error("timeout not honoured")
	}
	if !strings.HasPrefix(out.String(), prompt+p.srv.URL+"/oauth/authorize?") {
		t.Errorf("printed %q", out.String())
	}
}

func TestAuthorizeCanceled(t *testing.T) {
	p := newFakeProvider(t, &events{})
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err := oauth.Authorize(ctx, config(p), oauth.AuthorizeOptions{NoBrowser: true})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

// The provider must refuse a redirect that leaves the machine; our own URLs
// never carry one (checked in TestAuthorizeEndToEnd).
func TestNonLoopbackRedirectRefused(t *testing.T) {
	p := newFakeProvider(t, &events{})
	for _, redirect := range []string{"http://evil.example/callback", "https://127.0.0.1.evil.example/callback", "http://192.168.1.10:8080/callback"} {
		q := url.Values{"client_id": {p.clientID}, "response_type": {"code"}, "redirect_uri": {redirect}, "scope": {"activity:write"}, "state": {"s"}}
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Get(p.srv.URL + "/oauth/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", redirect, resp.StatusCode)
		}
	}
}

func TestExchangeRefusedIsRedacted(t *testing.T) {
	p := newFakeProvider(t, &events{})
	p.leaky = true
	cfg := config(p)
	cfg.ClientSecret = "wrong-secret-" + randHex(8) // the server echoes it back
	var code string
	br := newBrowser(t, func(u *url.URL) { code = u.Query().Get("code") })
	_, err := oauth.Authorize(t.Context(), cfg, oauth.AuthorizeOptions{Stderr: br, NoBrowser: true, Timeout: 10 * time.Second})
	if err == nil {
		t.Fatal("exchange with a wrong secret succeeded")
	}
	if errclass.ClassOf(err) != errclass.ReAuth {
		t.Errorf("class %v, want re-auth", errclass.ClassOf(err))
	}
	_, page := br.result(t)
	noSecrets(t, []string{err.Error(), fmt.Sprintf("%+v", err), br.printed(), page}, cfg.ClientSecret, code)
	if !strings.Contains(err.Error(), "401") {
		t.Errorf("err %q does not say what the server answered", err)
	}
}

func TestStravaEndpoint(t *testing.T) {
	ep, err := oauth.StravaEndpoint("")
	if err != nil || ep.AuthURL != "https://www.strava.com/oauth/authorize" || ep.TokenURL != "https://www.strava.com/oauth/token" ||
		ep.DeauthURL != "https://www.strava.com/oauth/deauthorize" {
		t.Errorf("default endpoint %+v, %v", ep, err)
	}
	ep, err = oauth.StravaEndpoint("http://127.0.0.1:9/base/")
	if err != nil || ep.TokenURL != "http://127.0.0.1:9/base/oauth/token" || ep.AuthURL != "http://127.0.0.1:9/base/oauth/authorize" {
		t.Errorf("override %+v, %v", ep, err)
	}
	for _, bad := range []string{"127.0.0.1:9", "ftp://x", "http://", "http://h/?q=1"} {
		if _, err := oauth.StravaEndpoint(bad); errclass.ClassOf(err) != errclass.Usage {
			t.Errorf("StravaEndpoint(%q) err = %v, want usage error", bad, err)
		}
	}
}

func TestAuthorizeNeedsCredentials(t *testing.T) {
	_, err := oauth.Authorize(t.Context(), oauth.Config{ClientID: "1"}, oauth.AuthorizeOptions{NoBrowser: true})
	if errclass.ClassOf(err) != errclass.Usage {
		t.Errorf("err = %v, want usage error", err)
	}
}
