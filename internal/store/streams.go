package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// PutStreams caches the streams (the sink's JSON) of an activity on sink,
// replacing what was cached.
func (s *Store) PutStreams(ctx context.Context, sink, activityID string, data []byte) error {
	return s.writeTx(ctx, "cache streams", false, func(tx *txq, now int64) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO stream_cache (sink, activity_id, fetched_ms, data) VALUES (?, ?, ?, ?)
			ON CONFLICT (sink, activity_id) DO UPDATE SET fetched_ms = excluded.fetched_ms, data = excluded.data`,
			sink, activityID, now, data)
		return err
	})
}

// Streams returns the cached streams of an activity on sink and when they
// were fetched, or ErrNotFound.
func (s *Store) Streams(ctx context.Context, sink, activityID string) ([]byte, time.Time, error) {
	var (
		data    []byte
		fetched int64
	)
	err := s.db.QueryRowContext(ctx, `SELECT data, fetched_ms FROM stream_cache WHERE sink = ? AND activity_id = ?`,
		sink, activityID).Scan(&data, &fetched)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, time.Time{}, fmt.Errorf("streams of %s activity %s: %w", sink, activityID, ErrNotFound)
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("read streams: %w", s.explain(err))
	}
	return data, fromMS(fetched), nil
}
