package zepp

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/pacer"
	"github.com/bandsync/bandsync/internal/source/zepp/api"
)

// maxBody bounds what bandsync reads of one response; the largest real
// detail.json seen is well under 1 MB.
const maxBody = 64 << 20

// browserUA is sent on the login calls, which the web app makes from a browser.
const browserUA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"

// client sends calls to Zepp hosts through the pacer. It holds no secrets.
type client struct {
	base  *url.URL // Options.BaseURL; nil: the real hosts over https
	hc    *http.Client
	noRed *http.Client // same transport, never follows redirects
	pace  *pacer.Pacer
	logf  func(format string, args ...any)
}

func newClient(o *Options) (*client, error) {
	c := &client{hc: o.HTTPClient, pace: o.Pacer, logf: o.Logf}
	if o.BaseURL != "" {
		u, err := url.Parse(strings.TrimRight(o.BaseURL, "/"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, errclass.Usagef("Zepp base URL %q: want http(s)://host[:port][/path]", o.BaseURL)
		}
		c.base = u
	}
	nr := *c.hc
	nr.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.noRed = &nr
	return c, nil
}

// call is one HTTP exchange with a Zepp host.
type call struct {
	method string
	host   string // the Zepp host name, e.g. "api-mifit-de2.huami.com"
	path   string
	query  url.Values
	form   url.Values // POST body, form-encoded
	header http.Header
	// once marks a call that must not be retried (a login POST: each try
	// counts towards Zepp's lock-out after 10 failures).
	once       bool
	noRedirect bool
	// handle inspects the complete response inside the pacer, so that what
	// it classifies as retryable (a truncated body, a busy server) is tried
	// again. It may be nil: then any 2xx/3xx is accepted.
	handle func(status int, h http.Header, body []byte) error
}

// what names a call in errors and logs: method, host and path, never the
// query (app_tokens carries the login token there) or the body.
func (c *call) what() string { return c.method + " " + c.host + c.path }

// url builds the request URL. With a base URL every host maps onto it and the
// Host header keeps naming the Zepp host, so one server (the emulator, a
// proxy) can play every regional host: that is how region probing works
// through BANDSYNC_ZEPP_URL.
func (cl *client) url(c *call) string {
	u := url.URL{Scheme: "https", Host: c.host, Path: c.path}
	if cl.base != nil {
		u.Scheme, u.Host, u.Path = cl.base.Scheme, cl.base.Host, cl.base.Path+c.path
	}
	if len(c.query) > 0 {
		u.RawQuery = c.query.Encode()
	}
	return u.String()
}

// do runs c through the pacer: Call (with retries) for idempotent calls,
// Once for the others.
func (cl *client) do(ctx context.Context, c *call) error {
	run := cl.pace.Call
	if c.once {
		run = cl.pace.Once
	}
	return run(ctx, func(ctx context.Context) error { return cl.try(ctx, c) })
}

func (cl *client) try(ctx context.Context, c *call) error {
	var body io.Reader
	if c.form != nil {
		body = strings.NewReader(c.form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, c.method, cl.url(c), body)
	if err != nil {
		return errclass.Fatal(fmt.Errorf("%s: %w", c.what(), err))
	}
	if cl.base != nil {
		req.Host = c.host
	}
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	if c.form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	}
	hc := cl.hc
	if c.noRedirect {
		hc = cl.noRed
	}
	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		return transportError(ctx, c, err)
	}
	defer resp.Body.Close()
	b, err := readBody(resp)
	if err != nil {
		// A reset or a short body mid-way: the response is incomplete.
		return transportError(ctx, c, fmt.Errorf("read body: %w", err))
	}
	if cl.logf != nil {
		cl.logf("zepp: %s → %d (%d bytes, %s)", c.what(), resp.StatusCode, len(b), time.Since(start).Round(time.Millisecond))
	}
	if c.handle != nil {
		return c.handle(resp.StatusCode, resp.Header, b)
	}
	if resp.StatusCode >= 400 {
		return statusError(resp.StatusCode, resp.Header, fmt.Errorf("%s: HTTP %d", c.what(), resp.StatusCode))
	}
	return nil
}

// statusError classifies an HTTP error status. Zepp answers 403 to a token
// sent to another region's host (§1.8, §7), so 403 says what to do about
// the region rather than asking to authorize again.
func statusError(status int, h http.Header, err error) error {
	if status == http.StatusForbidden {
		return errclass.Hinted(errclass.Fatal(err), hintRegion)
	}
	return errclass.FromStatus(status, h, err)
}

// transportError classifies a failed exchange without repeating the URL
// (net/http's *url.Error would print the query, which can hold a token).
func transportError(ctx context.Context, c *call, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	err = fmt.Errorf("%s: %w", c.what(), err)
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound,
		errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr):
		return errclass.Fatal(err)
	}
	// Resets, refused connections, timeouts, EOF before the response:
	// transient on a healthy service.
	return errclass.Retry(err, 0)
}

// dataError is a failed data call; tokenRefused marks the failures a
// renewed app token can cure.
type dataError struct {
	err          error
	tokenRefused bool
}

func (e *dataError) Error() string { return e.err.Error() }
func (e *dataError) Unwrap() error { return e.err }

// readBody reads a response body of at most maxBody bytes into a fresh
// buffer, sized at once when the length is announced (a workout detail is
// 100 to 300 KB). Handlers may keep slices of it.
func readBody(resp *http.Response) ([]byte, error) {
	var buf bytes.Buffer
	if n := resp.ContentLength; n > 0 && n <= maxBody {
		buf.Grow(int(n) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(io.LimitReader(resp.Body, maxBody))
	return buf.Bytes(), err
}

// decodeEnvelope checks a data response (status and body) and returns its
// data. Errors are classified: a refused token is ReAuth (and a *dataError
// with tokenRefused), a busy server or an incomplete body Retryable.
func decodeEnvelope(what string, status int, h http.Header, body []byte) (json.RawMessage, error) {
	if status == http.StatusOK {
		if data, ok := successData(body); ok {
			return data, nil
		}
	}
	trimmed := bytes.TrimSpace(body)
	var env api.Envelope
	jsonErr := json.Unmarshal(trimmed, &env)
	if status == http.StatusOK && jsonErr != nil {
		if len(trimmed) > 0 && trimmed[0] != '{' {
			// Not JSON at all: Zepp answers encrypted binary to some app
			// headers (§7.7). Trying again will not change that.
			return nil, errclass.Fatal(fmt.Errorf("%s: Zepp answered %d bytes that are not JSON (encrypted?)", what, len(body)))
		}
		return nil, errclass.Retry(fmt.Errorf("%s: response is not complete JSON (truncated?): %w", what, jsonErr), 0)
	}
	if jsonErr == nil && env.Code != api.CodeSuccess || status != http.StatusOK {
		return nil, envelopeError(what, status, h, &env, jsonErr == nil)
	}
	return env.Data, nil
}

// successData is the fast path of decodeEnvelope: the data of a well-formed
// success envelope, without validating all of it twice as json.Unmarshal
// would (the data's own decoder validates it). Anything else is left to the
// slow path and its error messages.
func successData(body []byte) (json.RawMessage, bool) {
	var data json.RawMessage
	success, ok := false, true
	complete := members(body, func(key, val []byte) bool {
		switch string(key) {
		case "code":
			code, err := strconv.Atoi(string(val))
			success = err == nil && code == api.CodeSuccess
		case "data":
			data = val
		case "message":
			ok = len(val) > 0 && val[0] == '"'
		}
		return true
	})
	return data, complete && ok && success
}

func envelopeError(what string, status int, h http.Header, env *api.Envelope, parsed bool) error {
	var ed api.ErrorData
	if parsed && len(env.Data) > 0 {
		_ = json.Unmarshal(env.Data, &ed) // best effort: data is not always an object
	}
	msg := fmt.Sprintf("HTTP %d", status)
	if parsed {
		msg += fmt.Sprintf(", code %d", env.Code)
		if env.Message != "" {
			msg += fmt.Sprintf(" %q", clip(env.Message, 80))
		}
		if ed.Code != "" {
			msg += fmt.Sprintf(" (%s)", clip(string(ed.Code), 12))
		}
	}
	err := fmt.Errorf("%s: Zepp answered %s", what, msg)
	switch {
	case status == http.StatusUnauthorized || ed.Code == api.ErrCodeInvalidToken ||
		parsed && env.Code == api.CodeInvalidToken && strings.Contains(strings.ToLower(env.Message), "token"):
		return &dataError{err: errclass.Auth(err, ""), tokenRefused: true}
	case parsed && env.Code == api.CodeTooManyRequests:
		return errclass.Retry(err, errclass.RetryAfter(h, time.Now()))
	case parsed && env.Code == api.CodeMissingHeaders:
		return errclass.Fatal(fmt.Errorf("%w (a request header is missing: a bandsync bug)", err))
	case status != http.StatusOK:
		return statusError(status, h, err)
	}
	return errclass.Fatal(err)
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
