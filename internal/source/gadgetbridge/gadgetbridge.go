// Package gadgetbridge reads workouts that never went through a cloud:
// Gadgetbridge's exported database (the "Gadgetbridge" / "Gadgetbridge.db"
// file, its export folder, or its "Backup to zip"), the raw Huami and Zepp
// OS blobs and GPX tracks beside it, Gadgetbridge's auto-exported FIT
// folder, and — as a second mode of the same source — the Mi Fit app's own
// origin_db. Formats: ../shared/reference/offline-formats.md (§ in
// comments point there).
//
// The person's database is never modified: it is opened read-only and
// immutable (no -wal/-shm/-journal files appear beside it), after checking
// that no program is writing it. A zip is checked by package zipsafe; its
// database is copied to a private temporary folder, which Close removes.
//
// IDs survive a re-export, a zip backup of the same database and a
// reinstall that fetches the same workouts again: "<START_TIME
// ms>-<device key>", the device key being a short hash of the band's
// Bluetooth address (never the address itself). Mi Fit workouts are
// "mifit-<trackid>-<source>", FIT files without a database row
// "fit-<file name>".
package gadgetbridge

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/source"
	"github.com/bandsync/bandsync/internal/source/zipsafe"
	"github.com/bandsync/bandsync/internal/workout"
)

// Name is the source name and the Origin.Source of every workout.
const Name = "gadgetbridge"

// Kind is what Open found at the path.
type Kind string

// Kinds of input.
const (
	KindGadgetbridge Kind = "gadgetbridge" // a Gadgetbridge database (with or without its files)
	KindMiFit        Kind = "mifit"        // Mi Fit's origin_db
	KindFITFolder    Kind = "fit-folder"   // only auto-exported FIT files, no database
)

// Options configure a source. All are optional.
type Options struct {
	// FITDir is a folder of FIT files Gadgetbridge auto-exported, read
	// besides what the export itself holds.
	FITDir string
	// Limits bound what a zip may expand to (default zipsafe.DefaultLimits).
	Limits zipsafe.Limits
	// TempDir is where a zip's database is copied (default os.TempDir).
	TempDir string
}

// Source reads one export. It implements source.Source; call Close when
// done.
type Source struct {
	input  string // what the person gave
	kind   Kind
	dbPath string // the database read (a temporary copy for a zip)
	files  fileSet
	tmp    string // temporary folder to remove, if any
	zr     *zipsafe.Reader

	mu      sync.Mutex
	db      *sql.DB // for Fetch; reopened when the file changes
	dbStamp string
	schema  *schema
	fits    *fitIndex
}

var _ source.Source = (*Source)(nil)

// Open detects what path is — a database file, an export folder, a backup
// zip, or a folder of FIT files — and checks that it can be read. A
// database that is locked, damaged or of an unknown schema fails here,
// naming the file.
func Open(ctx context.Context, path string, opt Options) (_ *Source, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, errclass.New(errclass.Usage, fmt.Errorf("gadgetbridge: %w", err))
	}
	s := &Source{input: path}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	var sets multiSet
	switch {
	case fi.IsDir():
		db := findDB(path)
		roots := []string{path}
		if db != "" {
			s.dbPath = db
		}
		sets = append(sets, dirSet{roots: roots})
	case isSQLite(path):
		s.dbPath = path
		dir := filepath.Dir(path)
		roots := []string{dir}
		if filepath.Base(dir) == "database" { // an unpacked backup zip
			roots = append(roots, filepath.Dir(dir))
		}
		sets = append(sets, dirSet{roots: roots})
	default:
		zr, err := zipsafe.Open(path, opt.Limits)
		if err != nil {
			return nil, fmt.Errorf("gadgetbridge: %s is neither an SQLite database nor a readable zip: %w", path, err)
		}
		s.zr = zr
		sets = append(sets, zipSet{zr})
		if e, ok := findDBEntry(zr); ok {
			tmp, err := os.MkdirTemp(opt.TempDir, "bandsync-gadgetbridge-")
			if err != nil {
				return nil, err
			}
			s.tmp = tmp
			s.dbPath = filepath.Join(tmp, "Gadgetbridge")
			if err := zr.ExtractTo(e, s.dbPath); err != nil {
				return nil, err
			}
		}
	}
	if opt.FITDir != "" {
		sets = append(sets, dirSet{roots: []string{opt.FITDir}})
	}
	s.files = sets

	if s.dbPath == "" {
		s.kind = KindFITFolder
		n := 0
		sets.fitFiles(func(string, linked) bool { n++; return false })
		if n == 0 {
			return nil, errclass.Usagef("gadgetbridge: no Gadgetbridge database, Mi Fit database or FIT file in %s", path)
		}
		return s, nil
	}
	db, sc, err := s.openChecked(ctx)
	if err != nil {
		return nil, err
	}
	s.kind = sc.kind
	s.db, s.schema = db, sc
	return s, nil
}

// findDB looks for the database in an export folder.
func findDB(dir string) string {
	for _, n := range []string{"Gadgetbridge", "Gadgetbridge.db", "database/Gadgetbridge", "origin_db"} {
		p := filepath.Join(dir, filepath.FromSlash(n))
		if isSQLite(p) {
			return p
		}
	}
	for _, pat := range []string{"*.db", "origin_db*", "Gadgetbridge*"} {
		m, _ := filepath.Glob(filepath.Join(dir, pat))
		for _, p := range m {
			if isSQLite(p) {
				return p
			}
		}
	}
	return ""
}

// findDBEntry looks for the database in a backup zip.
func findDBEntry(zr *zipsafe.Reader) (zipsafe.Entry, bool) {
	for _, n := range []string{"database/Gadgetbridge", "Gadgetbridge", "Gadgetbridge.db", "files/Gadgetbridge"} {
		if e, ok := zr.Lookup(n); ok {
			return e, true
		}
	}
	for _, e := range zr.Entries() {
		if b := filepath.Base(e.Name); strings.HasSuffix(b, ".db") || strings.HasPrefix(b, "origin_db") {
			return e, true
		}
	}
	return zipsafe.Entry{}, false
}

// Name is "gadgetbridge".
func (s *Source) Name() string { return Name }

// Kind says what Open found.
func (s *Source) Kind() Kind { return s.kind }

// Database is the path of the database read ("" for a FIT folder).
func (s *Source) Database() string { return s.dbPath }

// Close releases the database and removes the temporary copy of a zip's
// database.
func (s *Source) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	if s.db != nil {
		errs = append(errs, s.db.Close())
		s.db = nil
	}
	if s.zr != nil {
		errs = append(errs, s.zr.Close())
		s.zr = nil
	}
	if s.tmp != "" {
		errs = append(errs, os.RemoveAll(s.tmp))
		s.tmp = ""
	}
	return errors.Join(errs...)
}

// stamp identifies the database file's current state, so that a handle
// opened on an older state is not reused (immutable handles never look).
func (s *Source) stamp() string {
	fi, err := os.Stat(s.dbPath)
	if err != nil {
		return ""
	}
	return fmt.Sprint(fi.Size(), fi.ModTime().UnixNano())
}

// openChecked opens the database and probes its schema.
func (s *Source) openChecked(ctx context.Context) (*sql.DB, *schema, error) {
	db, err := openDB(ctx, s.dbPath)
	if err != nil {
		return nil, nil, err
	}
	sc, err := probeSchema(ctx, db, s.dbPath)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, sc, nil
}

// fetchDB returns the shared handle Fetch uses, reopened if the file
// changed since it was opened.
func (s *Source) fetchDB(ctx context.Context) (*sql.DB, *schema, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stamp()
	if s.db != nil && st == s.dbStamp {
		return s.db, s.schema, nil
	}
	db, sc, err := s.openChecked(ctx)
	if err != nil {
		return nil, nil, err
	}
	if s.db != nil {
		s.db.Close()
	}
	s.db, s.schema, s.dbStamp = db, sc, st
	return db, sc, nil
}

// List yields the workouts whose start lies in [since, until), newest
// first. It reads the database through a cursor: only the (start, row id)
// pairs SQLite sorts and the index of FIT files are held, never the
// workouts. A database that cannot be read ends the listing with its
// error; a problem with one workout's files surfaces when it is fetched.
func (s *Source) List(ctx context.Context, since, until time.Time) iter.Seq2[source.Ref, error] {
	return func(yield func(source.Ref, error) bool) {
		if err := ctx.Err(); err != nil {
			yield(source.Ref{}, err)
			return
		}
		fits, err := s.indexFITs(ctx)
		if err != nil {
			yield(source.Ref{}, err)
			return
		}
		if s.kind == KindFITFolder {
			for _, r := range fits.unmatchedRefs(since, until) {
				if err := ctx.Err(); err != nil {
					yield(source.Ref{}, err)
					return
				}
				if !yield(r, nil) {
					return
				}
			}
			return
		}
		// Each listing has its own handle: a Fetch between two yields
		// may replace the shared one.
		db, sc, err := s.openChecked(ctx)
		if err != nil {
			yield(source.Ref{}, err)
			return
		}
		defer db.Close()
		if s.kind == KindMiFit {
			s.listMiFit(ctx, db, since, until, yield)
			return
		}
		if err := fits.match(ctx, db, s.dbPath); err != nil {
			yield(source.Ref{}, err)
			return
		}
		extra := fits.unmatchedRefs(since, until)
		emit := func(r source.Ref) bool {
			for len(extra) > 0 && before(extra[0], r) {
				if !yield(extra[0], nil) {
					return false
				}
				extra = extra[1:]
			}
			return yield(r, nil)
		}
		if !s.listRows(ctx, db, sc, fits, since, until, emit, yield) {
			return
		}
		for _, r := range extra {
			if err := ctx.Err(); err != nil {
				yield(source.Ref{}, err)
				return
			}
			if !yield(r, nil) {
				return
			}
		}
	}
}

// before reports whether a comes before b in listing order.
func before(a, b source.Ref) bool {
	return a.Start.After(b.Start) || a.Start.Equal(b.Start) && a.ID < b.ID
}

// deviceKey is a short, stable stand-in for the band's Bluetooth address.
func deviceKey(identifier string) string {
	if identifier == "" {
		return "0"
	}
	h := sha256.Sum256([]byte(strings.ToUpper(identifier)))
	return hex.EncodeToString(h[:4])
}

// Fetch reads one workout in full.
func (s *Source) Fetch(ctx context.Context, ref source.Ref) (*workout.Workout, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var w *workout.Workout
	var err error
	switch {
	case strings.HasPrefix(ref.ID, "fit-"):
		w, err = s.fetchFIT(ctx, ref)
	case s.kind == KindMiFit:
		w, err = s.fetchMiFit(ctx, ref)
	case s.kind == KindFITFolder:
		err = errclass.Missing(fmt.Errorf("gadgetbridge: no workout %s in %s", ref.ID, s.input))
	default:
		w, err = s.fetchRow(ctx, ref)
	}
	if err != nil {
		return nil, err
	}
	// One sample per instant, as every decoder gives (a band's raw details
	// can hold two readings of one second).
	w.Normalize()
	w.Origin = workout.Origin{Source: Name, ID: ref.ID}
	return w, nil
}
