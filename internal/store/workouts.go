package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bandsync/bandsync/internal/workout"
)

// WorkoutID identifies a workout in the store.
type WorkoutID int64

// Ref is what a source listing says about one workout: the input of
// UpsertWorkout. Start and the times in Summary are kept to the
// millisecond.
type Ref struct {
	Source      string // the source's Name(), e.g. "zepp"
	SourceID    string // stable ID within the source (source.Ref.ID)
	Start       time.Time
	Zone        workout.Zone // only Offset and Known are kept
	Sport       workout.Sport
	Fingerprint string
	// Summary: Distance, Elapsed, Moving, Calories, Ascent, AvgHR, MaxHR and
	// Steps are kept; zero means not reported.
	Summary workout.Summary
}

// Key is the workout's idempotency key, workout.Origin.Key().
func (r Ref) Key() string { return workout.Origin{Source: r.Source, ID: r.SourceID}.Key() }

// Record is a workout as the store holds it.
type Record struct {
	ID WorkoutID
	Ref
	FirstSeen time.Time
	LastSeen  time.Time
}

// Change says what UpsertWorkout found.
type Change uint8

// Changes.
const (
	// Unchanged: known, with the same fingerprint.
	Unchanged Change = iota
	// New: not seen before.
	New
	// Changed: known, and its fingerprint changed: the source's data was
	// edited or completed. Failed and skipped deliveries were reopened;
	// done and duplicate ones now report ChangedAtSource.
	Changed
)

func (c Change) String() string {
	switch c {
	case New:
		return "new"
	case Changed:
		return "changed"
	}
	return "unchanged"
}

// Upserted is the outcome of upserting one Ref.
type Upserted struct {
	ID     WorkoutID
	Change Change
}

// UpsertWorkout records that a listing saw ref; see UpsertWorkouts.
func (s *Store) UpsertWorkout(ctx context.Context, ref Ref, sinks ...string) (WorkoutID, Change, error) {
	res, err := s.UpsertWorkouts(ctx, []Ref{ref}, sinks...)
	if err != nil {
		return 0, 0, err
	}
	return res[0].ID, res[0].Change, nil
}

// UpsertWorkouts records that a listing saw refs, in one transaction (a
// page of a listing at a time is much cheaper than one call per workout).
// A new workout is inserted; a known one gets its last-seen time updated
// and, when its fingerprint changed, its data replaced and its deliveries
// updated as Changed describes. Results are in the order of refs.
//
// Each workout is also made sure to be meant for the given sinks, as
// EnsureDelivery does.
//
// A ref whose key (Ref.Key) equals another workout's fails with
// ErrKeyCollision; nothing of the batch is then recorded.
func (s *Store) UpsertWorkouts(ctx context.Context, refs []Ref, sinks ...string) ([]Upserted, error) {
	out := make([]Upserted, len(refs))
	err := s.writeTx(ctx, "record workouts", false, func(tx *txq, now int64) error {
		for i, r := range refs {
			u, err := upsert(ctx, tx, r, now)
			if err != nil {
				return err
			}
			for _, sink := range sinks {
				if err := ensureDelivery(ctx, tx, u.ID, sink, now); err != nil {
					return err
				}
			}
			out[i] = u
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func upsert(ctx context.Context, tx *txq, r Ref, now int64) (Upserted, error) {
	if r.Source == "" || r.SourceID == "" {
		return Upserted{}, fmt.Errorf("workout %q/%q: source and ID must not be empty", r.Source, r.SourceID)
	}
	if r.Start.IsZero() {
		return Upserted{}, fmt.Errorf("workout %s/%s: no start time", r.Source, r.SourceID)
	}
	var (
		id WorkoutID
		fp string
	)
	err := tx.QueryRowContext(ctx, `SELECT id, fingerprint FROM workouts WHERE source = ? AND source_id = ?`,
		r.Source, r.SourceID).Scan(&id, &fp)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		key := r.Key()
		var other, otherID string
		err := tx.QueryRowContext(ctx, `SELECT source, source_id FROM workouts WHERE key = ?`, key).Scan(&other, &otherID)
		if err == nil {
			return Upserted{}, fmt.Errorf("workout %s/%s and %s/%s share the key %q: %w",
				r.Source, r.SourceID, other, otherID, key, ErrKeyCollision)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return Upserted{}, err
		}
		args := append([]any{r.Source, r.SourceID, key}, refColumns(r)...)
		err = tx.QueryRowContext(ctx, `INSERT INTO workouts (source, source_id, key, `+refColumnNames+`,
				first_seen_ms, last_seen_ms)
			VALUES (`+marks(len(args)+2)+`) RETURNING id`,
			append(args, now, now)...).Scan(&id)
		if err != nil {
			return Upserted{}, err
		}
		return Upserted{ID: id, Change: New}, nil
	case err != nil:
		return Upserted{}, err
	case fp == r.Fingerprint:
		_, err := tx.ExecContext(ctx, `UPDATE workouts SET last_seen_ms = ? WHERE id = ?`, now, id)
		return Upserted{ID: id, Change: Unchanged}, err
	}
	// The fingerprint changed. Done and duplicate deliveries keep their
	// delivered_fingerprint, which now differs: that is the report. Failed
	// and skipped ones deserve another try with the new data.
	cols := refColumns(r)
	_, err = tx.ExecContext(ctx, `UPDATE workouts SET (`+refColumnNames+`, last_seen_ms) =
		(`+marks(len(cols)+1)+`) WHERE id = ?`,
		append(cols, now, id)...)
	if err != nil {
		return Upserted{}, err
	}
	_, err = tx.ExecContext(ctx, `UPDATE deliveries SET state = 'pending', `+clearOutcome+`, updated_ms = ?
		WHERE workout_id = ? AND state IN ('failed', 'skipped')`, now, id)
	return Upserted{ID: id, Change: Changed}, err
}

// refColumnNames are the workout columns a listing determines, in the
// order refColumns gives their values.
const refColumnNames = `fingerprint, start_ms, zone_offset_s, sport, distance_m, elapsed_ms, moving_ms,
	calories_kcal, ascent_m, avg_hr, max_hr, steps`

func refColumns(r Ref) []any {
	var zone sql.NullInt64
	if r.Zone.Known {
		zone = sql.NullInt64{Int64: int64(r.Zone.Offset / time.Second), Valid: true}
	}
	m := r.Summary
	return []any{r.Fingerprint, ms(r.Start), zone, r.Sport.String(),
		nullFloat(m.Distance), nullInt(m.Elapsed.Milliseconds()), nullInt(m.Moving.Milliseconds()),
		nullFloat(m.Calories), nullFloat(m.Ascent), nullInt(int64(m.AvgHR)), nullInt(int64(m.MaxHR)),
		nullInt(int64(m.Steps))}
}

// marks is n comma-separated SQL placeholders.
func marks(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

func nullFloat(v float64) sql.NullFloat64 { return sql.NullFloat64{Float64: v, Valid: v != 0} }
func nullInt(v int64) sql.NullInt64       { return sql.NullInt64{Int64: v, Valid: v != 0} }

// recordColumns selects a Record from workouts aliased w; scanRecord reads it.
const recordColumns = `w.id, w.source, w.source_id, ` + `w.fingerprint, w.start_ms, w.zone_offset_s, w.sport,
	w.distance_m, w.elapsed_ms, w.moving_ms, w.calories_kcal, w.ascent_m, w.avg_hr, w.max_hr, w.steps,
	w.first_seen_ms, w.last_seen_ms`

type scanner interface{ Scan(dest ...any) error }

// recordScan holds the nullable destinations of one Record.
type recordScan struct {
	r                                   Record
	start, first, last                  int64
	sport                               string
	zone, elapsed, moving, avg, max, st sql.NullInt64
	dist, cal, asc                      sql.NullFloat64
}

func (x *recordScan) dest() []any {
	return []any{&x.r.ID, &x.r.Source, &x.r.SourceID, &x.r.Fingerprint, &x.start, &x.zone, &x.sport,
		&x.dist, &x.elapsed, &x.moving, &x.cal, &x.asc, &x.avg, &x.max, &x.st, &x.first, &x.last}
}

func (x *recordScan) record() Record {
	r := x.r
	r.Start, r.FirstSeen, r.LastSeen = fromMS(x.start), fromMS(x.first), fromMS(x.last)
	if x.zone.Valid {
		r.Zone = workout.Zone{Offset: time.Duration(x.zone.Int64) * time.Second, Known: true}
	}
	// A sport name this version does not know (written by a newer one)
	// reads as SportOther rather than failing the whole listing.
	r.Sport, _ = workout.ParseSport(x.sport)
	r.Summary = workout.Summary{
		Distance: x.dist.Float64,
		Elapsed:  time.Duration(x.elapsed.Int64) * time.Millisecond,
		Moving:   time.Duration(x.moving.Int64) * time.Millisecond,
		Calories: x.cal.Float64,
		Ascent:   x.asc.Float64,
		AvgHR:    int(x.avg.Int64),
		MaxHR:    int(x.max.Int64),
		Steps:    int(x.st.Int64),
	}
	return r
}

// Workout returns the workout with the given ID, or ErrNotFound.
func (s *Store) Workout(ctx context.Context, id WorkoutID) (Record, error) {
	var x recordScan
	err := s.db.QueryRowContext(ctx, `SELECT `+recordColumns+` FROM workouts w WHERE w.id = ?`, id).Scan(x.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return Record{}, fmt.Errorf("workout %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Record{}, fmt.Errorf("read workout %d: %w", id, s.explain(err))
	}
	return x.record(), nil
}

// LookupWorkout returns the workout a source knows as sourceID, or
// ErrNotFound.
func (s *Store) LookupWorkout(ctx context.Context, source, sourceID string) (Record, error) {
	var x recordScan
	err := s.db.QueryRowContext(ctx, `SELECT `+recordColumns+` FROM workouts w WHERE w.source = ? AND w.source_id = ?`,
		source, sourceID).Scan(x.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return Record{}, fmt.Errorf("workout %s/%s: %w", source, sourceID, ErrNotFound)
	}
	if err != nil {
		return Record{}, fmt.Errorf("read workout %s/%s: %w", source, sourceID, s.explain(err))
	}
	return x.record(), nil
}

// Order is the order of a listing by workout start time.
type Order uint8

// Orders. The zero value is OldestFirst.
const (
	OldestFirst Order = iota
	NewestFirst
)

func (o Order) sql() string {
	if o == NewestFirst {
		return "w.start_ms DESC, w.id DESC"
	}
	return "w.start_ms, w.id"
}

// Filter selects workouts for Workouts. Zero fields select everything.
type Filter struct {
	// Since and Until bound the start time: [Since, Until).
	Since, Until time.Time
	// Source keeps the workouts of one source.
	Source string
	// Sports keeps the workouts of these sports.
	Sports []workout.Sport
	// State keeps workouts with a delivery in this state — on Sink, when
	// Sink is set, else on any sink.
	State State
	Sink  string
	// ChangedAtSource keeps workouts with a delivery that reports
	// ChangedAtSource (on Sink, when set).
	ChangedAtSource bool
	// Search keeps workouts whose key, source ID, sport or an activity ID
	// contains this text (case-insensitive).
	Search string
	// Limit caps the number returned (0: no cap), after skipping Offset.
	Limit, Offset int
	Order         Order
}

// WorkoutStatus is a workout with its deliveries, one per sink it is
// meant for, by sink name.
type WorkoutStatus struct {
	Workout    Record
	Deliveries []Delivery
}

// Delivery returns the workout's delivery to sink, and whether it has one.
func (w WorkoutStatus) Delivery(sink string) (Delivery, bool) {
	for _, d := range w.Deliveries {
		if d.Sink == sink {
			return d, true
		}
	}
	return Delivery{}, false
}

// Workouts lists the workouts f selects with each sink's delivery, and how
// many f selects in all (ignoring Limit and Offset), from one snapshot.
func (s *Store) Workouts(ctx context.Context, f Filter) ([]WorkoutStatus, int, error) {
	where, args := f.where()
	var (
		out   []WorkoutStatus
		total int
	)
	err := s.readTx(ctx, "list workouts", func(tx *txq) error {
		out, total = nil, 0
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM workouts w WHERE `+where, args...).Scan(&total); err != nil {
			return err
		}
		limit := int64(f.Limit)
		if limit <= 0 {
			limit = -1 // SQLite: no limit
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+recordColumns+`, `+deliveryColumns+`
			FROM (SELECT * FROM workouts w WHERE `+where+` ORDER BY `+f.Order.sql()+` LIMIT ? OFFSET ?) w
			LEFT JOIN deliveries d ON d.workout_id = w.id
			ORDER BY `+f.Order.sql()+`, d.sink`,
			append(args, limit, max(f.Offset, 0))...)
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
			if n := len(out); n == 0 || out[n-1].Workout.ID != x.r.ID {
				out = append(out, WorkoutStatus{Workout: x.record()})
			}
			if dx.sink.Valid {
				last := &out[len(out)-1]
				last.Deliveries = append(last.Deliveries, dx.delivery())
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// where is f as an SQL condition on workouts w, with its arguments.
func (f Filter) where() (string, []any) {
	conds := []string{"1"}
	var args []any
	add := func(cond string, a ...any) { conds = append(conds, cond); args = append(args, a...) }
	if !f.Since.IsZero() {
		add("w.start_ms >= ?", ms(f.Since))
	}
	if !f.Until.IsZero() {
		add("w.start_ms < ?", ms(f.Until))
	}
	if f.Source != "" {
		add("w.source = ?", f.Source)
	}
	if len(f.Sports) > 0 {
		var names []any
		for _, sp := range f.Sports {
			names = append(names, sp.String())
		}
		add("w.sport IN ("+marks(len(names))+")", names...)
	}
	onSink := ""
	var sinkArg []any
	if f.Sink != "" {
		onSink, sinkArg = " AND d.sink = ?", []any{f.Sink}
	}
	if f.State != "" {
		add("EXISTS (SELECT 1 FROM deliveries d WHERE d.workout_id = w.id AND d.state = ?"+onSink+")",
			append([]any{string(f.State)}, sinkArg...)...)
	}
	if f.ChangedAtSource {
		add("EXISTS (SELECT 1 FROM deliveries d WHERE d.workout_id = w.id AND "+changedAtSource+onSink+")", sinkArg...)
	}
	if f.Search != "" {
		q := strings.ToLower(f.Search)
		add(`(instr(lower(w.key), ?) OR instr(lower(w.source_id), ?) OR instr(w.sport, ?)
			OR EXISTS (SELECT 1 FROM deliveries d WHERE d.workout_id = w.id AND instr(lower(d.activity_id), ?)))`,
			q, q, q, q)
	}
	return strings.Join(conds, " AND "), args
}
