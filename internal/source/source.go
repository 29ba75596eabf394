// Package source defines where bandsync reads workouts from. Each provider
// (the Zepp cloud, Zepp's data export, Gadgetbridge, a folder of files) is a
// package under source/ implementing Source; sourcetest holds the
// conformance suite every provider passes.
package source

import (
	"context"
	"iter"
	"os"
	"path/filepath"
	"time"

	"github.com/bandsync/bandsync/internal/errclass"

	"github.com/bandsync/bandsync/internal/workout"
)

// Ref is what a listing knows about one workout without fetching it.
type Ref struct {
	// ID is stable: the same workout has the same ID in every listing, for
	// ever (Zepp: the trackid, plus the data source when needed).
	ID string
	// Start is the workout's start time in UTC.
	Start time.Time
	// Sport is the source's sport mapped to the canonical enum (SportOther
	// when the source's code is unknown: the workout is still listed).
	Sport workout.Sport
	// Fingerprint changes whenever the source's data for the workout
	// changes (an edit, a re-sync with more detail), and only then.
	Fingerprint string
	// Summary holds whatever totals the listing carries (zero = unknown),
	// so planning and deduplication need no Fetch.
	Summary workout.Summary
}

// Source lists and fetches workouts.
//
// Errors are classified with package errclass and checked with errors.Is
// or errors.As: errclass.ErrReAuth (credentials refused or expired beyond
// renewal: a person must authorize again), errclass.ErrRetryable (transient;
// try again later), errclass.ErrNotFound (Fetch: the workout vanished since
// it was listed) and anything else is permanent for that call or workout.
type Source interface {
	// Name identifies the source kind: "zepp", "zepp-export",
	// "gadgetbridge" or "files". It is the Origin.Source of every workout.
	Name() string

	// List yields the workouts whose Start lies in [since, until) — a zero
	// since or until leaves that side open — newest first (by Start, ties
	// by ID ascending), each ID once. It streams: memory does not grow with
	// the length of the history. An error ends the sequence; the error is
	// yielded with a zero Ref. Breaking out of the loop stops the listing.
	List(ctx context.Context, since, until time.Time) iter.Seq2[Ref, error]

	// Fetch returns the whole workout for a Ref from List, with
	// Origin{Source: Name(), ID: ref.ID} set. It fails with an error that
	// matches errclass.ErrNotFound when the workout no longer exists.
	Fetch(ctx context.Context, ref Ref) (*workout.Workout, error)
}

// InWindow reports whether start lies in [since, until), a zero bound
// leaving that side open: the window List honours.
func InWindow(start, since, until time.Time) bool {
	return (since.IsZero() || !start.Before(since)) && (until.IsZero() || start.Before(until))
}

// Yield is List for sources that hold their whole listing in memory:
// it yields the refs in [since, until) in the order given (newest first,
// as List promises), stopping with ctx's error when ctx ends.
func Yield(ctx context.Context, refs []Ref, since, until time.Time) iter.Seq2[Ref, error] {
	return func(yield func(Ref, error) bool) {
		for _, r := range refs {
			if !InWindow(r.Start, since, until) {
				continue
			}
			if err := ctx.Err(); err != nil {
				yield(Ref{}, err)
				return
			}
			if !yield(r, nil) {
				return
			}
		}
	}
}

// ResolvePath resolves the path a person gave an offline source (--path)
// to an absolute one without symbolic links, and says what it is. Errors
// are usage errors naming the source kind and the path.
func ResolvePath(kind, path string) (real string, fi os.FileInfo, err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", nil, errclass.Usagef("%s: %v", kind, err)
	}
	if real, err = filepath.EvalSymlinks(abs); err == nil {
		fi, err = os.Stat(real)
	}
	if err != nil {
		return "", nil, errclass.Usagef("%s: %s: %v", kind, path, err)
	}
	return real, fi, nil
}
