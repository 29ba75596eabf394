package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Rate-limit header names (strava-api.md §4). Each holds "<15-min>,<daily>".
const (
	HeaderLimit         = "X-RateLimit-Limit"
	HeaderUsage         = "X-RateLimit-Usage"
	HeaderReadLimit     = "X-ReadRateLimit-Limit"
	HeaderReadUsage     = "X-ReadRateLimit-Usage"
	RateLimitMessage    = "Rate Limit Exceeded"
	QuarterHour         = 15 * time.Minute
	maxRateLimitPairLen = 64
)

// Pair is a 15-minute and a daily count.
type Pair struct {
	Quarter, Day int
}

// Bucket is one of Strava's two rate-limit buckets: its limits and usage.
type Bucket struct {
	Limit, Usage Pair
}

// RateLimits is what a response's headers say about both buckets. Overall
// counts every request; Read counts every request except upload and
// activity-create POSTs.
type RateLimits struct {
	Overall, Read       Bucket
	HasOverall, HasRead bool
}

// ParsePair parses a "<15-min>,<daily>" header value such as "200,2000".
func ParsePair(v string) (Pair, error) {
	if len(v) > maxRateLimitPairLen {
		return Pair{}, errors.New("rate-limit header too long")
	}
	a, b, ok := strings.Cut(v, ",")
	if !ok {
		return Pair{}, fmt.Errorf("rate-limit header %q: want two comma-separated numbers", v)
	}
	q, err1 := strconv.Atoi(strings.TrimSpace(a))
	d, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil || q < 0 || d < 0 {
		return Pair{}, fmt.Errorf("rate-limit header %q: want two non-negative numbers", v)
	}
	return Pair{Quarter: q, Day: d}, nil
}

// String formats p as a header value.
func (p Pair) String() string { return strconv.Itoa(p.Quarter) + "," + strconv.Itoa(p.Day) }

// ParseRateLimits reads both buckets from h. A bucket whose two headers are
// missing or malformed is left out (HasOverall/HasRead false): a client must
// keep its own count rather than trust a half-read header.
func ParseRateLimits(h http.Header) RateLimits {
	var r RateLimits
	r.Overall, r.HasOverall = parseBucket(h.Get(HeaderLimit), h.Get(HeaderUsage))
	r.Read, r.HasRead = parseBucket(h.Get(HeaderReadLimit), h.Get(HeaderReadUsage))
	return r
}

func parseBucket(limit, usage string) (Bucket, bool) {
	if limit == "" || usage == "" {
		return Bucket{}, false
	}
	l, err := ParsePair(limit)
	if err != nil {
		return Bucket{}, false
	}
	u, err := ParsePair(usage)
	if err != nil {
		return Bucket{}, false
	}
	return Bucket{Limit: l, Usage: u}, true
}

// SetRateLimits writes both buckets' headers on h.
func SetRateLimits(h http.Header, r RateLimits) {
	h.Set(HeaderLimit, r.Overall.Limit.String())
	h.Set(HeaderUsage, r.Overall.Usage.String())
	h.Set(HeaderReadLimit, r.Read.Limit.String())
	h.Set(HeaderReadUsage, r.Read.Usage.String())
}

// RateLimitFault is the 429 body Strava sends (strava-api.md §4).
func RateLimitFault() *Fault {
	return &Fault{Message: RateLimitMessage, Errors: []FaultError{{Resource: "Application", Field: "rate limit", Code: "exceeded"}}}
}

// QuarterStart returns the start of the 15-minute window holding t: windows
// begin at :00, :15, :30 and :45 of every hour, UTC.
func QuarterStart(t time.Time) time.Time { return t.UTC().Truncate(QuarterHour) }

// NextQuarter returns when the 15-minute window holding t ends.
func NextQuarter(t time.Time) time.Time { return QuarterStart(t).Add(QuarterHour) }

// DayStart returns the start of the UTC day holding t: the daily limit
// resets at midnight UTC.
func DayStart(t time.Time) time.Time {
	u := t.UTC()
	return time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
}

// NextDay returns the UTC midnight after t.
func NextDay(t time.Time) time.Time { return DayStart(t).AddDate(0, 0, 1) }
