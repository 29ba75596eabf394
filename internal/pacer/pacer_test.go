package pacer

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bandsync/bandsync/internal/errclass"
)

func fast() *Pacer {
	return New(Options{Rate: 1000, Burst: 100, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
}

func TestCallRetriesRetryable(t *testing.T) {
	var n int
	err := fast().Call(context.Background(), func(context.Context) error {
		n++
		if n < 3 {
			return errclass.Retry(errors.New("503"), 0)
		}
		return nil
	})
	if err != nil || n != 3 {
		t.Fatalf("err=%v tries=%d", err, n)
	}
}

func TestCallStopsOnPermanentAndKeepsClass(t *testing.T) {
	var n int
	err := fast().Call(context.Background(), func(context.Context) error {
		n++
		return errclass.Auth(errors.New("401"), "log in")
	})
	if n != 1 || !errors.Is(err, errclass.ErrReAuth) {
		t.Fatalf("tries=%d err=%v", n, err)
	}
}

func TestCallGivesUpAfterMaxTries(t *testing.T) {
	var n int
	p := New(Options{Rate: 1000, MaxTries: 4, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
	err := p.Call(context.Background(), func(context.Context) error {
		n++
		return errclass.Retry(errors.New("500"), 0)
	})
	if n != 4 || !errors.Is(err, errclass.ErrRetryable) {
		t.Fatalf("tries=%d err=%v", n, err)
	}
}

func TestCallHonoursRetryAfter(t *testing.T) {
	var n int
	var waited time.Duration
	p := New(Options{Rate: 1000, MinBackoff: time.Millisecond, OnRetry: func(_ error, d time.Duration) { waited = d }})
	start := time.Now()
	_ = p.Call(context.Background(), func(context.Context) error {
		n++
		if n == 1 {
			return errclass.Retry(errors.New("429"), time.Second)
		}
		return nil
	})
	if waited != time.Second || time.Since(start) < time.Second {
		t.Fatalf("waited %v (told %v)", time.Since(start), waited)
	}
}

func TestOnceNeverRetries(t *testing.T) {
	var n int
	err := fast().Once(context.Background(), func(context.Context) error {
		n++
		return errclass.Retry(errors.New("reset"), 0)
	})
	if n != 1 || err == nil {
		t.Fatalf("tries=%d", n)
	}
}

func TestConcurrencyBound(t *testing.T) {
	p := New(Options{Rate: 1e6, Burst: 1000, Concurrency: 2})
	var in, peak atomic.Int32
	done := make(chan struct{})
	for range 8 {
		go func() {
			_ = p.Once(context.Background(), func(context.Context) error {
				v := in.Add(1)
				for {
					old := peak.Load()
					if v <= old || peak.CompareAndSwap(old, v) {
						break
					}
				}
				time.Sleep(10 * time.Millisecond)
				in.Add(-1)
				return nil
			})
			done <- struct{}{}
		}()
	}
	for range 8 {
		<-done
	}
	if peak.Load() != 2 {
		t.Fatalf("peak in flight = %d, want 2", peak.Load())
	}
}

func TestCanceledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := fast().Call(ctx, func(context.Context) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}
