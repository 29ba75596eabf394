package store

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Window is a half-open time span [From, To), kept to the millisecond.
type Window struct {
	From, To time.Time
}

// Empty reports whether the window holds no instant.
func (w Window) Empty() bool { return !w.From.Before(w.To) }

func (w Window) String() string {
	return w.From.UTC().Format(time.RFC3339) + "–" + w.To.UTC().Format(time.RFC3339)
}

// AddCoverage records that source's workouts starting in [from, to) were
// all listed: a listing of that window finished without error. It merges
// the window with the overlapping and adjacent ones already recorded. A
// zero from means since the beginning of time; a zero to means now.
func (s *Store) AddCoverage(ctx context.Context, source string, from, to time.Time) error {
	return s.writeTx(ctx, "record coverage", false, func(tx *txq, now int64) error {
		lo, hi := ms(from), now
		if !to.IsZero() {
			hi = ms(to)
		}
		if hi <= lo {
			return fmt.Errorf("empty window %v–%v", from, to)
		}
		// Everything touching [lo, hi) joins it; the result replaces them.
		err := tx.QueryRowContext(ctx, `SELECT coalesce(min(min(from_ms), ?), ?), coalesce(max(max(to_ms), ?), ?)
			FROM coverage WHERE source = ? AND from_ms <= ? AND to_ms >= ?`,
			lo, lo, hi, hi, source, hi, lo).Scan(&lo, &hi)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM coverage WHERE source = ? AND from_ms <= ? AND to_ms >= ?`,
			source, hi, lo); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO coverage (source, from_ms, to_ms) VALUES (?, ?, ?)`, source, lo, hi)
		return err
	})
}

// Coverage returns the windows of source listed completely, oldest first,
// disjoint and not adjacent.
func (s *Store) Coverage(ctx context.Context, source string) ([]Window, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT from_ms, to_ms FROM coverage WHERE source = ? ORDER BY from_ms`, source)
	if err != nil {
		return nil, fmt.Errorf("read coverage: %w", s.explain(err))
	}
	defer rows.Close()
	var out []Window
	for rows.Next() {
		var lo, hi int64
		if err := rows.Scan(&lo, &hi); err != nil {
			return nil, fmt.Errorf("read coverage: %w", s.explain(err))
		}
		out = append(out, Window{From: fromMS(lo), To: fromMS(hi)})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read coverage: %w", s.explain(err))
	}
	return out, nil
}

// CompleteBack returns the newest covered window: the source's history is
// complete from its From (zero: from the beginning) up to its To. It is
// false when nothing is covered. covered is as Coverage returns it.
func CompleteBack(covered []Window) (Window, bool) {
	if len(covered) == 0 {
		return Window{}, false
	}
	w := covered[len(covered)-1]
	if w.From.UnixMilli() <= (time.Time{}).UnixMilli() {
		w.From = time.Time{}
	}
	return w, true
}

// Uncovered returns the parts of want that covered (as Coverage returns
// it) leaves out, oldest first: what a resumed backfill still has to list.
// A zero want.From means the beginning of time.
func Uncovered(covered []Window, want Window) []Window {
	var out []Window
	cur := want.From
	for _, c := range covered {
		if !c.To.After(cur) {
			continue
		}
		if !c.From.Before(want.To) {
			break
		}
		if c.From.After(cur) {
			out = append(out, Window{From: cur, To: c.From})
		}
		cur = c.To
	}
	if cur.Before(want.To) {
		out = append(out, Window{From: cur, To: want.To})
	}
	return slices.DeleteFunc(out, Window.Empty)
}
