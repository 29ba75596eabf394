package gadgetbridge

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"

	_ "modernc.org/sqlite" // driver "sqlite"
)

// sqliteMagic starts every SQLite database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// ErrInUse is matched by the error for a database that another program
// holds locked or that was not closed cleanly.
var ErrInUse = errors.New("database in use or not closed cleanly")

// ErrUnknownSchema is matched by the error for a database whose tables
// lack the columns bandsync needs.
var ErrUnknownSchema = errors.New("unknown database schema")

// isSQLite reports whether the file at path starts like an SQLite database.
func isSQLite(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	b := make([]byte, len(sqliteMagic))
	_, err = io.ReadFull(f, b)
	return err == nil && bytes.Equal(b, sqliteMagic)
}

// dsn is the read-only URI for path. immutable=1 makes SQLite take no
// locks and create no -wal, -shm or -journal file beside the person's
// database; checkNotInUse first makes sure that assumption holds.
func dsn(path string, immutable bool) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	q := "mode=ro"
	if immutable {
		q += "&immutable=1"
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q}
	if !strings.HasPrefix(u.Path, "/") { // Windows: file:///C:/...
		u.Path = "/" + u.Path
	}
	return u.String(), nil
}

// openDB opens a database read-only and immutable after checking that it
// is an SQLite file that no program is writing: a hot journal or WAL beside
// it, or a lock held on it, means the file may be mid-write, and an
// immutable reader would see a torn state.
func openDB(ctx context.Context, path string) (*sql.DB, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	hdr := make([]byte, 100)
	n, _ := io.ReadFull(f, hdr)
	f.Close()
	if n < len(sqliteMagic) || !bytes.Equal(hdr[:len(sqliteMagic)], sqliteMagic) {
		return nil, fmt.Errorf("database %s: not an SQLite database (corrupt or another kind of file)", path)
	}
	if n < 100 {
		return nil, fmt.Errorf("database %s: truncated SQLite header (%d bytes)", path, n)
	}
	for _, suffix := range []string{"-wal", "-journal"} {
		if fi, err := os.Stat(path + suffix); err == nil && fi.Size() > 0 {
			return nil, fmt.Errorf("database %s: %w: %s exists beside it; close Gadgetbridge (or the program using it) or export the database again",
				path, ErrInUse, filepath.Base(path+suffix))
		}
	}
	if hdr[18] == 1 { // rollback-journal mode: probe the lock without creating files
		d, err := dsn(path, false)
		if err != nil {
			return nil, err
		}
		probe, err := sql.Open("sqlite", d)
		if err != nil {
			return nil, fmt.Errorf("database %s: %w", path, err)
		}
		var x int
		err = probe.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&x)
		probe.Close()
		if err != nil {
			return nil, dbError(path, err)
		}
	}
	d, err := dsn(path, true)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", d)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	var x int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&x); err != nil {
		db.Close()
		return nil, dbError(path, err)
	}
	return db, nil
}

// dbError names the file and says what a locked or damaged database means.
func dbError(path string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "locked") || strings.Contains(msg, "busy") || strings.Contains(msg, "SQLITE_BUSY"):
		return fmt.Errorf("database %s: %w: another program holds it locked (%v); close Gadgetbridge or export the database again", path, ErrInUse, err)
	case strings.Contains(msg, "malformed") || strings.Contains(msg, "not a database") || strings.Contains(msg, "corrupt"):
		return fmt.Errorf("database %s is damaged (%v); export it again", path, err)
	}
	return fmt.Errorf("database %s: %w", path, err)
}

// columns returns the column names of table (empty when it does not exist).
func columns(ctx context.Context, db *sql.DB, table string) (map[string]bool, error) {
	rows, err := db.QueryContext(ctx, `SELECT name FROM pragma_table_info(?)`, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		cols[strings.ToUpper(name)] = true
	}
	return cols, rows.Err()
}

// requireColumns fails with ErrUnknownSchema naming the table and the
// columns it lacks.
func requireColumns(path, table string, have map[string]bool, need ...string) error {
	if len(have) == 0 {
		return fmt.Errorf("database %s: %w: no %s table", path, ErrUnknownSchema, table)
	}
	var missing []string
	for _, c := range need {
		if !have[c] {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("database %s: %w: table %s lacks column(s) %s", path, ErrUnknownSchema, table, strings.Join(missing, ", "))
	}
	return nil
}

// tableExists reports whether db has a table of that name.
func tableExists(ctx context.Context, db *sql.DB, name string) bool {
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?`, name).Scan(&n)
	return err == nil && n > 0
}
