package errclass

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

func TestClassOfWrapped(t *testing.T) {
	base := errors.New("boom")
	err := fmt.Errorf("upload workout x: %w", Auth(base, "run bandsync auth strava"))
	if ClassOf(err) != ReAuth || !errors.Is(err, ErrReAuth) || errors.Is(err, ErrRetryable) {
		t.Fatalf("class = %v", ClassOf(err))
	}
	if !errors.Is(err, base) {
		t.Fatal("the cause must stay reachable")
	}
	if HintOf(err) != "run bandsync auth strava" {
		t.Fatalf("hint = %q", HintOf(err))
	}
}

func TestClassOfGuesses(t *testing.T) {
	cases := map[error]Class{
		nil:                                      Permanent,
		errors.New("x"):                          Permanent,
		io.ErrUnexpectedEOF:                      Retryable,
		context.Canceled:                         Canceled,
		fmt.Errorf("a: %w", io.ErrUnexpectedEOF): Retryable,
	}
	for err, want := range cases {
		if got := ClassOf(err); got != want {
			t.Errorf("ClassOf(%v) = %v, want %v", err, got, want)
		}
	}
}

func TestFromStatus(t *testing.T) {
	h := http.Header{}
	h.Set("Retry-After", "7")
	cases := []struct {
		status int
		want   Class
	}{{401, ReAuth}, {403, ReAuth}, {404, NotFound}, {429, Retryable}, {500, Retryable}, {503, Retryable}, {400, Permanent}, {422, Permanent}}
	for _, c := range cases {
		err := FromStatus(c.status, h, errors.New("x"))
		if ClassOf(err) != c.want {
			t.Errorf("%d → %v, want %v", c.status, ClassOf(err), c.want)
		}
	}
	if d := RetryAfterOf(FromStatus(503, h, errors.New("x"))); d != 7*time.Second {
		t.Errorf("Retry-After = %v", d)
	}
}

func TestRetryAfterDate(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	h := http.Header{}
	h.Set("Retry-After", now.Add(90*time.Second).Format(http.TimeFormat))
	if d := RetryAfter(h, now); d != 90*time.Second {
		t.Fatalf("got %v", d)
	}
	h.Set("Retry-After", "soon")
	if RetryAfter(h, now) != 0 {
		t.Fatal("garbage must give 0")
	}
}

func TestLimitedUntil(t *testing.T) {
	until := time.Date(2026, 1, 1, 14, 45, 0, 0, time.UTC)
	err := fmt.Errorf("put: %w", Limited(errors.New("429"), until))
	if !errors.Is(err, ErrRateLimited) || !UntilOf(err).Equal(until) {
		t.Fatalf("until = %v", UntilOf(err))
	}
}

func TestParseClass(t *testing.T) {
	for c := Permanent; c <= Usage; c++ {
		got, ok := ParseClass(c.String())
		if !ok || got != c {
			t.Errorf("ParseClass(%q) = %v %v", c, got, ok)
		}
	}
}
