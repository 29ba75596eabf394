package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bandsync/bandsync/internal/errclass"
	sqlite3 "modernc.org/sqlite/lib"
)

// State is where a delivery (one workout on one sink) stands. Its value is
// what the store holds and what status --json shows.
type State string

// States.
const (
	// Pending: to be sent.
	Pending State = "pending"
	// Uploading: about to be sent or sent, outcome not yet recorded. After a
	// crash, reconcile with the sink (by key, or upload ID) before sending
	// again: MarkDone/MarkDuplicate when it holds the workout, MarkUnsent
	// when it does not.
	Uploading State = "uploading"
	// Done: the sink holds the workout as ActivityID, sent by bandsync.
	Done State = "done"
	// Duplicate: the sink already held the workout (as ActivityID), put
	// there another way or recognised by the sink; nothing was created.
	Duplicate State = "duplicate"
	// Skipped: deliberately not sent (SkipReason).
	Skipped State = "skipped"
	// Failed: the last attempt failed (FailClass, FailMessage). It is due
	// again at NextRetry, or, when NextRetry is zero, only when the source's
	// data changes or on an explicit Retry.
	Failed State = "failed"
)

// States lists every state, in the order status shows them.
var States = []State{Pending, Uploading, Done, Duplicate, Skipped, Failed}

// Delivery is one workout's state on one sink.
type Delivery struct {
	Workout WorkoutID
	Sink    string
	State   State
	// Key is the idempotency key the workout was last sent under.
	Key string
	// UploadID is the sink's ID for an accepted upload, when known.
	UploadID string
	// UploadingSince is when the current upload was begun (Uploading).
	UploadingSince time.Time
	// ActivityID is what the sink holds (Done, Duplicate).
	ActivityID string
	// MatchedBy says how a Duplicate was recognised (e.g. "external_id").
	MatchedBy  string
	SkipReason string
	// FailClass and FailMessage describe the last failure (Failed).
	FailClass   errclass.Class
	FailMessage string
	// Attempts counts failed attempts since the delivery was last reopened.
	Attempts int
	// NextRetry is when a Failed delivery is due again; zero: not before the
	// source's data changes or an explicit Retry.
	NextRetry time.Time
	// DeliveredFingerprint is the workout's fingerprint when it was sent
	// or matched.
	DeliveredFingerprint string
	// ChangedAtSource: Done or Duplicate, and the source's data changed
	// since. bandsync reports this and does not upload again.
	ChangedAtSource bool
	Updated         time.Time
}

// Due is a delivery with its workout, as Pending and Uploading return it.
type Due struct {
	Workout  Record
	Delivery Delivery
}

// changedAtSource is the SQL condition for Delivery.ChangedAtSource on
// deliveries d joined with workouts w.
const changedAtSource = `(d.state IN ('done', 'duplicate') AND d.delivered_fingerprint IS NOT NULL
	AND d.delivered_fingerprint <> w.fingerprint)`

// deliveryColumns selects a Delivery from deliveries d joined with
// workouts w; deliveryScan reads it (all nullable, for LEFT JOINs).
const deliveryColumns = `d.workout_id, d.sink, d.state, d.idem_key, d.upload_id, d.uploading_since_ms,
	d.activity_id, d.matched_by, d.skip_reason, d.fail_class, d.fail_message, d.attempts, d.next_retry_ms,
	d.delivered_fingerprint, coalesce(` + changedAtSource + `, 0), d.updated_ms`

// clearOutcome resets a delivery's columns for a fresh start as pending.
const clearOutcome = `idem_key = NULL, upload_id = NULL, uploading_since_ms = NULL, activity_id = NULL,
	matched_by = NULL, skip_reason = NULL, fail_class = NULL, fail_message = NULL, attempts = 0,
	next_retry_ms = NULL, delivered_fingerprint = NULL`

type deliveryScan struct {
	wid, since, attempts, next, updated                       sql.NullInt64
	sink, state, key, upload, act, matched, skip, class, fmsg sql.NullString
	fp                                                        sql.NullString
	changed                                                   bool
}

func (x *deliveryScan) nullableDest() []any {
	return []any{&x.wid, &x.sink, &x.state, &x.key, &x.upload, &x.since, &x.act, &x.matched, &x.skip,
		&x.class, &x.fmsg, &x.attempts, &x.next, &x.fp, &x.changed, &x.updated}
}

func (x *deliveryScan) delivery() Delivery {
	class, _ := errclass.ParseClass(x.class.String)
	return Delivery{
		Workout:              WorkoutID(x.wid.Int64),
		Sink:                 x.sink.String,
		State:                State(x.state.String),
		Key:                  x.key.String,
		UploadID:             x.upload.String,
		UploadingSince:       fromNullMS(x.since),
		ActivityID:           x.act.String,
		MatchedBy:            x.matched.String,
		SkipReason:           x.skip.String,
		FailClass:            class,
		FailMessage:          x.fmsg.String,
		Attempts:             int(x.attempts.Int64),
		NextRetry:            fromNullMS(x.next),
		DeliveredFingerprint: x.fp.String,
		ChangedAtSource:      x.changed,
		Updated:              fromNullMS(x.updated),
	}
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func getDelivery(ctx context.Context, q querier, wid WorkoutID, sink string) (Delivery, error) {
	var x deliveryScan
	err := q.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries d JOIN workouts w ON w.id = d.workout_id
		WHERE d.workout_id = ? AND d.sink = ?`, wid, sink).Scan(x.nullableDest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return Delivery{}, fmt.Errorf("workout %d on %s: %w", wid, sink, ErrNotFound)
	}
	if err != nil {
		return Delivery{}, err
	}
	return x.delivery(), nil
}

// Delivery returns the workout's delivery to sink, or ErrNotFound.
func (s *Store) Delivery(ctx context.Context, wid WorkoutID, sink string) (Delivery, error) {
	var d Delivery
	err := s.readTx(ctx, "read delivery", func(tx *txq) error {
		var err error
		d, err = getDelivery(ctx, tx, wid, sink)
		return err
	})
	return d, err
}

// EnsureDelivery makes sure the workout is meant for sink: it creates a
// Pending delivery unless one exists, and returns the delivery as it
// stands. It fails with ErrNotFound for an unknown workout.
func (s *Store) EnsureDelivery(ctx context.Context, wid WorkoutID, sink string) (Delivery, error) {
	var d Delivery
	err := s.writeTx(ctx, "ensure delivery", false, func(tx *txq, now int64) error {
		if err := ensureDelivery(ctx, tx, wid, sink, now); err != nil {
			return err
		}
		var err error
		d, err = getDelivery(ctx, tx, wid, sink)
		return err
	})
	return d, err
}

func ensureDelivery(ctx context.Context, tx *txq, wid WorkoutID, sink string, now int64) error {
	if sink == "" {
		return errors.New("empty sink name")
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO deliveries (workout_id, sink, state, updated_ms)
		VALUES (?, ?, 'pending', ?) ON CONFLICT DO NOTHING`, wid, sink, now)
	if extendedCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY {
		return fmt.Errorf("workout %d: %w", wid, ErrNotFound)
	}
	return err
}

// transition is one checked state change of a delivery, in one
// transaction: check says whether the change from cur is refused (why),
// or needed at all (a repeat of a change already made is a no-op, so a
// caller replaying after a crash does no harm); apply writes it, where
// its guard holds (see change).
func (s *Store) transition(ctx context.Context, wid WorkoutID, sink string, to State, durable bool, g guard,
	check func(cur Delivery) (noop bool, why string),
	apply func(tx *txq, now int64, g guard) (bool, error)) error {
	return s.writeTx(ctx, "mark "+string(to), durable, change(ctx, wid, sink, to, g, check, apply))
}

// guard is an SQL condition on a delivery's row, with its arguments: the
// rows that check would let change without reading them first.
type guard struct {
	cond string
	args []any
}

// in is the guard of the rows in one of the states.
func in(states ...State) guard {
	g := guard{cond: "state IN (" + strings.Repeat("?, ", len(states)-1) + "?)"}
	for _, st := range states {
		g.args = append(g.args, string(st))
	}
	return g
}

// change is transition's write. The common case costs one statement: the
// update under the guard. Only when it changes nothing is the delivery
// read and checked, to refuse the change, call it a no-op, or make it
// (apply without a guard).
func change(ctx context.Context, wid WorkoutID, sink string, to State, g guard,
	check func(cur Delivery) (noop bool, why string),
	apply func(tx *txq, now int64, g guard) (bool, error)) func(tx *txq, now int64) error {
	return func(tx *txq, now int64) error {
		if g.cond != "" {
			if done, err := apply(tx, now, g); done || err != nil {
				return err
			}
		}
		cur, err := getDelivery(ctx, tx, wid, sink)
		if err != nil {
			return err
		}
		noop, why := check(cur)
		if why != "" {
			return &TransitionError{Workout: wid, Sink: sink, From: cur.State, To: to, Why: why}
		}
		if noop {
			return nil
		}
		_, err = apply(tx, now, guard{})
		return err
	}
}

// from is a check that allows the change from the given states only.
func from(states ...State) func(Delivery) (bool, string) {
	return func(cur Delivery) (bool, string) {
		if slices.Contains(states, cur.State) {
			return false, ""
		}
		return false, "not allowed"
	}
}

// set updates the delivery's state and the given columns where g holds
// (everywhere for a zero guard), and says whether it did.
func set(ctx context.Context, tx *txq, wid WorkoutID, sink string, to State, now int64, g guard, cols string, args ...any) (bool, error) {
	args = append([]any{string(to)}, args...)
	args = append(args, now, wid, sink)
	where := ""
	if g.cond != "" {
		where = " AND (" + g.cond + ")"
		args = append(args, g.args...)
	}
	res, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = ?, `+cols+`, updated_ms = ?
		WHERE workout_id = ? AND sink = ?`+where, args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// MarkUploading records the intent to send the workout to sink under the
// idempotency key, and without an upload ID is durable on disk when it
// returns: call it so before sending, so that after any crash the delivery
// is Uploading and is reconciled with the sink before anything is sent
// again. Call it again with the sink's upload ID once the sink accepted
// the upload.
//
// From Pending, or Failed with a NextRetry (a permanent failure is retried
// only through Retry or a change at the source); from Uploading it only
// records uploadID, and the key must be the same.
func (s *Store) MarkUploading(ctx context.Context, wid WorkoutID, sink, key, uploadID string) error {
	if key == "" {
		return errors.New("mark uploading: empty idempotency key")
	}
	// The intent must be on disk before the upload may be; the upload ID
	// that follows only saves a listing when reconciling.
	durable := uploadID == ""
	return s.writeTx(ctx, "mark uploading", durable, uploading(ctx, wid, sink, key, uploadID))
}

// NoteUploadID records the upload ID of an upload begun with
// MarkUploading, as MarkUploading would, but without a commit of its own:
// it is committed with the next write, read or Close. A crash before that
// loses only the ID, which reconciling then makes up for by listing the
// sink. A failure to record it is not reported.
func (s *Store) NoteUploadID(ctx context.Context, wid WorkoutID, sink, key, uploadID string) {
	if key != "" && uploadID != "" {
		ctx = context.WithoutCancel(ctx)
		s.deferTx(ctx, "note upload ID", uploading(ctx, wid, sink, key, uploadID))
	}
}

// uploading is MarkUploading's write. Its guard is the common case: an
// intent from Pending or a retry, or the upload ID of the upload begun
// under key.
func uploading(ctx context.Context, wid WorkoutID, sink, key, uploadID string) func(tx *txq, now int64) error {
	g := guard{cond: "state = 'pending' OR (state = 'failed' AND next_retry_ms IS NOT NULL)"}
	if uploadID != "" {
		g = guard{cond: "state = 'uploading' AND idem_key = ?", args: []any{key}}
	}
	var cur State
	return change(ctx, wid, sink, Uploading, g, func(d Delivery) (bool, string) {
		cur = d.State
		switch {
		case d.State == Pending:
		case d.State == Failed && d.NextRetry.IsZero():
			return false, "the failure was permanent; retry it explicitly"
		case d.State == Failed:
		case d.State == Uploading && d.Key != key:
			return false, fmt.Sprintf("already uploading under key %q", d.Key)
		case d.State == Uploading:
			return uploadID == "" || uploadID == d.UploadID, ""
		default:
			return false, "not allowed"
		}
		return false, ""
	}, func(tx *txq, now int64, g guard) (bool, error) {
		if cur == Uploading || (g.cond != "" && uploadID != "") {
			return set(ctx, tx, wid, sink, Uploading, now, g, `upload_id = ?`, uploadID)
		}
		return set(ctx, tx, wid, sink, Uploading, now, g, `idem_key = ?, upload_id = ?, uploading_since_ms = ?,
			delivered_fingerprint = (SELECT fingerprint FROM workouts WHERE id = workout_id),
			activity_id = NULL, matched_by = NULL, fail_class = NULL, fail_message = NULL, next_retry_ms = NULL`,
			key, nullString(uploadID), now)
	})
}

// MarkDone records that sink now holds the workout as activityID, created
// by bandsync. From Pending, Uploading, or Failed (reconciling may find
// that a failed-looking upload went through). Repeating it with the same
// activity ID is a no-op; another activity ID is refused.
func (s *Store) MarkDone(ctx context.Context, wid WorkoutID, sink, activityID string) error {
	return s.markHeld(ctx, wid, sink, Done, activityID, "")
}

// MarkDuplicate records that sink already held the workout as activityID
// (uploaded another way, or recognised by the sink), matched as matchedBy
// says. Same rules as MarkDone.
func (s *Store) MarkDuplicate(ctx context.Context, wid WorkoutID, sink, activityID, matchedBy string) error {
	return s.markHeld(ctx, wid, sink, Duplicate, activityID, matchedBy)
}

func (s *Store) markHeld(ctx context.Context, wid WorkoutID, sink string, to State, activityID, matchedBy string) error {
	if activityID == "" {
		return fmt.Errorf("mark %s: empty activity ID", to)
	}
	return s.transition(ctx, wid, sink, to, false, in(Pending, Uploading, Failed), func(d Delivery) (bool, string) {
		switch d.State {
		case Pending, Uploading, Failed:
			return false, ""
		case to:
			if d.ActivityID == activityID {
				return true, ""
			}
			return false, fmt.Sprintf("already %s as activity %s, not %s", to, d.ActivityID, activityID)
		}
		return false, "not allowed"
	}, func(tx *txq, now int64, g guard) (bool, error) {
		// The fingerprint recorded when the upload began is what the sink
		// holds; without an upload, the current one is the best knowledge.
		return set(ctx, tx, wid, sink, to, now, g, `activity_id = ?, matched_by = ?, uploading_since_ms = NULL,
			delivered_fingerprint = CASE WHEN state = 'uploading' THEN delivered_fingerprint
				ELSE (SELECT fingerprint FROM workouts WHERE id = workout_id) END,
			fail_class = NULL, fail_message = NULL, next_retry_ms = NULL, skip_reason = NULL`,
			activityID, nullString(matchedBy))
	})
}

// MarkSkipped records that the workout is deliberately not sent to sink,
// and why. From Pending, Failed or Skipped (a new reason). An upload in
// flight cannot be skipped: its outcome must be reconciled first.
func (s *Store) MarkSkipped(ctx context.Context, wid WorkoutID, sink, reason string) error {
	if reason == "" {
		return errors.New("mark skipped: empty reason")
	}
	return s.transition(ctx, wid, sink, Skipped, false, in(Pending, Failed, Skipped), from(Pending, Failed, Skipped),
		func(tx *txq, now int64, g guard) (bool, error) {
			return set(ctx, tx, wid, sink, Skipped, now, g, `skip_reason = ?, uploading_since_ms = NULL,
				fail_class = NULL, fail_message = NULL, next_retry_ms = NULL`, reason)
		})
}

// maxMessage bounds a stored failure message.
const maxMessage = 2000

// MarkFailed records a failed attempt: its class, a message for a person
// (never a secret), and when to try again — zero for a failure that
// retrying will not fix, which stays failed until the source's data changes
// or an explicit Retry. Attempts goes up by one. From Pending, Failed, or
// Uploading when the sink's answer is known to be a refusal (an unknown
// outcome stays Uploading and is reconciled). A rate-limit wait is not a
// failure: do not record it.
func (s *Store) MarkFailed(ctx context.Context, wid WorkoutID, sink string, class errclass.Class, msg string, nextRetry time.Time) error {
	if len(msg) > maxMessage {
		msg = msg[:maxMessage] + "…"
	}
	return s.transition(ctx, wid, sink, Failed, false, in(Pending, Uploading, Failed), from(Pending, Uploading, Failed),
		func(tx *txq, now int64, g guard) (bool, error) {
			return set(ctx, tx, wid, sink, Failed, now, g, `fail_class = ?, fail_message = ?, next_retry_ms = ?,
				attempts = attempts + 1, uploading_since_ms = NULL`, class.String(), msg, nullMS(nextRetry))
		})
}

// MarkUnsent returns an Uploading delivery to Pending once reconciling has
// shown that the sink does not hold the workout, so it may be sent again.
// On a Pending delivery it is a no-op.
func (s *Store) MarkUnsent(ctx context.Context, wid WorkoutID, sink string) error {
	return s.transition(ctx, wid, sink, Pending, false, in(Uploading), func(d Delivery) (bool, string) {
		switch d.State {
		case Uploading:
			return false, ""
		case Pending:
			return true, ""
		}
		return false, "only an upload in flight can be found unsent"
	}, func(tx *txq, now int64, g guard) (bool, error) {
		return set(ctx, tx, wid, sink, Pending, now, g, `idem_key = NULL, upload_id = NULL, uploading_since_ms = NULL,
			delivered_fingerprint = NULL`)
	})
}

// Retry reopens a Failed or Skipped delivery as Pending, on a person's
// request, with its attempts reset. On a Pending delivery it is a no-op;
// Done, Duplicate and Uploading deliveries are refused.
func (s *Store) Retry(ctx context.Context, wid WorkoutID, sink string) error {
	return s.transition(ctx, wid, sink, Pending, false, in(Failed, Skipped), func(d Delivery) (bool, string) {
		switch d.State {
		case Failed, Skipped:
			return false, ""
		case Pending:
			return true, ""
		}
		return false, "only failed or skipped deliveries can be retried"
	}, func(tx *txq, now int64, g guard) (bool, error) {
		return set(ctx, tx, wid, sink, Pending, now, g, clearOutcome)
	})
}

// RetryFailed reopens every Failed delivery to sink (every sink when sink
// is "") as Pending, and says how many.
func (s *Store) RetryFailed(ctx context.Context, sink string) (int, error) {
	var n int64
	err := s.writeTx(ctx, "retry failed", false, func(tx *txq, now int64) error {
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = 'pending', `+clearOutcome+`, updated_ms = ?
			WHERE state = 'failed' AND (? = '' OR sink = ?)`, now, sink, sink)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// PendingFilter narrows Pending.
type PendingFilter struct {
	// Source keeps the workouts of one source (empty: every source).
	Source string
	// Since and Until bound the workouts' start time: [Since, Until).
	Since, Until time.Time
	// Limit caps the number returned (0: no cap).
	Limit int
	Order Order
	// After, when set, keeps the workouts that come after it in
	// OldestFirst order: the next page of a plan.
	After Cursor
}

// Cursor is a position in OldestFirst order: a workout's start and ID.
type Cursor struct {
	Start time.Time
	ID    WorkoutID
}

// CursorOf is the position of workout r.
func CursorOf(r Record) Cursor { return Cursor{Start: r.Start, ID: r.ID} }

// Compare orders cursors as OldestFirst does: by start, then by ID.
func (c Cursor) Compare(o Cursor) int {
	if d := c.Start.Compare(o.Start); d != 0 {
		return d
	}
	return cmp.Compare(c.ID, o.ID)
}

// where adds f's conditions on the workouts (w) to cond and args.
func (f PendingFilter) where(cond string, args []any) (string, []any) {
	if f.Source != "" {
		cond += ` AND w.source = ?`
		args = append(args, f.Source)
	}
	if !f.Since.IsZero() {
		cond += ` AND w.start_ms >= ?`
		args = append(args, ms(f.Since))
	}
	if !f.Until.IsZero() {
		cond += ` AND w.start_ms < ?`
		args = append(args, ms(f.Until))
	}
	if f.After != (Cursor{}) {
		// Written so that the start_ms bound can use workouts_by_start.
		cond += ` AND w.start_ms >= ? AND (w.start_ms > ? OR w.id > ?)`
		at := ms(f.After.Start)
		args = append(args, at, at, f.After.ID)
	}
	return cond, args
}

// dueCond selects the deliveries that are due for work now.
const dueCond = `(d.state = 'pending' OR (d.state = 'failed' AND d.next_retry_ms <= ?))`

// DueStats describes the deliveries due for work to some sinks.
type DueStats struct {
	Workouts    int            // workouts with at least one due delivery
	First, Last time.Time      // their earliest and latest start
	BySink      map[string]int // due deliveries per sink
}

// DueStats counts the deliveries to sinks that Pending would return, and
// the workouts they belong to, without loading them.
func (s *Store) DueStats(ctx context.Context, sinks []string, f PendingFilter) (DueStats, error) {
	st := DueStats{BySink: map[string]int{}}
	if len(sinks) == 0 {
		return st, nil
	}
	args := []any{ms(s.now())}
	in := strings.Repeat("?, ", len(sinks)-1) + "?"
	for _, n := range sinks {
		args = append(args, n)
	}
	cond, args := f.where(dueCond+` AND d.sink IN (`+in+`)`, args)
	err := s.readTx(ctx, "count due deliveries", func(tx *txq) error {
		rows, err := tx.QueryContext(ctx, `SELECT d.sink, COUNT(*) FROM deliveries d JOIN workouts w ON w.id = d.workout_id
			WHERE `+cond+` GROUP BY d.sink`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var name string
			var n int
			if err := rows.Scan(&name, &n); err != nil {
				return err
			}
			st.BySink[name] = n
		}
		if err := rows.Err(); err != nil {
			return err
		}
		var first, last sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(DISTINCT w.id), MIN(w.start_ms), MAX(w.start_ms)
			FROM deliveries d JOIN workouts w ON w.id = d.workout_id WHERE `+cond, args...).Scan(&st.Workouts, &first, &last); err != nil {
			return err
		}
		if first.Valid {
			st.First, st.Last = fromMS(first.Int64), fromMS(last.Int64)
		}
		return nil
	})
	return st, err
}

// Pending returns the deliveries to sink that are due for work: Pending
// ones, and Failed ones whose NextRetry has come, in start-time order.
func (s *Store) Pending(ctx context.Context, sink string, f PendingFilter) ([]Due, error) {
	cond, args := f.where(`d.sink = ? AND `+dueCond, []any{sink, ms(s.now())})
	limit := int64(f.Limit)
	if limit <= 0 {
		limit = -1
	}
	// The walk goes through the workouts in start order from the cursor
	// and looks up each one's delivery, so a page costs about its own
	// length while the history is mostly due (a backfill), instead of a
	// sort of every due delivery for each page; when little is due, one
	// walk over the workouts after the cursor.
	return s.due(ctx, "list pending", pendingFrom, cond+` ORDER BY `+f.Order.sql()+` LIMIT ?`, append(args, limit)...)
}

// pendingFrom makes SQLite walk workouts_by_start (CROSS JOIN keeps the
// workouts as the outer loop).
const pendingFrom = `workouts w INDEXED BY workouts_by_start CROSS JOIN deliveries d ON d.workout_id = w.id`

// Uploading returns the deliveries to sink whose upload was begun but whose
// outcome is not recorded (after a crash, or still processing at the
// sink), oldest upload first: reconcile them before sending anything.
func (s *Store) Uploading(ctx context.Context, sink string) ([]Due, error) {
	return s.due(ctx, "list uploading", `deliveries d JOIN workouts w ON w.id = d.workout_id`,
		`d.sink = ? AND d.state = 'uploading' ORDER BY d.uploading_since_ms, w.id`, sink)
}

func (s *Store) due(ctx context.Context, op, from, cond string, args ...any) ([]Due, error) {
	var out []Due
	err := s.readTx(ctx, op, func(tx *txq) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+recordColumns+`, `+deliveryColumns+` FROM `+from+` WHERE `+cond, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				x  recordScan
				dx deliveryScan
			)
			if err := rows.Scan(append(x.dest(), dx.nullableDest()...)...); err != nil {
				return err
			}
			out = append(out, Due{Workout: x.record(), Delivery: dx.delivery()})
		}
		return rows.Err()
	})
	return out, err
}

// NextRetry returns the earliest NextRetry of the Failed deliveries to sink
// that will be retried, and false when there is none: when a watching
// sync has work again without the source changing.
func (s *Store) NextRetry(ctx context.Context, sink string) (time.Time, bool, error) {
	var next sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT min(next_retry_ms) FROM deliveries
		WHERE sink = ? AND state = 'failed'`, sink).Scan(&next)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next retry: %w", s.explain(err))
	}
	return fromNullMS(next), next.Valid, nil
}

// SinkCounts is how the deliveries to one sink stand.
type SinkCounts struct {
	// States counts deliveries by state (absent: none).
	States map[State]int
	// Retrying counts Failed deliveries that will be retried by themselves.
	Retrying int
	// ChangedAtSource counts Done and Duplicate deliveries whose workout
	// changed at the source since.
	ChangedAtSource int
	// FailedBy counts Failed deliveries by failure class name.
	FailedBy map[string]int
	// SkippedBy counts Skipped deliveries by reason.
	SkippedBy map[string]int
	// Unanswered counts Uploading deliveries without an upload ID: sent,
	// or about to be, when a run stopped before the sink answered.
	// UnansweredSince is when the last of them was begun.
	Unanswered      int
	UnansweredSince time.Time
}

// Total is the number of deliveries to the sink.
func (c SinkCounts) Total() int {
	n := 0
	for _, v := range c.States {
		n += v
	}
	return n
}

// Counts returns, per sink name, how its deliveries stand, from one
// snapshot.
func (s *Store) Counts(ctx context.Context) (map[string]SinkCounts, error) {
	out := map[string]SinkCounts{}
	get := func(sink string) SinkCounts {
		c, ok := out[sink]
		if !ok {
			c = SinkCounts{States: map[State]int{}, FailedBy: map[string]int{}, SkippedBy: map[string]int{}}
			out[sink] = c
		}
		return c
	}
	err := s.readTx(ctx, "count deliveries", func(tx *txq) error {
		rows, err := tx.QueryContext(ctx, `SELECT d.sink, d.state, count(*),
				count(*) FILTER (WHERE d.next_retry_ms IS NOT NULL),
				count(*) FILTER (WHERE `+changedAtSource+`),
				count(*) FILTER (WHERE d.state = 'uploading' AND d.upload_id IS NULL),
				max(d.uploading_since_ms) FILTER (WHERE d.state = 'uploading' AND d.upload_id IS NULL)
			FROM deliveries d JOIN workouts w ON w.id = d.workout_id GROUP BY d.sink, d.state`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				sink, state                      string
				n, retrying, changed, unanswered int
				since                            sql.NullInt64
			)
			if err := rows.Scan(&sink, &state, &n, &retrying, &changed, &unanswered, &since); err != nil {
				return err
			}
			c := get(sink)
			c.States[State(state)] = n
			if State(state) == Failed {
				c.Retrying += retrying
			}
			c.ChangedAtSource += changed
			if unanswered > 0 {
				c.Unanswered, c.UnansweredSince = unanswered, fromNullMS(since)
			}
			out[sink] = c
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.QueryContext(ctx, `SELECT sink, state, coalesce(fail_class, skip_reason), count(*)
			FROM deliveries WHERE state IN ('failed', 'skipped') GROUP BY 1, 2, 3`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				sink, state, why string
				n                int
			)
			if err := rows.Scan(&sink, &state, &why, &n); err != nil {
				return err
			}
			if c := get(sink); State(state) == Failed {
				c.FailedBy[why] = n
			} else {
				c.SkippedBy[why] = n
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
