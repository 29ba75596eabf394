// Package strava is a loopback stand-in for Strava's OAuth and API v3, for
// tests and `bandsync demo`. It serves one base URL holding /oauth/* and
// /api/v3/*, as BANDSYNC_STRAVA_URL expects.
//
// It follows strava-api.md: the documented upload status strings, the
// duplicate error in both its text forms, both rate-limit buckets with their
// quarter-hour and UTC-midnight windows, the 429 and 401 bodies, rotating
// refresh tokens, and files read as Strava reads them (moving time from the
// FIT timer time, the device from file_id). Where Strava's behaviour is not
// documented the code says "guess" and makes the behaviour settable.
//
// Tests drive it through Options and the methods on Server: an injectable
// clock, processing delay, rate limits and usage, seeded activities (Zepp's
// own Strava link), injected faults and per-endpoint request counts.
package strava

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bandsync/bandsync/internal/sink/strava/api"
)

// Routes, as counted by Count and targeted by Inject.
const (
	RouteAuthorize     = "GET /oauth/authorize"
	RouteConsent       = "POST /oauth/authorize"
	RouteToken         = "POST /oauth/token"
	RouteTokenAPI      = "POST /api/v3/oauth/token"
	RouteDeauthorize   = "POST /oauth/deauthorize"
	RouteAthlete       = "GET /api/v3/athlete"
	RouteUpload        = "POST /api/v3/uploads"
	RouteUploadStatus  = "GET /api/v3/uploads/{id}"
	RouteActivities    = "GET /api/v3/athlete/activities"
	RouteActivity      = "GET /api/v3/activities/{id}"
	RouteUpdate        = "PUT /api/v3/activities/{id}"
	RouteStreams       = "GET /api/v3/activities/{id}/streams"
	AnyAPIRoute        = "*"
	defaultLifetime    = 6 * time.Hour
	defaultAthleteID   = 134815
	defaultProcessTime = time.Second
)

// Limits are an application's rate limits: overall and read (non-upload),
// each per quarter hour and per UTC day.
type Limits struct {
	Overall, Read api.Pair
}

// DefaultLimits are a new single-player app's limits (strava-api.md §4).
var DefaultLimits = Limits{Overall: api.Pair{Quarter: 200, Day: 2000}, Read: api.Pair{Quarter: 100, Day: 1000}}

// Options configure a Server. Zero values take the defaults noted.
type Options struct {
	// Clock returns the current time (default time.Now). Tests share one
	// fake clock between the emulator and the client.
	Clock func() time.Time
	// ClientID and ClientSecret of the one registered app (defaults
	// "12345" and "emulator-secret").
	ClientID, ClientSecret string
	// TokenLifetime is an access token's life (default 6 h, as Strava's).
	TokenLifetime time.Duration
	// ProcessingDelay is how long an upload stays "still being processed"
	// (default 1 s; Strava: "mean processing time is currently under 2
	// seconds"). Negative means never: the upload stays processing.
	ProcessingDelay time.Duration
	// Limits are the app's rate limits (default DefaultLimits).
	Limits Limits
	// ConsentPage makes /oauth/authorize show a small consent page (for the
	// demo) instead of approving at once (for tests).
	ConsentPage bool
	// UncheckScopes are scopes the emulated person unticks on the consent
	// screen: the redirect's scope leaves them out.
	UncheckScopes []string
	// KeepRefreshToken makes a refresh return the same refresh token. By
	// default every refresh rotates it and the old one stops working, the
	// stricter of the two behaviours Strava documents ("may or may not be
	// the same").
	KeepRefreshToken bool
	// HonourUploadSportType makes the upload's sport_type field override the
	// sport read from the file. Whether Strava still honours it is
	// unverified (strava-api.md §2.1, §10 q1); by default the emulator
	// ignores it, the case a client must cope with.
	HonourUploadSportType bool
	// DuplicatesAtPost rejects a duplicate upload in the POST response (400)
	// when the file's start time matches an existing activity; by default it
	// is found during processing and shows in GET /uploads/{id}. Strava does
	// both (strava-api.md §2.1, §2.4).
	DuplicatesAtPost bool
	// DuplicateHTML writes the duplicate error in its HTML-link form
	// ("… duplicate of <a href='/activities/N' …>Name</a>") instead of
	// "… duplicate of activity N".
	DuplicateHTML bool
	// DuplicateByExternalID also treats an upload whose external_id an
	// existing activity already has as a duplicate. Unverified (§10 q4);
	// off by default, since reports say Strava keys on the start time.
	DuplicateByExternalID bool
	// FileDir, when set, receives every uploaded file (appended to one
	// file there, uploads.bin); the server then keeps only summaries in
	// memory and reads a file again for its streams, so memory stays flat
	// over a long backfill (the demo). Empty keeps everything in memory.
	// Close lets go of the file.
	FileDir string
	// DefaultSportType is the athlete's default sport, used for files whose
	// sport Strava does not recognise (runnerup #582); default "Run".
	DefaultSportType api.SportType
}

// Fault is a failure Inject makes the next request to a route suffer.
type Fault uint8

// Faults.
const (
	// FaultLoseResponse handles the request fully (an upload is created)
	// and then closes the connection without answering.
	FaultLoseResponse Fault = iota + 1
	// FaultReset closes the connection before handling the request.
	FaultReset
	// FaultServerError answers 500 without handling the request.
	FaultServerError
	// FaultUnavailable answers 503 without handling the request.
	FaultUnavailable
	// FaultRateLimited answers 429 with Strava's body, as a burst of
	// requests from another client of the same app would cause.
	FaultRateLimited
)

// Server is the emulated Strava. It is an http.Handler; it is safe for
// concurrent use.
type Server struct {
	opt   Options
	mux   *http.ServeMux
	mu    sync.Mutex
	seq   int64 // last ID handed out (activities and uploads)
	codes map[string]*authCode
	// access and refresh tokens of the one athlete's grant
	access  map[string]*accessToken
	refresh map[string]string // refresh token → scope
	latest  string            // the newest access token

	activities map[int64]*activity
	byStart    map[int64][]int64  // start (unix s) → activity IDs
	byExt      map[string][]int64 // external_id → activity IDs
	uploads    map[int64]*upload
	processing []int64 // uploads still processing, in upload order
	usage      usage
	faults     map[string][]Fault
	counts     map[string]int
	rejected   int // 429 answers
	athlete    api.SummaryAthlete
	files      fileStore // when Options.FileDir is set
}

// New returns a Server with opt's settings.
func New(opt Options) *Server {
	if opt.Clock == nil {
		opt.Clock = time.Now
	}
	if opt.ClientID == "" {
		opt.ClientID = "12345"
	}
	if opt.ClientSecret == "" {
		opt.ClientSecret = "emulator-secret"
	}
	if opt.TokenLifetime == 0 {
		opt.TokenLifetime = defaultLifetime
	}
	if opt.ProcessingDelay == 0 {
		opt.ProcessingDelay = defaultProcessTime
	}
	if opt.Limits == (Limits{}) {
		opt.Limits = DefaultLimits
	}
	if opt.DefaultSportType == "" {
		opt.DefaultSportType = "Run"
	}
	created := opt.Clock().UTC().AddDate(-6, 0, 0).Truncate(time.Second)
	s := &Server{
		opt:        opt,
		mux:        http.NewServeMux(),
		seq:        1000,
		codes:      map[string]*authCode{},
		access:     map[string]*accessToken{},
		refresh:    map[string]string{},
		activities: map[int64]*activity{},
		byStart:    map[int64][]int64{},
		byExt:      map[string][]int64{},
		uploads:    map[int64]*upload{},
		faults:     map[string][]Fault{},
		counts:     map[string]int{},
		athlete: api.SummaryAthlete{ID: defaultAthleteID, ResourceState: 2, Firstname: "Band", Lastname: "Syncer",
			City: "Lisbon", Country: "Portugal", CreatedAt: created, UpdatedAt: created},
	}
	s.files.dir = opt.FileDir
	s.routes()
	return s
}

// Close lets go of the file store in Options.FileDir; the Server must not
// be used after.
func (s *Server) Close() error { return s.files.close() }

// ClientID returns the registered app's client ID.
func (s *Server) ClientID() string { return s.opt.ClientID }

// ClientSecret returns the registered app's client secret.
func (s *Server) ClientSecret() string { return s.opt.ClientSecret }

// AthleteID returns the emulated athlete's ID.
func (s *Server) AthleteID() int64 { return s.athlete.ID }

func (s *Server) routes() {
	s.mux.HandleFunc(RouteAuthorize, s.oauth(RouteAuthorize, s.handleAuthorize))
	s.mux.HandleFunc(RouteConsent, s.oauth(RouteConsent, s.handleConsent))
	s.mux.HandleFunc(RouteToken, s.oauth(RouteToken, s.handleToken))
	s.mux.HandleFunc(RouteTokenAPI, s.oauth(RouteTokenAPI, s.handleToken))
	s.mux.HandleFunc(RouteDeauthorize, s.oauth(RouteDeauthorize, s.handleDeauthorize))
	s.mux.HandleFunc(RouteAthlete, s.api(RouteAthlete, true, "", s.handleAthlete))
	// POST /uploads is the one call that does not count as a read (§4).
	s.mux.HandleFunc(RouteUpload, s.api(RouteUpload, false, "activity:write", s.handleUpload))
	s.mux.HandleFunc(RouteUploadStatus, s.api(RouteUploadStatus, true, "activity:write", s.handleUploadStatus))
	s.mux.HandleFunc(RouteActivities, s.api(RouteActivities, true, "activity:read", s.handleList))
	s.mux.HandleFunc(RouteActivity, s.api(RouteActivity, true, "activity:read", s.handleGet))
	s.mux.HandleFunc(RouteUpdate, s.api(RouteUpdate, true, "activity:write", s.handleUpdate))
	s.mux.HandleFunc(RouteStreams, s.api(RouteStreams, true, "activity:read", s.handleStreams))
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *Server) now() time.Time { return s.opt.Clock().UTC() }

// Count returns how many requests a route received (RouteUpload, …).
func (s *Server) Count(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[route]
}

// APIRequests returns how many /api/v3 requests were received, OAuth
// excluded (the token endpoint's /api/v3 alias is OAuth too).
func (s *Server) APIRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for route, c := range s.counts {
		if strings.Contains(route, " /api/v3/") && route != RouteTokenAPI {
			n += c
		}
	}
	return n
}

// Counts returns a copy of every route's count.
func (s *Server) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// Rejected returns how many requests were answered 429 because they broke
// the rate limit (injected FaultRateLimited answers not included).
func (s *Server) Rejected() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rejected
}

// ResetCounts zeroes the request counts.
func (s *Server) ResetCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts = map[string]int{}
	s.rejected = 0
}

// Inject queues faults for the next requests to route (AnyAPIRoute: any
// /api/v3 route), one fault per request, in order.
func (s *Server) Inject(route string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[route] = append(s.faults[route], faults...)
}

func (s *Server) takeFault(route string) Fault {
	for _, key := range []string{route, AnyAPIRoute} {
		if key == AnyAPIRoute && !strings.Contains(route, "/api/v3/") {
			continue
		}
		if q := s.faults[key]; len(q) > 0 {
			s.faults[key] = q[1:]
			return q[0]
		}
	}
	return 0
}

// SetLimits changes the app's rate limits.
func (s *Server) SetLimits(l Limits) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opt.Limits = l
}

// SetUsage sets the current windows' usage, as other clients of the same
// app would have spent it.
func (s *Server) SetUsage(overall, read api.Pair) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.usage.roll(s.now())
	s.usage.overall, s.usage.read = overall, read
}

// Usage returns the current windows' usage.
func (s *Server) Usage() (overall, read api.Pair) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.usage.roll(s.now())
	return s.usage.overall, s.usage.read
}

// SetProcessingDelay changes how long new uploads stay processing.
func (s *Server) SetProcessingDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opt.ProcessingDelay = d
}

// usage counts requests in the current quarter hour and UTC day.
type usage struct {
	quarter, day  time.Time
	overall, read api.Pair
}

// roll starts new windows when now has left the current ones.
func (u *usage) roll(now time.Time) {
	if q := api.QuarterStart(now); !q.Equal(u.quarter) {
		u.quarter, u.overall.Quarter, u.read.Quarter = q, 0, 0
	}
	if d := api.DayStart(now); !d.Equal(u.day) {
		u.day, u.overall.Day, u.read.Day = d, 0, 0
	}
}

// spend counts one request and reports whether it broke a limit. Requests
// refused by the limit still count, as Strava documents for the daily limit.
func (u *usage) spend(now time.Time, read bool, l Limits) (over bool) {
	u.roll(now)
	u.overall.Quarter++
	u.overall.Day++
	over = u.overall.Quarter > l.Overall.Quarter || u.overall.Day > l.Overall.Day
	if read {
		u.read.Quarter++
		u.read.Day++
		over = over || u.read.Quarter > l.Read.Quarter || u.read.Day > l.Read.Day
	}
	return over
}

func (s *Server) rateHeaders(h http.Header) {
	api.SetRateLimits(h, api.RateLimits{
		Overall: api.Bucket{Limit: s.opt.Limits.Overall, Usage: s.usage.overall},
		Read:    api.Bucket{Limit: s.opt.Limits.Read, Usage: s.usage.read},
	})
}

// oauth wraps an OAuth handler: counted, fault-injectable, and (a guess:
// the rate-limit page does not say) not charged to the API rate limits.
func (s *Server) oauth(route string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.counts[route]++
		f := s.takeFault(route)
		s.mu.Unlock()
		s.serveWithFault(w, r, f, h)
	}
}

// api wraps an API handler: counted, charged to the rate limits (read says
// whether it is a read request), rate-limit headers on every answer, the
// bearer token and scope checked, faults applied.
func (s *Server) api(route string, read bool, scope string, h func(w http.ResponseWriter, r *http.Request, tok *accessToken)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.counts[route]++
		now := s.now()
		over := s.usage.spend(now, read, s.opt.Limits)
		s.rateHeaders(w.Header())
		f := s.takeFault(route)
		if over {
			s.rejected++
		}
		s.mu.Unlock()
		if over {
			writeJSON(w, http.StatusTooManyRequests, api.RateLimitFault())
			return
		}
		s.serveWithFault(w, r, f, func(w http.ResponseWriter, r *http.Request) {
			tok, fault := s.authenticate(r, scope)
			if fault != nil {
				writeJSON(w, http.StatusUnauthorized, fault)
				return
			}
			h(w, r, tok)
		})
	}
}

func (s *Server) serveWithFault(w http.ResponseWriter, r *http.Request, f Fault, h http.HandlerFunc) {
	switch f {
	case FaultReset:
		closeConn(w)
	case FaultServerError:
		writeJSON(w, http.StatusInternalServerError, &api.Fault{Message: "Internal Server Error"})
	case FaultUnavailable:
		writeJSON(w, http.StatusServiceUnavailable, &api.Fault{Message: "Service Unavailable"})
	case FaultRateLimited:
		writeJSON(w, http.StatusTooManyRequests, api.RateLimitFault())
	case FaultLoseResponse:
		h(discard{header: http.Header{}}, r)
		closeConn(w)
	default:
		h(w, r)
	}
}

// closeConn drops the client's connection without an answer.
func closeConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // net/http closes the connection
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// discard is a ResponseWriter whose answer is thrown away.
type discard struct{ header http.Header }

func (d discard) Header() http.Header         { return d.header }
func (d discard) Write(b []byte) (int, error) { return len(b), nil }
func (d discard) WriteHeader(int)             {}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func badRequest(w http.ResponseWriter, resource, field, code string) {
	writeJSON(w, http.StatusBadRequest, &api.Fault{Message: "Bad Request",
		Errors: []api.FaultError{{Resource: resource, Field: field, Code: code}}})
}

func notFound(w http.ResponseWriter, resource string) {
	writeJSON(w, http.StatusNotFound, &api.Fault{Message: "Record Not Found",
		Errors: []api.FaultError{{Resource: resource, Field: "id", Code: "invalid"}}})
}

// newToken returns a random 40-hex-digit token, the shape of Strava's.
func newToken() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// sortedIDs returns m's keys in increasing order.
func sortedIDs[V any](m map[int64]V) []int64 {
	ids := make([]int64, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}
