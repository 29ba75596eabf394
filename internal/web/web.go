// Package web is bandsync's local dashboard: how every workout stands on
// every sink, month by month; each workout's track and charts with the
// band's samples laid over Strava's streams, and a table of the figures
// that differ with the reason for each; live progress of a running sync.
//
// It is plain net/http and html/template with every asset embedded, so it
// needs no build step and no network: the map draws tiles only when a tile
// server is configured. It listens on loopback unless told otherwise, and
// then only behind a password; every POST carries a CSRF token; pages run no
// inline script and load nothing from another origin.
package web

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bandsync/bandsync/internal/store"
	"github.com/bandsync/bandsync/internal/web/compare"
	"github.com/bandsync/bandsync/internal/workout"
)

// DefaultAddr is where serve listens unless told otherwise.
const DefaultAddr = "127.0.0.1:8270"

// DefaultStravaURL is the base of the activity links.
const DefaultStravaURL = "https://www.strava.com"

// StravaSink is the sink name whose deliveries link to Strava and get
// compared with its streams.
const StravaSink = "strava"

// Store is what the dashboard reads from the ledger. *store.Store
// satisfies it, opened read-only or read-write.
type Store interface {
	Counts(ctx context.Context) (map[string]store.SinkCounts, error)
	Coverage(ctx context.Context, source string) ([]store.Window, error)
	Workouts(ctx context.Context, f store.Filter) ([]store.WorkoutStatus, int, error)
	Workout(ctx context.Context, id store.WorkoutID) (store.Record, error)
	Delivery(ctx context.Context, wid store.WorkoutID, sink string) (store.Delivery, error)
	MetaTime(ctx context.Context, key string) (time.Time, bool, error)
}

// Cache keeps what Strava returned for an activity, so its streams are
// fetched once: Streams returns the cached bytes or an error matching
// store.ErrNotFound. *store.Store opened read-write satisfies it.
type Cache interface {
	Streams(ctx context.Context, sink, activityID string) ([]byte, time.Time, error)
	PutStreams(ctx context.Context, sink, activityID string, data []byte) error
}

// Band returns the band's own recording of a workout the store knows: its
// samples, pauses and summary (from the archive or the source).
type Band interface {
	Workout(ctx context.Context, rec store.Record) (*workout.Workout, error)
}

// Streams is what Strava holds of an activity: its streams and figures.
type Streams = compare.Streams

// Activity is Strava's summary of an activity, part of Streams.
type Activity = compare.Activity

// Strava fetches an activity's streams and figures from Strava. Each call
// costs Strava requests; the dashboard calls it once per activity and
// keeps the answer in the Cache.
type Strava interface {
	Streams(ctx context.Context, activityID string) (Streams, error)
}

// Options configure a Server. Only Store is required; a missing Band,
// Strava, SyncNow, RetryFailed or Feed hides what it would serve.
type Options struct {
	Store Store
	// Cache keeps Strava's streams between runs (nil: kept in memory only).
	Cache  Cache
	Band   Band
	Strava Strava
	// SyncNow runs one sync; the overview's button starts it in the
	// background, and Feed shows its progress. It must report to Feed.
	SyncNow func(ctx context.Context) error
	// RetryFailed reopens the failed deliveries and says how many.
	RetryFailed func(ctx context.Context) (int, error)
	// Feed broadcasts a running sync's progress to the pages.
	Feed *Feed
	// Sink is the sink the month-by-month coverage shows (default
	// StravaSink).
	Sink string
	// StravaURL is the base of activity links (default DefaultStravaURL;
	// the emulator's URL under BANDSYNC_STRAVA_URL).
	StravaURL string
	// TileURL is a map tile server template such as
	// "https://tile.openstreetmap.org/{z}/{x}/{y}.png"; empty draws the
	// tracks on a blank map and contacts no other server.
	TileURL string
	// TileAttribution is shown on the map with the tiles.
	TileAttribution string
	// AllowRemote permits a non-loopback listening address; it requires
	// Password.
	AllowRemote bool
	// Username and Password, when Password is set, are asked for with
	// HTTP basic auth on every request (username default "bandsync").
	Username, Password string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Log receives what went wrong behind a page (default: discarded).
	Log *slog.Logger
}

// Server is the dashboard. Its Handler is safe for concurrent use.
type Server struct {
	opt       Options
	csrf      string
	pages     map[string]*template.Template
	assets    fs.FS
	tileOrig  string
	handler   http.Handler
	done      chan struct{} // closed when the server shuts down
	closeOnce sync.Once
	syncing   atomic.Bool

	mu      sync.Mutex
	streams map[string]Streams // activity ID → Strava's answer, this run
}

//go:embed templates assets/app.js assets/app.css assets/vendor
var embedded embed.FS

// New checks opt and returns a Server.
func New(opt Options) (*Server, error) {
	if opt.Store == nil {
		return nil, errors.New("web: no store")
	}
	if opt.Sink == "" {
		opt.Sink = StravaSink
	}
	if opt.StravaURL == "" {
		opt.StravaURL = DefaultStravaURL
	}
	u, err := url.Parse(opt.StravaURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("web: Strava URL %q: want http(s)://host", opt.StravaURL)
	}
	opt.StravaURL = strings.TrimRight(opt.StravaURL, "/")
	s := &Server{opt: opt, done: make(chan struct{}), streams: map[string]Streams{}}
	if opt.TileURL != "" {
		t, err := url.Parse(opt.TileURL)
		if err != nil || t.Scheme != "https" || t.Host == "" {
			return nil, fmt.Errorf("web: tile URL %q: want https://host/...{z}/{x}/{y}...", opt.TileURL)
		}
		s.tileOrig = t.Scheme + "://" + strings.ReplaceAll(t.Host, "{s}", "*")
	}
	if opt.AllowRemote && opt.Password == "" {
		return nil, errors.New("web: remote access needs a password")
	}
	if s.opt.Username == "" {
		s.opt.Username = "bandsync"
	}
	if s.opt.Now == nil {
		s.opt.Now = time.Now
	}
	if s.opt.Log == nil {
		s.opt.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	var tok [32]byte
	if _, err := rand.Read(tok[:]); err != nil {
		return nil, fmt.Errorf("web: CSRF token: %w", err)
	}
	s.csrf = hex.EncodeToString(tok[:])
	if s.pages, err = parsePages(); err != nil {
		return nil, err
	}
	if s.assets, err = fs.Sub(embedded, "assets"); err != nil {
		return nil, fmt.Errorf("web: assets: %w", err)
	}
	s.handler = s.routes()
	return s, nil
}

// Handler returns the dashboard's HTTP handler, with its security headers,
// host check, authentication and CSRF check.
func (s *Server) Handler() http.Handler { return s.handler }

// Listen opens addr ("host:port"; DefaultAddr when empty) after checking
// that it is a loopback address, or that remote access is allowed with a
// password.
func (s *Server) Listen(addr string) (net.Listener, error) {
	if addr == "" {
		addr = DefaultAddr
	}
	if err := CheckAddr(addr, s.opt.AllowRemote, s.opt.Password); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("web: listen on %s: %w", addr, err)
	}
	return ln, nil
}

// Serve serves the dashboard on ln until ctx ends, then shuts down:
// open pages and event streams are closed within five seconds. It returns
// nil after a shutdown that ctx asked for.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		s.Close()
		return fmt.Errorf("web: serve: %w", err)
	case <-ctx.Done():
	}
	s.Close()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		// Pages still open after the grace time (a browser holding a
		// connection) are cut: the stop was asked for, it is not an error.
		_ = hs.Close()
	}
	return nil
}

// ListenAndServe is Listen then Serve.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := s.Listen(addr)
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}

// Close ends the event streams and cancels a sync the dashboard started.
// Serve calls it; a caller using Handler alone calls it when done.
func (s *Server) Close() { s.closeOnce.Do(func() { close(s.done) }) }

// CheckAddr refuses a listening address that is not loopback (127.0.0.0/8,
// ::1 or "localhost") unless remote access is allowed and a password is
// set. An empty host means every interface and is not loopback.
func CheckAddr(addr string, allowRemote bool, password string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("web: address %q: %w", addr, err)
	}
	if isLoopback(host) {
		return nil
	}
	if !allowRemote {
		return fmt.Errorf("web: %s is not a loopback address: the dashboard shows your workouts and can start syncs; allow remote access with a password to serve it there", addr)
	}
	if password == "" {
		return fmt.Errorf("web: serving on %s needs a password", addr)
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
