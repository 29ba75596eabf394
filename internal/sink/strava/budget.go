package strava

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/sink/strava/api"
)

// ErrBudget is wrapped by the errclass.Limited error a Budget returns when a
// request would break Strava's rate limit.
var ErrBudget = errors.New("strava: rate limit budget spent")

// DefaultLimits are the limits assumed until Strava's headers say otherwise:
// a new single-player app's (strava-api.md §4), the lowest documented.
var DefaultLimits = struct{ Overall, Read api.Pair }{
	Overall: api.Pair{Quarter: 200, Day: 2000},
	Read:    api.Pair{Quarter: 100, Day: 1000},
}

// Budget is Strava's rate limit as this process sees it: the overall and
// read buckets, each per quarter hour (windows start at :00, :15, :30 and
// :45 UTC) and per UTC day. Every request takes one unit before it is sent
// and every response's X-RateLimit-* and X-ReadRateLimit-* headers correct
// the count, so requests from other processes of the same app are counted
// too. One Budget is shared by all Strava requests of a process. It is safe
// for concurrent use.
type Budget struct {
	mu      sync.Mutex
	now     func() time.Time
	limit   struct{ overall, read api.Pair }
	used    struct{ overall, read api.Pair }
	quarter time.Time // window the quarter counts belong to
	day     time.Time // window the day counts belong to
}

// NewBudget returns a Budget with DefaultLimits; now is its clock (nil:
// time.Now).
func NewBudget(now func() time.Time) *Budget {
	if now == nil {
		now = time.Now
	}
	b := &Budget{now: now}
	b.limit.overall, b.limit.read = DefaultLimits.Overall, DefaultLimits.Read
	return b
}

// reserve is how many requests of a window uploads leave to reads (listing,
// confirming, fixing up), so a long backfill can still resolve what it
// posted: a twentieth of the limit, at least one.
func reserve(limit int) int { return max(1, limit/20) }

func (b *Budget) rollLocked(now time.Time) {
	if q := api.QuarterStart(now); !q.Equal(b.quarter) {
		b.quarter, b.used.overall.Quarter, b.used.read.Quarter = q, 0, 0
	}
	if d := api.DayStart(now); !d.Equal(b.day) {
		b.day, b.used.overall.Day, b.used.read.Day = d, 0, 0
	}
}

// Take spends one request: a read (every endpoint but POST /uploads) or an
// upload. When that would break a limit it spends nothing and returns an
// errclass.Limited error (wrapping ErrBudget) whose Until is when the
// window opens again. Uploads stop short of the overall limit by a small
// reserve kept for reads.
func (b *Budget) Take(read bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	b.rollLocked(now)
	o, r := b.used.overall, b.used.read
	lo, lr := b.limit.overall, b.limit.read
	var dayFull, quarterFull bool
	if read {
		dayFull = o.Day+1 > lo.Day || r.Day+1 > lr.Day
		quarterFull = o.Quarter+1 > lo.Quarter || r.Quarter+1 > lr.Quarter
	} else {
		dayFull = o.Day+1 > lo.Day-reserve(lo.Day)
		quarterFull = o.Quarter+1 > lo.Quarter-reserve(lo.Quarter)
	}
	switch {
	case dayFull:
		until := api.NextDay(now)
		return errclass.Limited(fmt.Errorf("%w for today (resumes %s)", ErrBudget, until.Format("15:04 MST")), until)
	case quarterFull:
		until := api.NextQuarter(now)
		return errclass.Limited(fmt.Errorf("%w for this quarter hour (resumes %s)", ErrBudget, until.Format("15:04 MST")), until)
	}
	b.used.overall.Quarter++
	b.used.overall.Day++
	if read {
		b.used.read.Quarter++
		b.used.read.Day++
	}
	return nil
}

// Observe reads a response's rate-limit headers. sent is when the request
// was sent: counts from a window that has since closed are not carried
// into the new one. Usage only grows within a window (the headers may lag
// requests still in flight).
func (b *Budget) Observe(h http.Header, sent time.Time) {
	rl := api.ParseRateLimits(h)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rollLocked(b.now())
	sameQuarter := api.QuarterStart(sent).Equal(b.quarter)
	sameDay := api.DayStart(sent).Equal(b.day)
	apply := func(limit, used *api.Pair, bk api.Bucket) {
		*limit = bk.Limit
		if sameQuarter {
			used.Quarter = max(used.Quarter, bk.Usage.Quarter)
		}
		if sameDay {
			used.Day = max(used.Day, bk.Usage.Day)
		}
	}
	if rl.HasOverall {
		apply(&b.limit.overall, &b.used.overall, rl.Overall)
	}
	if rl.HasRead {
		apply(&b.limit.read, &b.used.read, rl.Read)
	}
}

// Refused records a 429 answer: it reads the headers, marks the window that
// was exceeded as spent, and returns when it opens again (the next UTC
// midnight when a daily count is at its limit, else the next quarter hour).
// Strava sends no Retry-After; the time comes from the documented windows.
func (b *Budget) Refused(h http.Header, sent time.Time) time.Time {
	b.Observe(h, sent)
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	o, r := b.used.overall, b.used.read
	switch {
	case o.Day >= b.limit.overall.Day:
		return api.NextDay(now)
	case r.Day >= b.limit.read.Day:
		return api.NextDay(now) // uploads may go on; reads wait for midnight
	case r.Quarter >= b.limit.read.Quarter:
		return api.NextQuarter(now)
	}
	// The headers do not show which count broke: hold everything until
	// the quarter ends.
	b.used.overall.Quarter = max(o.Quarter, b.limit.overall.Quarter)
	return api.NextQuarter(now)
}

// Remaining returns how many requests are left in the current windows:
// overall and read, per quarter hour and per day.
func (b *Budget) Remaining() (overall, read api.Pair) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rollLocked(b.now())
	sub := func(l, u api.Pair) api.Pair {
		return api.Pair{Quarter: max(0, l.Quarter-u.Quarter), Day: max(0, l.Day-u.Day)}
	}
	return sub(b.limit.overall, b.used.overall), sub(b.limit.read, b.used.read)
}
