// Package stravatest builds Strava sinks bound to a fresh loopback Strava
// emulator, for tests: stravatest.New(t) is enough to run the sink
// conformance suite, NewEnv exposes the emulator, the clock and the options.
package stravatest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	emulator "github.com/bandsync/bandsync/internal/emulator/strava"
	"github.com/bandsync/bandsync/internal/pacer"
	"github.com/bandsync/bandsync/internal/sink/strava"
)

// Scope is the scope bandsync asks for.
const Scope = "read,activity:read_all,activity:write"

// Clock is a fake clock shared by a sink and the emulator: it moves only
// when told, and Sleep moves it instead of waiting.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock showing t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Sleep advances the clock by d at once.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Advance(d)
	return nil
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Config tunes NewEnv. Zero values give an emulator with Strava's
// defaults but a 1 ms processing time, and a sink with DefaultOptions.
type Config struct {
	// Emulator options; its Clock is replaced by Env.Clock when Clock is set.
	Emulator emulator.Options
	// Sink options; BaseURL and HTTPClient are always replaced, Clock by
	// Env.Clock when set, and Pacer defaults to a fast test pacer.
	Sink *strava.Options
	// Clock, when set, drives both the emulator and the sink.
	Clock *Clock
	// Scope granted to the sink's token (default Scope).
	Scope string
}

// Env is a sink bound to an emulator over loopback.
type Env struct {
	Emulator *emulator.Server
	Server   *httptest.Server
	Sink     *strava.Sink
	Clock    *Clock // nil when the real clock runs
	Options  strava.Options
	// Client carries the bearer token; Token is its access token.
	Client *http.Client
	Token  string
}

// New returns a sink bound to a fresh emulator, with a valid token.
func New(t testing.TB) *strava.Sink { return NewEnv(t, Config{}).Sink }

// NewEnv starts an emulator on 127.0.0.1 (closed when the test ends) and
// returns a sink bound to it.
func NewEnv(t testing.TB, cfg Config) *Env {
	t.Helper()
	eo := cfg.Emulator
	if eo.ProcessingDelay == 0 {
		eo.ProcessingDelay = time.Millisecond
	}
	if cfg.Clock != nil {
		eo.Clock = cfg.Clock.Now
	}
	emu := emulator.New(eo)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	scope := cfg.Scope
	if scope == "" {
		scope = Scope
	}
	tok, _, _ := emu.IssueToken(scope)
	client := &http.Client{Transport: &Bearer{Token: tok, Base: srv.Client().Transport}, Timeout: 30 * time.Second}
	opt := strava.DefaultOptions()
	if cfg.Sink != nil {
		opt = *cfg.Sink
	}
	opt.BaseURL, opt.HTTPClient = srv.URL, client
	if cfg.Clock != nil {
		opt.Clock = cfg.Clock
	}
	if opt.Pacer == nil {
		opt.Pacer = FastPacer()
	}
	sk, err := strava.New(opt)
	if err != nil {
		t.Fatalf("stravatest: %v", err)
	}
	return &Env{Emulator: emu, Server: srv, Sink: sk, Clock: cfg.Clock, Options: opt, Client: client, Token: tok}
}

// FastPacer is a pacer that does not slow tests down.
func FastPacer() *pacer.Pacer {
	return pacer.New(pacer.Options{Rate: 10000, Burst: 1000, Concurrency: 8, MaxTries: 3,
		MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond, MaxElapsed: 5 * time.Second})
}

// Bearer is an http.RoundTripper adding "Authorization: Bearer Token".
type Bearer struct {
	Token string
	Base  http.RoundTripper // nil: http.DefaultTransport
}

// RoundTrip implements http.RoundTripper.
func (b *Bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	base := b.Base
	if base == nil {
		base = http.DefaultTransport
	}
	r2 := r.Clone(r.Context())
	r2.Header.Set("Authorization", "Bearer "+b.Token)
	return base.RoundTrip(r2)
}
