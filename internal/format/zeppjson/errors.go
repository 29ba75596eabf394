package zeppjson

import (
	"errors"
	"fmt"
	"time"
)

// Input limits. A 53-minute run's detail is about 150 KB and 3 000 entries
// per stream, so these leave two orders of magnitude of headroom while
// keeping a corrupt or hostile input from exhausting memory.
const (
	// MaxSummarySize is the largest summary object Decode and DecodeSummary accept.
	MaxSummarySize = 1 << 20
	// MaxHistorySize is the largest history.json page DecodeHistory accepts.
	MaxHistorySize = 32 << 20
	// MaxDetailSize is the largest detail object Decode accepts.
	MaxDetailSize = 64 << 20
	// MaxStreamEntries is the most entries one detail stream may hold.
	MaxStreamEntries = 1 << 21
	// MaxDuration is the latest offset from the start a stream may reach.
	MaxDuration = 7 * 24 * time.Hour
)

const maxOffset = int64(MaxDuration / time.Second)

var (
	// ErrEmpty is returned for empty input.
	ErrEmpty = errors.New("empty input")
	// ErrTooLarge is returned when an input or a stream exceeds a limit above.
	ErrTooLarge = errors.New("input too large")
	// ErrAPI is returned when a wrapped response carries a code other than 1
	// (success); the error text includes the code and message.
	ErrAPI = errors.New("zepp api error")
)

// FieldError reports a malformed field of a summary or detail.
type FieldError struct {
	Field string // JSON key, e.g. "heart_rate" or "summary[3].dis"
	Entry int    // index of the ';'-separated entry, from 0; -1 for the whole field
	Err   error
}

func (e *FieldError) Error() string {
	if e.Entry < 0 {
		return fmt.Sprintf("field %s: %v", e.Field, e.Err)
	}
	return fmt.Sprintf("field %s entry %d: %v", e.Field, e.Entry, e.Err)
}

func (e *FieldError) Unwrap() error { return e.Err }

func fieldErr(field string, entry int, format string, args ...any) error {
	return &FieldError{Field: field, Entry: entry, Err: fmt.Errorf(format, args...)}
}

func checkSize(what string, data []byte, limit int) error {
	if len(data) == 0 {
		return fmt.Errorf("%s: %w", what, ErrEmpty)
	}
	if len(data) > limit {
		return fmt.Errorf("%s is %d bytes, over the %d-byte limit: %w", what, len(data), limit, ErrTooLarge)
	}
	return nil
}
