package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Meta keys in use. Values are text; times are RFC 3339.
const (
	// MetaLastWatch is when a watching sync last polled the source.
	MetaLastWatch = "watch.last"
	// MetaNextWatch is when it polls next.
	MetaNextWatch = "watch.next"
	// MetaLastSource is the source the last sync read, as JSON: the
	// dashboard's "sync now" reads it too.
	MetaLastSource = "sync.last_source"
)

// MetaRateLimitOpens is the key under which the time a sink's rate-limit
// window opens again is kept, e.g. "strava.rate_limit_opens".
func MetaRateLimitOpens(sink string) string { return sink + ".rate_limit_opens" }

// Meta returns the value stored under key, and whether there is one.
func (s *Store) Meta(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read %s: %w", key, s.explain(err))
	}
	return v, true, nil
}

// SetMeta stores value under key.
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	return s.writeTx(ctx, "store "+key, false, func(tx *txq, now int64) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value, updated_ms) VALUES (?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_ms = excluded.updated_ms`, key, value, now)
		return err
	})
}

// DeleteMeta removes key; removing an absent key is not an error.
func (s *Store) DeleteMeta(ctx context.Context, key string) error {
	return s.writeTx(ctx, "delete "+key, false, func(tx *txq, _ int64) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM meta WHERE key = ?`, key)
		return err
	})
}

// MetaTime returns the time stored under key (zero and false when absent).
func (s *Store) MetaTime(ctx context.Context, key string) (time.Time, bool, error) {
	v, ok, err := s.Meta(ctx, key)
	if err != nil || !ok {
		return time.Time{}, false, err
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read %s: %w", key, err)
	}
	return t, true, nil
}

// SetMetaTime stores t under key.
func (s *Store) SetMetaTime(ctx context.Context, key string, t time.Time) error {
	return s.SetMeta(ctx, key, t.UTC().Format(time.RFC3339Nano))
}
