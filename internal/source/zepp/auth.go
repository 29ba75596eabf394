package zepp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/source/zepp/api"
	"github.com/bandsync/bandsync/internal/tokenstore"
)

// Token lifetimes (§1.1). An app token pasted by a person comes without its
// lifetime: bandsync assumes the shortest one seen.
const (
	defaultAppTTL   = 30 * 24 * time.Hour
	defaultLoginTTL = 365 * 24 * time.Hour
	// renewBefore: an app token with less life left is renewed from the
	// login token before it is used.
	renewBefore = 5 * 24 * time.Hour
)

// Login methods, as stored and shown by Status.
const (
	MethodPassword = "password"
	MethodAppToken = "app-token"
)

// Account describes the linked Zepp account. It never holds a token.
type Account struct {
	UserID string
	Email  string // empty for an app-token login
	Method string // MethodPassword or MethodAppToken
	// Host is the data host in use, e.g. "api-mifit-de2.huami.com"; Region
	// is its short name, e.g. "de2".
	Host, Region string
	// AppTokenExpires is when the app token stops working. ExpiryEstimated
	// is true when Zepp did not say (a pasted token): it is then 30 days
	// after the token was stored.
	AppTokenExpires time.Time
	ExpiryEstimated bool
	// LoginTokenExpires is when the app token can no longer be renewed
	// without a new login (zero: no login token, no renewal).
	LoginTokenExpires time.Time
	// Note says what a person should know about the region choice, e.g.
	// that no region held any workout ("" when nothing to say).
	Note string
}

// Renewable reports whether bandsync can renew the app token by itself.
func (a Account) Renewable() bool { return !a.LoginTokenExpires.IsZero() }

// tokenRecord is what the token store keeps under Options.TokenName, as JSON.
type tokenRecord struct {
	AppToken          string    `json:"app_token"`
	LoginToken        string    `json:"login_token,omitempty"`
	UserID            string    `json:"user_id,omitempty"`
	Email             string    `json:"email,omitempty"`
	Method            string    `json:"method"`
	Host              string    `json:"host"`
	Country           string    `json:"country_code,omitempty"`
	DeviceID          string    `json:"device_id,omitempty"`
	AppTokenExpires   time.Time `json:"app_token_expires"`
	ExpiryEstimated   bool      `json:"expiry_estimated,omitempty"`
	LoginTokenExpires time.Time `json:"login_token_expires,omitzero"`
	Obtained          time.Time `json:"obtained"`
	Note              string    `json:"note,omitempty"`
}

func (r *tokenRecord) account() Account {
	return Account{
		UserID: r.UserID, Email: r.Email, Method: r.Method, Host: r.Host, Region: RegionOf(r.Host),
		AppTokenExpires: r.AppTokenExpires, ExpiryEstimated: r.ExpiryEstimated,
		LoginTokenExpires: r.LoginTokenExpires, Note: r.Note,
	}
}

// session is the client plus the stored tokens, shared by the login
// functions and the Source.
type session struct {
	o    Options
	c    *client
	logf func(string, ...any)

	mu  sync.Mutex
	rec *tokenRecord // nil until loaded
}

func newSession(o Options) (*session, error) {
	if err := o.setDefaults(); err != nil {
		return nil, err
	}
	c, err := newClient(&o)
	if err != nil {
		return nil, err
	}
	return &session{o: o, c: c, logf: o.Logf}, nil
}

func (s *session) save(ctx context.Context, r *tokenRecord) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := s.o.Store.Set(ctx, s.o.TokenName, b); err != nil {
		return fmt.Errorf("store Zepp tokens: %w", err)
	}
	s.rec = r
	return nil
}

// load returns the stored record; the caller holds s.mu.
func (s *session) load(ctx context.Context) (*tokenRecord, error) {
	if s.rec != nil {
		return s.rec, nil
	}
	b, err := s.o.Store.Get(ctx, s.o.TokenName)
	if errors.Is(err, tokenstore.ErrNotFound) {
		return nil, errclass.Auth(ErrNotLinked, hintNotLinked)
	}
	if err != nil {
		return nil, fmt.Errorf("read Zepp tokens: %w", err)
	}
	var r tokenRecord
	if err := json.Unmarshal(b, &r); err != nil || r.AppToken == "" || r.Host == "" {
		return nil, errclass.Auth(fmt.Errorf("the stored Zepp tokens are unreadable: %w", ErrNotLinked), hintNotLinked)
	}
	s.rec = &r
	return s.rec, nil
}

// LoginPassword logs in with email and password through Zepp's web-app flow
// (reference §1.3b: registrations/tokens → v2/client/login → app_tokens),
// finds the account's data host, and stores the tokens in opts.Store.
// country is the account's ISO country code ("DE", "US"; "" means "US"),
// which Zepp's login form asks for.
//
// Errors: ErrWrongPassword, ErrUnknownAccount, ErrCaptcha,
// ErrSecondFactor, ErrLocked, ErrUnrecognised (class ReAuth, each with a
// hint), ErrTooManyLogins (RateLimited), or transport errors.
func LoginPassword(ctx context.Context, opts Options, email, password, country string) (Account, error) {
	s, err := newSession(opts)
	if err != nil {
		return Account{}, err
	}
	email = strings.TrimSpace(email)
	if email == "" || password == "" {
		return Account{}, errclass.Usagef("log in to Zepp: email and password are both needed")
	}
	country = strings.ToUpper(strings.TrimSpace(country))
	if country == "" {
		country = "US"
	}
	deviceID := ""
	s.mu.Lock()
	if old, err := s.load(ctx); err == nil && old.DeviceID != "" {
		deviceID = old.DeviceID // one device id per installation (§1.3)
	}
	s.rec = nil
	s.mu.Unlock()
	if deviceID == "" {
		deviceID = "web_" + newUUID()
	}

	access, err := s.requestAccess(ctx, email, password, country)
	if err != nil {
		return Account{}, fmt.Errorf("log in to Zepp as %s: %w", email, err)
	}
	if access.CountryCode != "" {
		country = access.CountryCode
	}
	lr, err := s.clientLogin(ctx, access.Access, country, deviceID)
	if err != nil {
		return Account{}, fmt.Errorf("log in to Zepp as %s: %w", email, err)
	}
	now := s.o.Now()
	rec := &tokenRecord{
		LoginToken: lr.TokenInfo.LoginToken, UserID: string(lr.TokenInfo.UserID), Email: email,
		Method: MethodPassword, Country: country, DeviceID: deviceID, Obtained: now,
		LoginTokenExpires: now.Add(ttlOr(lr.TokenInfo.TTL, defaultLoginTTL)),
	}
	if lr.TokenInfo.AppToken != "" { // flow-B style answers carry it already
		rec.AppToken = lr.TokenInfo.AppToken
		rec.AppTokenExpires = now.Add(ttlOr(lr.TokenInfo.AppTTL, defaultAppTTL))
	} else {
		ti, err := s.appTokens(ctx, rec.LoginToken)
		if err != nil {
			return Account{}, fmt.Errorf("log in to Zepp as %s: %w", email, err)
		}
		rec.AppToken = ti.AppToken
		rec.AppTokenExpires = now.Add(ttlOr(ti.AppTTL, defaultAppTTL))
		if rec.UserID == "" {
			rec.UserID = string(ti.UserID)
		}
	}
	switch {
	case s.o.Host != "":
		rec.Host = s.o.Host
	default:
		rec.Host = hostFromLogin(lr, access.Region)
	}
	if rec.Host == "" {
		host, note, err := s.probe(ctx, rec.AppToken, s.o.Hosts)
		if err != nil {
			return Account{}, fmt.Errorf("log in to Zepp as %s: %w", email, err)
		}
		rec.Host, rec.Note = host, note
	}
	s.warnNote(rec.Note)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.save(ctx, rec); err != nil {
		return Account{}, err
	}
	return rec.account(), nil
}

// LoginAppToken stores an app token a person copied from Zepp's web page
// (the apptoken cookie, reference §1.2) after checking it: it probes the
// regional data hosts (or uses Options.Host) and keeps the one holding the
// account's workouts. A token every host refuses fails with class ReAuth.
func LoginAppToken(ctx context.Context, opts Options, token string) (Account, error) {
	s, err := newSession(opts)
	if err != nil {
		return Account{}, err
	}
	token = strings.TrimSpace(token)
	token = strings.TrimPrefix(token, api.HeaderAppToken+"=") // a pasted cookie pair
	if len(token) < 16 || strings.ContainsFunc(token, func(r rune) bool { return r <= ' ' || r == ';' || r > '~' }) {
		return Account{}, errclass.Usagef("the Zepp app token does not look like one (expected a long run of letters, digits and symbols without spaces); %s", hintAppToken)
	}
	hosts := s.o.Hosts
	if s.o.Host != "" {
		hosts = []string{s.o.Host}
	}
	host, note, err := s.probe(ctx, token, hosts)
	if err != nil {
		return Account{}, fmt.Errorf("check the Zepp app token: %w", err)
	}
	now := s.o.Now()
	rec := &tokenRecord{
		AppToken: token, Method: MethodAppToken, Host: host, Obtained: now, Note: note,
		AppTokenExpires: now.Add(defaultAppTTL), ExpiryEstimated: true,
	}
	s.warnNote(note)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.save(ctx, rec); err != nil {
		return Account{}, err
	}
	return rec.account(), nil
}

// Status returns the linked account as stored, without any network call.
// With nothing stored it fails with ErrNotLinked (class ReAuth).
func Status(ctx context.Context, opts Options) (Account, error) {
	s, err := newSession(opts)
	if err != nil {
		return Account{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.load(ctx)
	if err != nil {
		return Account{}, err
	}
	return rec.account(), nil
}

// Logout forgets the stored Zepp tokens. It deliberately does not call
// Zepp's logout endpoint, which would also end the session of the person's
// phone app (§1.3, §7.3).
func Logout(ctx context.Context, opts Options) error {
	s, err := newSession(opts)
	if err != nil {
		return err
	}
	if err := s.o.Store.Delete(ctx, s.o.TokenName); err != nil {
		return fmt.Errorf("forget Zepp tokens: %w", err)
	}
	return nil
}

func (s *session) warnNote(note string) {
	if note != "" && s.o.Warnf != nil {
		s.o.Warnf("zepp: %s", note)
	}
}

func ttlOr(sec api.FlexInt, def time.Duration) time.Duration {
	if sec > 0 && sec < 10*365*24*3600 {
		return time.Duration(sec) * time.Second
	}
	return def
}

// webHeaders are the headers of the web app's account calls (§1.3b).
func webHeaders() http.Header {
	h := http.Header{}
	h.Set("app_name", api.WebAppName)
	h.Set("appname", api.WebAppName)
	h.Set("appplatform", "web")
	h.Set("Origin", "https://user.zepp.com")
	h.Set("Referer", "https://user.zepp.com/")
	h.Set("User-Agent", browserUA)
	h.Set("x-request-id", newUUID())
	return h
}

const redirectURI = "https://s3-us-west-2.amazonaws.com/hm-registration/successsignin.html"

// requestAccess is step 1: email and password for a one-time access code.
func (s *session) requestAccess(ctx context.Context, email, password, country string) (*api.AccessResponse, error) {
	var ar *api.AccessResponse
	c := &call{
		method: http.MethodPost, host: api.HostUser,
		path: api.PathRegistrationsPrefix + url.PathEscape(email) + api.PathRegistrationsSuffix,
		form: url.Values{
			"client_id": {"HuaMi"}, "country_code": {country}, "json_response": {"true"},
			"name": {email}, "password": {password}, "redirect_uri": {redirectURI},
			"state": {"REDIRECTION"}, "token": {"access"},
		},
		header: webHeaders(), once: true, noRedirect: true,
	}
	c.handle = func(status int, h http.Header, body []byte) (err error) {
		ar, err = parseAccess(status, h, body)
		return err
	}
	if err := s.c.do(ctx, c); err != nil {
		return nil, err
	}
	return ar, nil
}

// parseAccess reads the answer of the tokens step: a JSON body or a
// redirect whose Location query carries the same keys (§1.3, §1.3b). It
// returns the access code or a classified login error.
func parseAccess(status int, h http.Header, body []byte) (*api.AccessResponse, error) {
	var ar api.AccessResponse
	var keys []string
	switch {
	case status == http.StatusTooManyRequests:
		return nil, tooManyLogins(h)
	case status >= 300 && status < 400:
		loc, err := url.Parse(h.Get("Location"))
		if err != nil || h.Get("Location") == "" {
			return nil, unrecognised(fmt.Sprintf("HTTP %d without a usable Location", status))
		}
		q := loc.Query()
		for k := range q {
			keys = append(keys, k)
		}
		ar = api.AccessResponse{
			Access: q.Get("access"), CountryCode: q.Get("country_code"), Region: q.Get("region"),
			Error: api.FlexString(q.Get("error")), ErrorCode: api.FlexString(q.Get("error_code")),
			CaptchaURL: q.Get("captchaUrl"), NotificationURL: q.Get("notificationUrl"),
		}
		ar.Attempts.UnmarshalJSON([]byte(q.Get("attempts")))        //nolint:errcheck // absent or bad = 0
		ar.MaxAttempts.UnmarshalJSON([]byte(q.Get("max_attempts"))) //nolint:errcheck
	case status >= 500:
		return nil, errclass.Retry(fmt.Errorf("the Zepp login service failed (HTTP %d); try again later", status), errclass.RetryAfter(h, time.Now()))
	default:
		var m map[string]json.RawMessage
		if json.Unmarshal(body, &m) != nil || json.Unmarshal(body, &ar) != nil {
			return nil, unrecognised(fmt.Sprintf("HTTP %d with %d bytes that are not a JSON object", status, len(body)))
		}
		for k := range m {
			keys = append(keys, k)
		}
	}
	if err := accessFailure(&ar, keys); err != nil {
		return nil, err
	}
	if status != http.StatusOK && (status < 300 || status >= 400) {
		return nil, unrecognised(fmt.Sprintf("HTTP %d with an access code", status))
	}
	return &ar, nil
}

// accessFailure maps a tokens-step answer to a login error, or nil when it
// carries an access code. keys are the names of every field received.
func accessFailure(ar *api.AccessResponse, keys []string) error {
	if err := challenge(keys); err != nil {
		return err
	}
	if ar.MaxAttempts > 0 && ar.Attempts >= ar.MaxAttempts {
		return errclass.Auth(fmt.Errorf("%w after %d failed attempts", ErrLocked, ar.Attempts), hintLocked)
	}
	if err := codeFailure(string(ar.ErrorCode)); err != nil {
		return err
	}
	if ar.Error != "" {
		// error=401 means wrong credentials; with a region it means the
		// account is unknown there (§1.3 step B1, huami-token #42/#57/#80).
		if ar.Error == "401" && ar.Region == "" {
			msg := ErrWrongPassword.Error()
			if ar.MaxAttempts > 0 {
				msg = fmt.Sprintf("%s (%d of %d attempts before Zepp locks the account)", msg, ar.Attempts, ar.MaxAttempts)
			}
			return errclass.Auth(fmt.Errorf("%s: %w", msg, ErrWrongPassword), hintWrongPassword)
		}
		if ar.Error == "401" {
			return errclass.Auth(fmt.Errorf("%w (Zepp looked in %s)", ErrUnknownAccount, clip(ar.Region, 20)), hintUnknownAccount)
		}
		return unrecognised("error " + clip(string(ar.Error), 20))
	}
	if ar.Access == "" {
		sort.Strings(keys)
		return unrecognised(fmt.Sprintf("no access code (fields: %s)", clip(strings.Join(keys, ","), 120)))
	}
	return nil
}

// challenge recognises a captcha or second-factor demand by field name.
// Zepp's own wording is not documented; these are the names Xiaomi's login
// uses (captchaUrl, notificationUrl, §1.5) and their obvious kin.
func challenge(keys []string) error {
	for _, k := range keys {
		l := strings.ToLower(k)
		switch {
		case strings.Contains(l, "captcha"):
			return errclass.Auth(ErrCaptcha, hintChallenge)
		case strings.Contains(l, "notification"), strings.Contains(l, "verif"),
			strings.Contains(l, "2fa"), strings.Contains(l, "mfa"), strings.Contains(l, "second_factor"):
			return errclass.Auth(ErrSecondFactor, hintChallenge)
		}
	}
	return nil
}

// codeFailure maps the account error codes of §1.9.
func codeFailure(code string) error {
	switch code {
	case "":
		return nil
	case api.ErrCodeAccountDisabled, api.ErrCodeAccountFrozen:
		return errclass.Auth(fmt.Errorf("%w (Zepp error %s)", ErrLocked, code), hintLocked)
	case api.ErrCodeNotRegistered, api.ErrCodeWrongRegion:
		return errclass.Auth(fmt.Errorf("%w (Zepp error %s)", ErrUnknownAccount, code), hintUnknownAccount)
	case api.ErrCodeLoginTokenExpired:
		return errclass.Auth(ErrLoginExpired, hintReLogin)
	}
	return unrecognised("Zepp error " + clip(code, 12))
}

func unrecognised(what string) error {
	return errclass.Auth(fmt.Errorf("%w: %s", ErrUnrecognised, what), hintUnrecognised)
}

func tooManyLogins(h http.Header) error {
	e := &errclass.Error{Class: errclass.RateLimited, Err: ErrTooManyLogins, Hint: hintTooMany}
	if d := errclass.RetryAfter(h, time.Now()); d > 0 {
		e.Until = time.Now().Add(d)
	}
	return e
}

// clientLogin is step 2: the access code for a login token.
func (s *session) clientLogin(ctx context.Context, access, country, deviceID string) (*api.LoginResponse, error) {
	lr := new(api.LoginResponse)
	c := &call{
		method: http.MethodPost, host: api.HostAccount, path: api.PathClientLogin,
		form: url.Values{
			"allow_registration": {"false"}, "app_name": {api.WebAppName}, "app_version": {"1.0.0"},
			"code": {access}, "country_code": {country}, "device_id": {deviceID}, "device_model": {"web"},
			"dn":         {"api-mifit.zepp.com,api-user.zepp.com,api-watch.zepp.com,auth.zepp.com"},
			"grant_type": {"access_token"}, "source": {api.WebAppName}, "third_name": {"huami"},
		},
		header: webHeaders(), once: true,
	}
	c.handle = func(status int, h http.Header, body []byte) error {
		return parseLogin(status, h, body, lr, func(r *api.LoginResponse) bool { return r.TokenInfo.LoginToken != "" })
	}
	if err := s.c.do(ctx, c); err != nil {
		return nil, err
	}
	return lr, nil
}

// appTokens is step 3 and the renewal: a login token for an app token.
func (s *session) appTokens(ctx context.Context, loginToken string) (*api.TokenInfo, error) {
	lr := new(api.LoginResponse)
	c := &call{
		method: http.MethodGet, host: api.HostAccount, path: api.PathAppTokens,
		query: url.Values{
			"app_name": {api.WebAppName}, "dn": {"api-mifit.zepp.com,api-user.zepp.com,auth.zepp.com"},
			"login_token": {loginToken},
		},
		header: webHeaders(),
	}
	c.handle = func(status int, h http.Header, body []byte) error {
		return parseLogin(status, h, body, lr, func(r *api.LoginResponse) bool { return r.TokenInfo.AppToken != "" })
	}
	if err := s.c.do(ctx, c); err != nil {
		return nil, err
	}
	return &lr.TokenInfo, nil
}

// parseLogin decodes a client-login or app-tokens answer into lr and
// checks it with ok.
func parseLogin(status int, h http.Header, body []byte, lr *api.LoginResponse, ok func(*api.LoginResponse) bool) error {
	switch {
	case status == http.StatusTooManyRequests:
		return tooManyLogins(h)
	case status >= 500:
		return errclass.Retry(fmt.Errorf("the Zepp account service failed (HTTP %d)", status), errclass.RetryAfter(h, time.Now()))
	}
	if err := json.Unmarshal(body, lr); err != nil {
		if status == http.StatusOK && len(body) > 0 && body[0] == '{' {
			return errclass.Retry(fmt.Errorf("the Zepp account service sent incomplete JSON: %w", err), 0)
		}
		return unrecognised(fmt.Sprintf("HTTP %d with %d bytes that are not JSON", status, len(body)))
	}
	if err := codeFailure(string(lr.ErrorCode)); err != nil {
		return err
	}
	if status != http.StatusOK || !ok(lr) {
		return unrecognised(fmt.Sprintf("HTTP %d without the expected token", status))
	}
	return nil
}

// renew replaces the app token from the login token, unless another caller
// already replaced failed (the token that was refused or is expiring).
func (s *session) renew(ctx context.Context, failed string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.load(ctx)
	if err != nil {
		return err
	}
	if rec.AppToken != failed {
		return nil
	}
	if rec.LoginToken == "" {
		return errclass.Auth(errors.New("the Zepp app token expired and cannot be renewed (it was pasted, not obtained by login)"), hintAppToken)
	}
	ti, err := s.appTokens(ctx, rec.LoginToken)
	if err != nil {
		return fmt.Errorf("renew the Zepp app token: %w", err)
	}
	next := *rec
	now := s.o.Now()
	next.AppToken, next.AppTokenExpires, next.ExpiryEstimated = ti.AppToken, now.Add(ttlOr(ti.AppTTL, defaultAppTTL)), false
	if s.logf != nil {
		s.logf("zepp: renewed the app token; it expires %s", next.AppTokenExpires.Format(time.RFC3339))
	}
	return s.save(ctx, &next)
}

// credentials returns the app token and data host to use, renewing the
// token first when it is about to expire and a login token allows.
func (s *session) credentials(ctx context.Context) (token, host string, err error) {
	s.mu.Lock()
	rec, err := s.load(ctx)
	s.mu.Unlock()
	if err != nil {
		return "", "", err
	}
	if rec.LoginToken != "" && rec.AppTokenExpires.Sub(s.o.Now()) < renewBefore {
		if err := s.renew(ctx, rec.AppToken); err != nil {
			if rec.AppTokenExpires.After(s.o.Now()) && errclass.ClassOf(err) != errclass.Canceled {
				s.warn("zepp: could not renew the app token yet (%v); using the current one", err)
			} else {
				return "", "", err
			}
		}
		s.mu.Lock()
		rec = s.rec
		s.mu.Unlock()
	}
	host = rec.Host
	if s.o.Host != "" {
		host = s.o.Host
	}
	return rec.AppToken, host, nil
}

// reauthHint says how to authorize again, by how the account was linked.
func (s *session) reauthHint() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rec != nil && s.rec.Method == MethodPassword {
		return hintReLogin + ", or " + hintAppToken
	}
	return hintAppToken
}

func (s *session) warn(format string, args ...any) {
	if s.o.Warnf != nil {
		s.o.Warnf(format, args...)
	}
}

// getData runs a data call with the current app token. A refused token is
// renewed once from the login token (when there is one) and the call tried
// again; otherwise the error is ReAuth with a hint.
func (s *session) getData(ctx context.Context, path string, q map[string]string, handle func(data json.RawMessage) error) error {
	for attempt := 0; ; attempt++ {
		token, host, err := s.credentials(ctx)
		if err != nil {
			return err
		}
		c := dataCall(token, host, path, q)
		c.handle = func(status int, h http.Header, body []byte) error {
			data, err := decodeEnvelope(c.what(), status, h, body)
			if err != nil {
				return err
			}
			return handle(data)
		}
		err = s.c.do(ctx, c)
		var de *dataError
		if !errors.As(err, &de) || !de.tokenRefused {
			return err
		}
		s.mu.Lock()
		renewable := s.rec != nil && s.rec.LoginToken != ""
		s.mu.Unlock()
		if attempt == 0 && renewable {
			if rerr := s.renew(ctx, token); rerr != nil {
				return rerr
			}
			continue
		}
		return errclass.Auth(fmt.Errorf("Zepp refused the app token: %w", err), s.reauthHint())
	}
}

// newUUID returns a random RFC 4122 version 4 UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
