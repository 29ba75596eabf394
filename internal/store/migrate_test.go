package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/pressly/goose/v3"
)

// seed is what a test stores right after migrating to one schema version
// (in that version's SQL) and expects to read back, through the API, after
// upgrading to the latest.
type seed struct {
	sql   string
	check func(t *testing.T, s *Store)
}

// seeds has one entry per migration; TestMigrateFromEveryVersion fails
// when a new migration has none.
var seeds = map[int64]seed{
	1: {
		sql: `
INSERT INTO workouts (id, source, source_id, key, fingerprint, start_ms, zone_offset_s, sport, distance_m,
	elapsed_ms, moving_ms, first_seen_ms, last_seen_ms)
VALUES (7, 'zepp', '1489900000', 'zepp-1489900000', 'fp1', 1489900000000, 3600, 'run', 10000.5,
	3600000, 3500000, 1, 2);
INSERT INTO deliveries (workout_id, sink, state, activity_id, delivered_fingerprint, updated_ms)
VALUES (7, 'strava', 'done', '123456', 'fp1', 3);
INSERT INTO deliveries (workout_id, sink, state, fail_class, fail_message, attempts, next_retry_ms, updated_ms)
VALUES (7, 'archive', 'failed', 'retryable', 'disk busy', 2, 4, 3);
INSERT INTO coverage (source, from_ms, to_ms) VALUES ('zepp', 1488326400000, 1700000000000);
INSERT INTO meta (key, value, updated_ms) VALUES ('strava.rate_limit_opens', '2026-03-01T14:45:00Z', 5);`,
		check: func(t *testing.T, s *Store) {
			ctx := context.Background()
			w, err := s.Workout(ctx, 7)
			if err != nil || w.Key() != "zepp-1489900000" || w.Summary.Distance != 10000.5 || w.Zone.Offset.Hours() != 1 {
				t.Errorf("v1 workout: %+v %v", w, err)
			}
			if d, err := s.Delivery(ctx, 7, "strava"); err != nil || d.State != Done || d.ActivityID != "123456" || d.ChangedAtSource {
				t.Errorf("v1 done delivery: %+v %v", d, err)
			}
			if d, err := s.Delivery(ctx, 7, "archive"); err != nil || d.State != Failed || d.Attempts != 2 || d.FailMessage != "disk busy" {
				t.Errorf("v1 failed delivery: %+v %v", d, err)
			}
			cov, err := s.Coverage(ctx, "zepp")
			if back, _ := CompleteBack(cov); err != nil || back.From.Format("2006-01") != "2017-03" {
				t.Errorf("v1 coverage: %v %v", cov, err)
			}
			if v, ok, err := s.Meta(ctx, "strava.rate_limit_opens"); err != nil || !ok || v != "2026-03-01T14:45:00Z" {
				t.Errorf("v1 meta: %q %v %v", v, ok, err)
			}
		},
	},
	2: {
		sql: `INSERT INTO stream_cache (sink, activity_id, fetched_ms, data) VALUES ('strava', '123456', 9, X'7B7D');`,
		check: func(t *testing.T, s *Store) {
			if data, _, err := s.Streams(context.Background(), "strava", "123456"); err != nil || string(data) != "{}" {
				t.Errorf("v2 streams: %q %v", data, err)
			}
		},
	},
}

func versions(t *testing.T, fsys fs.FS) []int64 {
	t.Helper()
	db, err := sql.Open("sqlite", ":memory:")
	must(t, err)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys, goose.WithDisableGlobalRegistry(true))
	must(t, err)
	var out []int64
	for _, src := range p.ListSources() {
		out = append(out, src.Version)
	}
	return out
}

// buildAt makes a database in dir at schema version v, seeding each
// version on the way, as an older bandsync would have left it.
func buildAt(t *testing.T, dir string, v int64) {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("sqlite", filepath.Join(dir, FileName)+"?_pragma=foreign_keys(1)")
	must(t, err)
	defer db.Close()
	db.SetMaxOpenConns(1)
	p, err := goose.NewProvider(goose.DialectSQLite3, db, migrations, goose.WithDisableGlobalRegistry(true))
	must(t, err)
	for _, k := range versions(t, migrations) {
		if k > v {
			break
		}
		if _, err := p.UpTo(ctx, k); err != nil {
			t.Fatalf("migrate to %d: %v", k, err)
		}
		if _, err := db.ExecContext(ctx, seeds[k].sql); err != nil {
			t.Fatalf("seed version %d: %v", k, err)
		}
	}
}

func TestMigrateFromEveryVersion(t *testing.T) {
	all := versions(t, migrations)
	latest := all[len(all)-1]
	for _, v := range all {
		if _, ok := seeds[v]; !ok {
			t.Fatalf("migration %d has no seed in migrate_test.go: add rows for its tables and a check", v)
		}
	}
	for _, v := range all {
		t.Run(fmt.Sprint("from ", v), func(t *testing.T) {
			dir := t.TempDir()
			buildAt(t, dir, v)
			s, err := Open(context.Background(), dir)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for _, k := range all {
				if k <= v {
					seeds[k].check(t, s)
				}
			}
			backup := filepath.Join(dir, fmt.Sprintf("%s.before-v%d", FileName, v))
			if _, err := os.Stat(backup); (err == nil) != (v < latest) {
				t.Errorf("backup %s: %v (want one only before an upgrade)", backup, err)
			}
		})
	}
}

func TestMigrationInterrupted(t *testing.T) {
	ctx := context.Background()
	real := migrations
	defer func() { migrations = real }()
	v1, err := fs.ReadFile(real, "00001_ledger.sql")
	must(t, err)
	dir := t.TempDir()

	migrations = fstest.MapFS{"00001_ledger.sql": {Data: v1}}
	s, err := Open(ctx, dir)
	must(t, err)
	id := addWorkout(t, s, 1, "strava")
	must(t, s.Close())

	// Version 2 fails halfway, as a crash or a full disk would stop it.
	migrations = fstest.MapFS{
		"00001_ledger.sql": {Data: v1},
		"00002_broken.sql": {Data: []byte("-- +goose Up\nCREATE TABLE half (x INTEGER);\nINSERT INTO nowhere VALUES (1);\n")},
	}
	_, err = Open(ctx, dir)
	if err == nil || !strings.Contains(err.Error(), "upgrade") {
		t.Fatalf("broken migration: %v", err)
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, FileName))
	must(t, err)
	var half, version int
	must(t, db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name = 'half'`).Scan(&half))
	must(t, db.QueryRow(`SELECT max(version_id) FROM goose_db_version`).Scan(&version))
	db.Close()
	if half != 0 || version != 1 {
		t.Errorf("after a failed migration: table half %d, version %d; want 0, 1", half, version)
	}

	migrations = real
	s, err = Open(ctx, dir)
	if err != nil {
		t.Fatalf("upgrade after the failure: %v", err)
	}
	defer s.Close()
	if _, err := s.Workout(ctx, id); err != nil {
		t.Errorf("data lost: %v", err)
	}
}

func TestSchemaVersionMismatch(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	buildAt(t, dir, 1)
	if _, err := OpenReadOnly(ctx, dir); !errors.Is(err, ErrOlderSchema) || !strings.Contains(err.Error(), "run bandsync sync once") {
		t.Errorf("reader on an old schema: %v", err)
	}
	s, err := Open(ctx, dir)
	must(t, err)
	_, err = s.db.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (999, 1)`)
	must(t, err)
	s.Close()
	for name, open := range map[string]func(context.Context, string, ...Option) (*Store, error){"Open": Open, "OpenReadOnly": OpenReadOnly} {
		if _, err := open(ctx, dir); !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), "upgrade bandsync") {
			t.Errorf("%s on a newer schema: %v", name, err)
		}
	}
}
