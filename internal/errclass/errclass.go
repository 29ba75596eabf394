// Package errclass classifies errors by what a caller should do about them:
// retry, re-authorize, wait for a rate-limit window, give up on one workout,
// or stop. Providers wrap their errors with a class; the syncer and the CLI
// read it back with ClassOf, errors.Is or errors.As. The CLI maps classes to
// exit codes in one place.
package errclass

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"
)

// Class is what a caller should do about an error.
type Class uint8

// Classes. The zero value, Permanent, is what an unclassified error is.
const (
	// Permanent: retrying will not help (for this workout), until its data changes.
	Permanent Class = iota
	// Retryable: a transient failure (5xx, timeout, reset); retry with backoff.
	Retryable
	// ReAuth: the credentials were refused or expired beyond refresh; a person
	// must run `bandsync auth ...` again.
	ReAuth
	// RateLimited: the service's budget is spent until a known time; waiting is
	// not a failure.
	RateLimited
	// NotFound: the thing asked for does not exist (any more).
	NotFound
	// Canceled: the context was canceled or timed out by the caller.
	Canceled
	// Usage: the person asked for something invalid (a bad flag, a missing file).
	Usage
)

var classNames = [...]string{"permanent", "retryable", "re-auth", "rate-limited", "not-found", "canceled", "usage"}

// String names the class ("retryable", "re-auth", …); it is stored and shown.
func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return "class(" + strconv.Itoa(int(c)) + ")"
}

// ParseClass is the inverse of String.
func ParseClass(s string) (Class, bool) {
	for i, n := range classNames {
		if n == s {
			return Class(i), true
		}
	}
	return Permanent, false
}

// Sentinels, one per class, for errors.Is: errors.Is(err, errclass.ErrReAuth).
var (
	ErrPermanent   = &sentinel{Permanent}
	ErrRetryable   = &sentinel{Retryable}
	ErrReAuth      = &sentinel{ReAuth}
	ErrRateLimited = &sentinel{RateLimited}
	ErrNotFound    = &sentinel{NotFound}
	ErrUsage       = &sentinel{Usage}
)

type sentinel struct{ c Class }

func (s *sentinel) Error() string { return s.c.String() }

// Error is an error with a class and optional guidance.
type Error struct {
	Class Class
	Err   error
	// Hint tells a person what to do, e.g. "run bandsync auth strava".
	Hint string
	// RetryAfter is the server's hint for a Retryable error (0 = none).
	RetryAfter time.Duration
	// Until is when a RateLimited budget opens again (zero = unknown).
	Until time.Time
}

func (e *Error) Error() string {
	if e.Err == nil {
		return e.Class.String()
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrReAuth) and friends work.
func (e *Error) Is(target error) bool {
	s, ok := target.(*sentinel)
	return ok && s.c == e.Class
}

// New wraps err with class c. A nil err stays nil.
func New(c Class, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Class: c, Err: err}
}

// Retry marks err retryable, with the server's Retry-After hint (0 = none).
func Retry(err error, after time.Duration) error {
	if err == nil {
		return nil
	}
	return &Error{Class: Retryable, Err: err, RetryAfter: after}
}

// Fatal marks err permanent.
func Fatal(err error) error { return New(Permanent, err) }

// Auth marks err as needing re-authorization, with what to do.
func Auth(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &Error{Class: ReAuth, Err: err, Hint: hint}
}

// Limited marks err as a rate limit that lifts at until.
func Limited(err error, until time.Time) error {
	if err == nil {
		return nil
	}
	return &Error{Class: RateLimited, Err: err, Until: until}
}

// Missing marks err as not found.
func Missing(err error) error { return New(NotFound, err) }

// Usagef is a usage error: the person asked for something invalid.
func Usagef(format string, args ...any) error {
	return &Error{Class: Usage, Err: fmt.Errorf(format, args...)}
}

// Hinted wraps err so that HintOf returns hint, keeping err's class.
func Hinted(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &Error{Class: ClassOf(err), Err: err, Hint: hint}
}

// ClassOf returns the class of err: the outermost classified error's class,
// else a guess for well-known transient errors (timeouts, resets, truncated
// bodies are Retryable; context cancellation is Canceled), else Permanent.
func ClassOf(err error) Class {
	if err == nil {
		return Permanent
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return Canceled
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) {
		return Retryable
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return Retryable
	}
	return Permanent
}

// HintOf returns the first hint found in err's chain, or "".
func HintOf(err error) string {
	for err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return ""
		}
		if e.Hint != "" {
			return e.Hint
		}
		err = e.Err
	}
	return ""
}

// RetryAfterOf returns the Retry-After hint in err's chain (0 = none).
func RetryAfterOf(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// UntilOf returns when a RateLimited error lifts (zero = unknown).
func UntilOf(err error) time.Time {
	var e *Error
	if errors.As(err, &e) {
		return e.Until
	}
	return time.Time{}
}

// FromStatus classifies an HTTP response status: 401 and 403 need
// re-authorization, 404 and 410 are not found, 408, 425, 429 and 5xx are
// retryable (429 honours Retry-After; callers that know the window use
// Limited instead), other 4xx are permanent. header may be nil.
func FromStatus(status int, header http.Header, err error) error {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return New(ReAuth, err)
	case status == http.StatusNotFound || status == http.StatusGone:
		return New(NotFound, err)
	case status == http.StatusRequestTimeout || status == http.StatusTooEarly ||
		status == http.StatusTooManyRequests || status >= 500:
		return Retry(err, RetryAfter(header, time.Now()))
	default:
		return New(Permanent, err)
	}
}

// RetryAfter parses a Retry-After header (seconds or an HTTP date) relative
// to now; 0 when absent or unparseable.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	if h == nil {
		return 0
	}
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
