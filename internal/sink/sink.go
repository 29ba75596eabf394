// Package sink defines where bandsync writes workouts: Strava, or a local
// archive folder. Each provider is a package under sink/ implementing Sink;
// sinktest holds the conformance suite every provider passes.
package sink

import (
	"context"
	"time"

	"github.com/bandsync/bandsync/internal/workout"
)

// Outcome says what a Put did.
type Outcome uint8

// Outcomes of Put.
const (
	// Created: the sink now holds the workout as ActivityID.
	Created Outcome = iota + 1
	// Duplicate: the sink already held the workout as ActivityID (same
	// key, or the sink itself recognised it); nothing new was created.
	Duplicate
	// Accepted: the sink took the upload as UploadID and is still
	// processing it; Confirm (see Confirmer) later says how it ended.
	Accepted
)

func (o Outcome) String() string {
	switch o {
	case Created:
		return "created"
	case Duplicate:
		return "duplicate"
	case Accepted:
		return "accepted"
	}
	return "unknown"
}

// Result is what Put reports.
type Result struct {
	Outcome    Outcome
	ActivityID string // Created, Duplicate
	UploadID   string // Accepted (and Created/Duplicate when known)
	// MatchedBy says how a Duplicate was recognised, e.g. "external_id",
	// "duplicate-error", "start-time".
	MatchedBy string
}

// Window is a half-open time range [After, Before) of activity start
// times; a zero bound leaves that side open.
type Window struct {
	After, Before time.Time
}

// Activity is what a sink holds, with what deduplication needs.
type Activity struct {
	ID         string
	Start      time.Time // UTC
	Elapsed    time.Duration
	Moving     time.Duration
	Distance   float64 // m
	SportType  string  // the sink's own sport name (Strava sport_type)
	ExternalID string  // the idempotency key it was uploaded with, if any
	DeviceName string
	UploadID   string
	Name       string
}

// Sink stores workouts.
//
// Idempotency contract: key is a stable idempotency key for the workout
// (workout.Origin.Key()). A sink stores it with the workout (Strava:
// external_id; archive: the file name) and never holds two copies for one
// key: a Put for a key it already holds returns Duplicate with the existing
// activity. A sink whose Put can be interrupted after the remote side acted
// (a lost response) cannot always tell at Put time, so callers must not
// repeat a Put whose outcome is unknown before List (or Confirm) has shown
// the key is absent.
//
// Errors are classified with package errclass: ErrReAuth (authorize again),
// ErrRateLimited (errclass.UntilOf says when the budget opens; waiting is
// not a failure), ErrRetryable (transient) and anything else is permanent
// for this workout.
type Sink interface {
	// Name identifies the sink: "strava", "archive".
	Name() string
	// Put writes w under key.
	Put(ctx context.Context, w *workout.Workout, key string) (Result, error)
	// List returns the activities whose start lies in win, oldest first.
	List(ctx context.Context, win Window) ([]Activity, error)
}

// Pending is an upload a sink accepted but had not finished processing.
type Pending struct {
	Key      string
	UploadID string
	Start    time.Time // the workout's start
	Sent     time.Time // when the upload was accepted
}

// Confirmation is how a pending upload ended, or that it is still
// processing (Result.Outcome == Accepted). Err is set when the sink
// rejected the upload (a classified error, permanent for this workout).
type Confirmation struct {
	Pending Pending
	Result  Result
	Err     error
}

// Confirmer is implemented by sinks whose Put answers Accepted: Confirm
// resolves many pending uploads at once, spending as few remote calls as it
// can (Strava: one activity listing for all of them, and a status poll only
// for those the listing does not show after the processing time).
type Confirmer interface {
	Confirm(ctx context.Context, pending []Pending) ([]Confirmation, error)
}

// Prefetcher is implemented by sinks that can list a whole time window
// once, so that the Puts of a backfill over that window need no listing of
// their own (Strava: one request per 200 activities instead of one per
// upload).
type Prefetcher interface {
	Prefetch(ctx context.Context, win Window) error
}

// Rememberer is implemented by sinks whose Confirm finishes an upload's
// work (Strava fixes the sport type and feed visibility once an activity
// exists). A process that resumes uploads begun by an earlier one tells the
// sink what each was, as far as the workout's start and sport go.
type Rememberer interface {
	Remember(key string, w *workout.Workout)
}

// Local is implemented by sinks whose Put either finishes or leaves nothing
// behind, in this process, with nothing sent elsewhere (the archive: files
// written whole and renamed into place). A crash can then never leave an
// outcome unknown, so the syncer does not record the intent to Put (a
// durable write) before calling it: a Put repeated after a crash finds the
// key and answers Duplicate.
type Local interface {
	// Local is a marker; it does nothing.
	Local()
}

// Batcher is implemented by local sinks that can write many workouts with
// one wait for the disk: Stage does what Put does except that the workout
// is not yet durable or visible; Flush makes every staged workout so. A
// staged workout's Result holds only once a Flush returned nil: should
// Flush fail, or the process end before it, a staged workout may be
// missing (a later Put or Stage writes it, or finds it written), never
// half there.
type Batcher interface {
	Sink
	Local
	Stage(ctx context.Context, w *workout.Workout, key string) (Result, error)
	Flush(ctx context.Context) error
}

// Matcher is implemented by sinks that can tell, without sending anything,
// that they already hold a workout (Strava: the same external_id, or the
// upload of Zepp's own link). The syncer asks before it records the intent
// to Put, so that a workout found there is recorded at once and never left
// "uploading" by a crash, to be reconciled. ok false says nothing: Put
// decides. Match must not create anything.
type Matcher interface {
	Match(ctx context.Context, w *workout.Workout, key string) (res Result, ok bool, err error)
}
