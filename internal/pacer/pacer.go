// Package pacer paces and retries the remote calls of one service, in the
// manner of rclone's lib/pacer: a token-bucket rate, a bound on calls in
// flight, and jittered exponential backoff for retryable failures that
// honours the server's Retry-After.
//
// A Pacer never retries a call that is not idempotent: use Once for those
// (an upload POST whose response was lost must be reconciled, not resent).
package pacer

import (
	"context"
	"time"

	"github.com/cenkalti/backoff/v5"
	"golang.org/x/time/rate"

	"github.com/bandsync/bandsync/internal/errclass"
)

// Options configure a Pacer. Zero fields take the defaults noted.
type Options struct {
	// Rate is the steady number of calls per second (default 4).
	Rate float64
	// Burst is how many calls may start at once after idling (default 4).
	Burst int
	// Concurrency bounds calls in flight (default 4).
	Concurrency int
	// MaxTries is how often a retryable call is tried in all (default 5).
	MaxTries int
	// MinBackoff and MaxBackoff bound the wait between tries
	// (defaults 500 ms and 30 s).
	MinBackoff, MaxBackoff time.Duration
	// MaxElapsed bounds the total time spent retrying one call (default 2 min).
	MaxElapsed time.Duration
	// OnRetry, when set, is told about each retry before the wait.
	OnRetry func(err error, wait time.Duration)
}

// Pacer paces calls to one service. It is safe for concurrent use.
type Pacer struct {
	opt     Options
	limiter *rate.Limiter
	slots   chan struct{}
}

// New returns a Pacer with opt's settings.
func New(opt Options) *Pacer {
	if opt.Rate <= 0 {
		opt.Rate = 4
	}
	if opt.Burst <= 0 {
		opt.Burst = 4
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = 4
	}
	if opt.MaxTries <= 0 {
		opt.MaxTries = 5
	}
	if opt.MinBackoff <= 0 {
		opt.MinBackoff = 500 * time.Millisecond
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = 30 * time.Second
	}
	if opt.MaxElapsed <= 0 {
		opt.MaxElapsed = 2 * time.Minute
	}
	return &Pacer{
		opt:     opt,
		limiter: rate.NewLimiter(rate.Limit(opt.Rate), opt.Burst),
		slots:   make(chan struct{}, opt.Concurrency),
	}
}

// Call runs fn under the pacer, retrying while fn fails with an error of
// class errclass.Retryable. It returns fn's last error (classified) or ctx's.
// fn must be idempotent.
func (p *Pacer) Call(ctx context.Context, fn func(ctx context.Context) error) error {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = p.opt.MinBackoff
	b.MaxInterval = p.opt.MaxBackoff
	var last error // fn's own last error: what the caller gets back
	op := func() (struct{}, error) {
		last = p.Once(ctx, fn)
		switch {
		case last == nil:
			return struct{}{}, nil
		case ctx.Err() != nil || errclass.ClassOf(last) != errclass.Retryable:
			return struct{}{}, backoff.Permanent(last)
		}
		if after := errclass.RetryAfterOf(last); after > 0 {
			return struct{}{}, backoff.RetryAfter(int((after + time.Second - 1) / time.Second))
		}
		return struct{}{}, last
	}
	_, err := backoff.Retry(ctx, op,
		backoff.WithBackOff(b),
		backoff.WithMaxTries(uint(p.opt.MaxTries)),
		backoff.WithMaxElapsedTime(p.opt.MaxElapsed),
		backoff.WithNotify(func(_ error, d time.Duration) {
			if p.opt.OnRetry != nil {
				p.opt.OnRetry(last, d)
			}
		}),
	)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case last != nil:
		return last
	}
	return err
}

// Once runs fn once under the pacer: it waits for a rate token and a free
// slot, but never retries. Use it for calls that are not idempotent.
func (p *Pacer) Once(ctx context.Context, fn func(ctx context.Context) error) error {
	if err := p.limiter.Wait(ctx); err != nil {
		return err
	}
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-p.slots }()
	return fn(ctx)
}
