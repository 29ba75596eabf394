package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Sentinel errors, checked with errors.Is. The errors the store returns
// carry a message for a person (which file, what to do); the sentinels let
// callers pick an exit code or a retry.
var (
	// ErrLocked: another bandsync process holds the data directory. The
	// error is a *LockedError.
	ErrLocked = errors.New("data directory in use")
	// ErrCorrupt: the database file is not a bandsync database or is
	// damaged. Moving it aside loses only local bookkeeping: the next sync
	// finds what the sinks already hold and does not upload it again.
	ErrCorrupt = errors.New("database damaged")
	// ErrBusy: the database stayed locked by another program (a sqlite3
	// shell, a backup tool) beyond the busy timeout.
	ErrBusy = errors.New("database busy")
	// ErrDiskFull: the disk holding the database is full.
	ErrDiskFull = errors.New("disk full")
	// ErrNewerSchema: the database was written by a newer bandsync.
	ErrNewerSchema = errors.New("database from a newer bandsync")
	// ErrOlderSchema: OpenReadOnly found a database that a writer must
	// upgrade first (run sync once).
	ErrOlderSchema = errors.New("database needs upgrading")
	// ErrReadOnly: a write on a store opened with OpenReadOnly.
	ErrReadOnly = errors.New("store opened read-only")
	// ErrNotFound: no such workout or delivery.
	ErrNotFound = errors.New("not found")
	// ErrTransition: a state change the delivery state machine forbids
	// (done back to pending, skipping an upload in flight, ...). The error
	// is a *TransitionError.
	ErrTransition = errors.New("invalid delivery state transition")
	// ErrKeyCollision: two workouts with different source IDs map to the
	// same idempotency key; the second is refused so a sink never confuses
	// them.
	ErrKeyCollision = errors.New("idempotency key collision")
)

// LockedError says which process holds the data directory.
type LockedError struct {
	Dir string
	// PID of the holder; 0 when it could not be read.
	PID int
}

func (e *LockedError) Error() string {
	who := "another bandsync"
	if e.PID > 0 {
		who += " (pid " + strconv.Itoa(e.PID) + ")"
	}
	return who + " is using " + e.Dir + "; wait for it or stop it"
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// TransitionError is a refused delivery state change.
type TransitionError struct {
	Workout WorkoutID
	Sink    string
	From    State
	To      State
	// Why explains a refusal that depends on more than the two states.
	Why string
}

func (e *TransitionError) Error() string {
	msg := fmt.Sprintf("workout %d on %s: cannot go from %s to %s", e.Workout, e.Sink, e.From, e.To)
	if e.Why != "" {
		msg += ": " + e.Why
	}
	return msg
}

// Is makes errors.Is(err, ErrTransition) true.
func (e *TransitionError) Is(target error) bool { return target == ErrTransition }

// dbError is an SQLite failure explained for a person, keeping both the
// sentinel (for errors.Is) and the driver's error (for errors.As).
type dbError struct {
	kind error  // one of the sentinels above
	msg  string // complete message
	err  error  // the driver's error
}

func (e *dbError) Error() string { return e.msg }
func (e *dbError) Unwrap() []error {
	if e.err == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.err}
}

// sqliteCode returns the primary SQLite result code in err's chain, or 0.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() & 0xff
	}
	return 0
}

// extendedCode returns the extended SQLite result code in err's chain, or 0.
func extendedCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

// explain turns SQLite errors a person must act on into errors that name
// the file and say what to do; other errors are returned unchanged.
func (s *Store) explain(err error) error {
	if err == nil {
		return nil
	}
	var de *dbError
	if errors.As(err, &de) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	switch sqliteCode(err) {
	case sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
		return corruptError(s.path, err)
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return &dbError{ErrBusy, fmt.Sprintf("%s stayed locked by another program for more than %v "+
			"(a sqlite3 shell or a backup tool?); close it and try again: %v", s.path, busyTimeout, err), err}
	case sqlite3.SQLITE_FULL:
		return &dbError{ErrDiskFull, fmt.Sprintf("%s: the disk is full; free some space and run again: %v", s.path, err), err}
	case sqlite3.SQLITE_READONLY:
		return fmt.Errorf("%s cannot be written (check its permissions and those of %s): %w", s.path, s.dir, err)
	case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN:
		return fmt.Errorf("%s: %w", s.path, err)
	}
	return err
}

func corruptError(path string, err error) error {
	return &dbError{ErrCorrupt, fmt.Sprintf("%s is not a bandsync database or is damaged: %v; "+
		"move it aside and run sync again; nothing on Strava is affected", path, err), err}
}
