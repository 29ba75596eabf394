// Package zepp is a loopback stand-in for the Zepp (Huami) cloud: the
// web-app login (registrations/tokens → v2/client/login → app_tokens),
// several regional data hosts served from one process, history.json paging
// and detail.json, Zepp's error bodies and codes, token expiry, and fault
// injection. Tests and `bandsync demo` use it.
//
// One Server plays every Zepp host: it routes by the Host header, so a
// client that sends everything to one base URL and names the Zepp host in
// Host (as source/zepp does with a base URL) reaches each regional host.
// A request whose Host is no Zepp host is served as Options.DefaultHost.
//
// It follows ../shared/reference/zepp-cloud-api.md (§ numbers in comments).
// Where the reference does not say how Zepp behaves, a comment marked
// "Guess:" says what the emulator does instead. It imports only stdlib, the
// wire types (source/zepp/api) and format/zeppjson, never the client.
package zepp

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bandsync/bandsync/internal/source/zepp/api"
)

// Hosts are the Zepp hosts the emulator knows (§1.8). Data calls to a
// host other than the account's are answered as a wrong region would be.
var Hosts = []string{
	api.HostUser, api.HostAccount,
	"api-mifit.huami.com",
	"api-mifit-de2.huami.com", "api-mifit-us2.huami.com", "api-mifit-us3.zepp.com",
	"api-mifit-sg2.huami.com", "api-mifit-ru.huami.com", "api-mifit-cn3.huami.com",
}

// Options configure a Server. Zero fields take the defaults noted.
type Options struct {
	// Now is the clock (default time.Now); token expiry follows it.
	Now func() time.Time
	// AppTokenTTL and LoginTokenTTL are the token lifetimes (defaults 30 and
	// 365 days, the app_ttl and ttl seen in §1.1).
	AppTokenTTL, LoginTokenTTL time.Duration
	// PageSize is the number of summaries per history page (default 200, §2.2).
	PageSize int
	// DefaultHost is the host a request with an unknown Host header is
	// served as (default api-mifit.zepp.com).
	DefaultHost string
	// InvalidTokenStatus is the HTTP status of the "invalid token" answer
	// (default 401). The reference has seen both 401 and 200 with body code
	// 0 (§7.1); tests can pick either.
	InvalidTokenStatus int
}

// Account is a Zepp account of the emulator.
type Account struct {
	Email, Password string
	UserID          string // default: derived from the email
	// Country (ISO, e.g. "DE") and Region (AWS, e.g. "eu-central-1") are
	// echoed by the login.
	Country, Region string
	// Host is the regional data host holding the account's workouts
	// (default api-mifit-de2.huami.com).
	Host string
	// AlsoServedBy lists other hosts that serve the account's data too.
	AlsoServedBy []string
	// Login obstacles.
	Captcha, SecondFactor, Locked, Disabled bool
	// NoPassword marks an account created with Apple/Google/…: the email
	// flow answers 0117 "not registered" for it (§1.6).
	NoPassword bool
}

// Server is the emulated Zepp cloud. It is safe for concurrent use.
type Server struct {
	o Options

	mu         sync.Mutex
	accounts   map[string]*account // by lower-case email
	codes      map[string]codeInfo // access codes, single use
	loginToks  map[string]tokenInfo
	appToks    map[string]tokenInfo
	faults     []*Fault
	requests   map[string]int // by path
	total      int
	failedAuth map[string]int // failed password attempts by email
}

type account struct {
	Account
	workouts []*entry // sorted newest first (trackid desc, source asc)
}

type codeInfo struct {
	email string
	used  bool
}

type tokenInfo struct {
	email   string
	expires time.Time
}

// New returns an empty Server.
func New(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.AppTokenTTL <= 0 {
		opts.AppTokenTTL = 30 * 24 * time.Hour
	}
	if opts.LoginTokenTTL <= 0 {
		opts.LoginTokenTTL = 365 * 24 * time.Hour
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 200
	}
	if opts.DefaultHost == "" {
		opts.DefaultHost = api.HostAccount
	}
	if opts.InvalidTokenStatus == 0 {
		opts.InvalidTokenStatus = http.StatusUnauthorized
	}
	return &Server{
		o: opts, accounts: map[string]*account{}, codes: map[string]codeInfo{},
		loginToks: map[string]tokenInfo{}, appToks: map[string]tokenInfo{},
		requests: map[string]int{}, failedAuth: map[string]int{},
	}
}

// AddAccount adds (or replaces) an account, keeping its workouts.
func (s *Server) AddAccount(a Account) {
	if a.Host == "" {
		a.Host = "api-mifit-de2.huami.com"
	}
	if a.UserID == "" {
		a.UserID = fmt.Sprintf("10%08d", len(a.Email)*7919+int(hashString(a.Email)%1e6))
	}
	if a.Country == "" {
		a.Country = "DE"
	}
	if a.Region == "" {
		a.Region = "eu-central-1"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(a.Email)
	if old, ok := s.accounts[key]; ok {
		old.Account = a
		return
	}
	s.accounts[key] = &account{Account: a}
}

// IssueAppToken returns a fresh app token for the account, as a person
// would copy it from the privacy page's apptoken cookie (§1.2).
func (s *Server) IssueAppToken(email string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[strings.ToLower(email)]
	if !ok {
		return "", fmt.Errorf("emulator: no account %s", email)
	}
	return s.newAppTokenLocked(a.Email), nil
}

func (s *Server) newAppTokenLocked(email string) string {
	t := randomToken("A")
	s.appToks[t] = tokenInfo{email: strings.ToLower(email), expires: s.o.Now().Add(s.o.AppTokenTTL)}
	return t
}

// ExpireAppTokens makes every app token issued so far invalid, as if 30
// days had passed; login tokens stay valid.
func (s *Server) ExpireAppTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	past := s.o.Now().Add(-time.Second)
	for k, t := range s.appToks {
		t.expires = past
		s.appToks[k] = t
	}
}

// ExpireLoginTokens makes every login token invalid (renewal then fails
// with 0101).
func (s *Server) ExpireLoginTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	past := s.o.Now().Add(-time.Second)
	for k, t := range s.loginToks {
		t.expires = past
		s.loginToks[k] = t
	}
}

// Requests returns how many requests reached path (e.g.
// api.PathHistory); "" counts every request.
func (s *Server) Requests(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if path == "" {
		return s.total
	}
	return s.requests[path]
}

// ResetRequests sets the request counters to zero.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.requests)
	s.total = 0
}

// Handler returns the http.Handler serving every Zepp host.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+api.PathRegistrationsPrefix+"{email}"+api.PathRegistrationsSuffix, s.handleTokens)
	mux.HandleFunc("POST "+api.PathClientLogin, s.handleClientLogin)
	mux.HandleFunc("GET "+api.PathAppTokens, s.handleAppTokens)
	mux.HandleFunc("GET "+api.PathHistory, s.handleHistory)
	mux.HandleFunc("GET "+api.PathDetail, s.handleDetail)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.total++
		s.requests[r.URL.Path]++
		f := s.takeFaultLocked(r.URL.Path)
		s.mu.Unlock()
		if f != nil && f.apply(w, r, mux) {
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// Start serves the emulator on addr (e.g. "127.0.0.1:0") and returns its
// base URL and a function that stops it.
func (s *Server) Start(addr string) (baseURL string, stop func() error, err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("emulator: %w", err)
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // returns ErrServerClosed on stop
	return "http://" + ln.Addr().String(), srv.Close, nil
}

// host is the Zepp host a request is addressed to.
func (s *Server) host(r *http.Request) string {
	h := strings.ToLower(r.Host)
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
		h = h[:i]
	}
	for _, k := range Hosts {
		if h == k {
			return h
		}
	}
	return s.o.DefaultHost
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	w.WriteHeader(status)
	w.Write(b) //nolint:errcheck // the client went away
}

func randomToken(prefix string) string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func hashString(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h
}

func sortEntries(es []*entry) {
	sort.Slice(es, func(i, j int) bool {
		if es[i].trackID != es[j].trackID {
			return es[i].trackID > es[j].trackID
		}
		return es[i].source < es[j].source
	})
}
