// Package store is bandsync's ledger: an embedded SQLite database in the
// data directory that records every workout seen at a source, the state of
// each (workout, sink) pair, which time windows of each source were listed
// completely, and small bits of state such as when a rate-limit window
// opens. It is the only package that speaks SQL.
//
// A delivery — one workout on one sink — moves through
//
//	pending → uploading (key, upload ID) → done (activity ID)
//	                                     | duplicate (activity ID, how matched)
//	                                     | failed (class, message, attempts, next retry)
//	pending → skipped (reason)
//
// Every change is one transaction and is checked against that machine, so
// a crash at any instant leaves each delivery in exactly one state. The
// store never forgets a delivery: done and duplicate are final. A workout
// whose data changed at the source after it was delivered is reported
// (Delivery.ChangedAtSource), not sent again.
//
// One process writes: Open takes an exclusive lock on the data directory,
// and a second bandsync on the same directory gets ErrLocked. Readers
// (status, the dashboard) use OpenReadOnly, which takes no lock; SQLite's
// write-ahead log lets them read while the writer works.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/bandsync/bandsync/internal/errclass"
)

// FileName is the database file in the data directory.
const FileName = "bandsync.db"

// busyTimeout is how long a statement waits for another connection's lock
// (a reader's checkpoint, a sqlite3 shell) before failing with ErrBusy;
// a variable so tests need not wait that long.
var busyTimeout = 5 * time.Second

//go:embed migrations/*.sql
var embedded embed.FS

// migrations is the schema history, oldest first; tests swap it.
var migrations fs.FS = mustSub(embedded, "migrations")

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err) // the embedded directory is part of the build
	}
	return sub
}

// Store is an open ledger. Its methods are safe for concurrent use; writes
// are serialized through one connection.
type Store struct {
	db       *sql.DB
	dir      string
	path     string
	readOnly bool
	lock     *dirLock
	now      func() time.Time

	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt // see txq

	// The writes waiting for a commit, and whether one is under way:
	// see writeTx.
	wmu     sync.Mutex
	writes  []*write
	writing bool

	// beforeCommit, when set (by tests), runs inside every write
	// transaction just before it commits.
	beforeCommit func(ctx context.Context, op string)
	// scratch is removed by Close: the folder of a Scratch copy.
	scratch string
}

// Option configures Open and OpenReadOnly.
type Option func(*Store)

// WithClock makes the store read the time from now instead of time.Now:
// for first-seen and updated stamps and to decide which failed deliveries
// are due. Tests of the sync engine use it to step through retries.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// Open opens (creating it if needed) the store in the data directory dir
// for reading and writing, and brings its schema up to date.
//
// It first takes the directory's process lock (the file bandsync.lock: an
// flock on unix, a LockFileEx byte-range lock on Windows): if another
// bandsync holds it, Open fails at once with a *LockedError (errors.Is
// ErrLocked). The lock lasts until Close, or until the process exits however
// it exits; the operating system releases it, so a crash leaves no stale
// lock. A data directory on a network file system may not support either
// kind of lock reliably; keep it on a local disk.
//
// Before applying schema migrations to an existing database, Open copies it
// to bandsync.db.before-vN (N the version it had), so a failed upgrade can
// be undone by hand.
//
// Errors name the file and what to do: ErrCorrupt for a file that is not a
// bandsync database or is damaged, ErrNewerSchema for one written by a newer
// bandsync, ErrBusy, ErrDiskFull.
func Open(ctx context.Context, dir string, opts ...Option) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	s := newStore(dir, opts)
	s.lock = lock
	// The ledger is personal data: create it private. SQLite gives its
	// -wal and -shm files the database file's permissions.
	if f, err := os.OpenFile(s.path, os.O_RDWR|os.O_CREATE, 0o600); err == nil {
		f.Close()
	}
	// synchronous=NORMAL keeps every commit atomic and survives any
	// crash of the process; after a power cut or kernel crash it may lose
	// the last commits, which reconciling with the sink repairs, except for
	// the one write that must be on disk before anything irreversible
	// happens: the intent to upload (MarkUploading), committed with
	// synchronous=FULL. See writeTx.
	dsn := s.dsn(url.Values{
		"_pragma": {
			fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()),
			"synchronous(NORMAL)",
			"foreign_keys(1)",
		},
		"_txlock": {"immediate"},
	})
	s.db, err = sql.Open("sqlite", dsn)
	if err == nil {
		// One connection: every write is serialized here rather than
		// contending for SQLite's lock, and reads see the writes before them.
		s.db.SetMaxOpenConns(1)
		s.db.SetConnMaxLifetime(0)
		err = s.setUp(ctx)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// OpenReadOnly opens the store in dir for reading only, without the process
// lock, alongside a running writer: for status, workouts and the dashboard.
// The database must exist (otherwise the error matches fs.ErrNotExist) and
// have the current schema (ErrOlderSchema: run sync once to upgrade it).
// Writes fail with ErrReadOnly.
func OpenReadOnly(ctx context.Context, dir string, opts ...Option) (*Store, error) {
	s := newStore(dir, opts)
	s.readOnly = true
	if _, err := os.Stat(s.path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no bandsync data in %s yet (run bandsync sync first): %w", dir, err)
		}
		return nil, err
	}
	q := url.Values{
		"mode": {"ro"},
		"_pragma": {
			fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()),
			"query_only(1)",
		},
	}
	err := s.openDB(ctx, q)
	if err != nil && !dirWritable(dir) {
		// A WAL database in a folder this user may not write (a backup, a
		// read-only mount): SQLite cannot create the shared-memory file a
		// reader needs, but can read the file as it is, which a writer
		// that closed cleanly left complete. Commits still in the WAL it
		// would not see: then say so rather than show stale data.
		if fi, werr := os.Stat(s.path + "-wal"); werr == nil && fi.Size() > 0 {
			s.Close()
			return nil, errclass.Usagef("%s-wal holds the newest changes to the ledger, which cannot be read in %s without writing there: "+
				"run bandsync once as a user who may write %s (or copy the folder where you may write, and point --data-dir at it)", s.path, dir, dir)
		}
		q.Set("immutable", "1")
		err = s.openDB(ctx, q)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// openDB opens the database with the URI query q and checks its version.
func (s *Store) openDB(ctx context.Context, q url.Values) error {
	if s.db != nil {
		s.db.Close()
	}
	var err error
	s.db, err = sql.Open("sqlite", s.dsn(q))
	if err != nil {
		return err
	}
	s.db.SetMaxOpenConns(4)
	return s.checkVersion(ctx)
}

// dirWritable reports whether this process may create files in dir.
func dirWritable(dir string) bool {
	f, err := os.CreateTemp(dir, ".bandsync-probe-*")
	if err != nil {
		return false
	}
	f.Close()
	os.Remove(f.Name())
	return true
}

func newStore(dir string, opts []Option) *Store {
	s := &Store{dir: dir, path: filepath.Join(dir, FileName), now: time.Now, stmts: map[string]*sql.Stmt{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// dsn is the driver's URI for the database file with query q.
func (s *Store) dsn(q url.Values) string {
	p := filepath.ToSlash(s.path)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows volume: file:/C:/...
	}
	return (&url.URL{Scheme: "file", OmitHost: true, Path: p, RawQuery: q.Encode()}).String()
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Close closes the database and releases the process lock.
func (s *Store) Close() error {
	var err error
	if s.db != nil {
		_ = s.commitDeferred(context.Background())
		s.stmtMu.Lock()
		for _, st := range s.stmts {
			st.Close()
		}
		s.stmts = nil
		s.stmtMu.Unlock()
		err = s.db.Close()
	}
	if lerr := s.lock.unlock(); err == nil {
		err = lerr
	}
	s.lock = nil
	if s.scratch != "" {
		os.RemoveAll(s.scratch)
		s.scratch = ""
	}
	return err
}

// scratchPrefix names Scratch's folders in the data dir.
const scratchPrefix = ".dry-run-"

// Scratch returns a private copy of the ledger, for a run that must leave
// the real one as it was (sync --dry-run lists and plans as a real run
// would, and the next real run still finds the same workouts new). The
// copy lives in a hidden folder of the data dir (where there is room for
// the ledger) that its Close removes; one a killed run left is removed by
// the next. Call it with the ledger open for writing (its lock held).
func (s *Store) Scratch(ctx context.Context) (*Store, error) {
	if old, err := filepath.Glob(filepath.Join(s.dir, scratchPrefix+"*")); err == nil {
		for _, o := range old {
			os.RemoveAll(o)
		}
	}
	dir, err := os.MkdirTemp(s.dir, scratchPrefix)
	if err != nil {
		return nil, fmt.Errorf("copy the ledger for a dry run: %w", err)
	}
	path := filepath.Join(dir, FileName)
	if _, err := s.db.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("copy the ledger to %s for a dry run: %w", dir, s.explain(err))
	}
	c, err := Open(ctx, dir, WithClock(s.now))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	c.scratch = dir
	return c, nil
}

// setUp checks the file is a sound bandsync database, switches it to WAL
// and migrates it. Nothing is written before the checks pass, so a
// stranger's or a damaged file is left as it was.
func (s *Store) setUp(ctx context.Context) error {
	if err := s.checkSound(ctx); err != nil {
		return err
	}
	// WAL lets readers work while the writer writes and makes a commit one
	// append. The mode is kept in the file, so readers inherit it.
	if _, err := s.db.ExecContext(ctx, "PRAGMA journal_mode = WAL"); err != nil {
		return s.explain(fmt.Errorf("open %s: %w", s.path, err))
	}
	return s.migrate(ctx)
}

// checkSound refuses a file that is not a bandsync database or is damaged.
// quick_check reads every page (milliseconds for a ledger of thousands of
// workouts), so damage is reported at Open, not halfway through a sync.
func (s *Store) checkSound(ctx context.Context) error {
	if err := s.checkOurs(ctx); err != nil {
		return err
	}
	var res string
	if err := s.db.QueryRowContext(ctx, "PRAGMA quick_check(1)").Scan(&res); err != nil {
		return s.explain(fmt.Errorf("check %s: %w", s.path, err))
	}
	if res != "ok" {
		return corruptError(s.path, errors.New(res))
	}
	return nil
}

// checkOurs refuses an SQLite database that some other program made, so
// bandsync never adds its tables to a stranger's file.
func (s *Store) checkOurs(ctx context.Context) error {
	var tables, ours int
	err := s.db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE name = ?)
		FROM sqlite_schema WHERE type = 'table'`, versionTable).Scan(&tables, &ours)
	if err != nil {
		return s.explain(fmt.Errorf("open %s: %w", s.path, err))
	}
	if tables > 0 && ours == 0 {
		return corruptError(s.path, errors.New("it holds tables of another program"))
	}
	return nil
}

// versionTable is goose's record of applied migrations.
const versionTable = "goose_db_version"

func (s *Store) provider() (*goose.Provider, error) {
	return goose.NewProvider(goose.DialectSQLite3, s.db, migrations,
		goose.WithDisableGlobalRegistry(true))
}

// migrate applies pending migrations, each in its own transaction (a crash
// mid-migration leaves the previous version intact), after backing up an
// existing database.
func (s *Store) migrate(ctx context.Context) error {
	p, err := s.provider()
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	cur, target, err := p.GetVersions(ctx)
	if err != nil {
		return s.explain(fmt.Errorf("read schema version of %s: %w", s.path, err))
	}
	if cur > target {
		return newerSchema(s.path, cur, target)
	}
	if cur == target {
		return nil
	}
	if cur > 0 {
		backup := fmt.Sprintf("%s.before-v%d", s.path, cur)
		os.Remove(backup) // VACUUM INTO refuses to overwrite
		if _, err := s.db.ExecContext(ctx, "VACUUM INTO ?", backup); err != nil {
			return s.explain(fmt.Errorf("back up %s before upgrading it: %w", s.path, err))
		}
		os.Chmod(backup, 0o600)
	}
	if _, err := p.Up(ctx); err != nil {
		return s.explain(fmt.Errorf("upgrade %s from schema %d to %d: %w", s.path, cur, target, err))
	}
	return nil
}

// checkVersion makes sure a read-only store has the schema this code reads.
func (s *Store) checkVersion(ctx context.Context) error {
	if err := s.checkSound(ctx); err != nil {
		return err
	}
	p, err := s.provider()
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	target := int64(0)
	for _, src := range p.ListSources() {
		target = max(target, src.Version)
	}
	var cur int64
	err = s.db.QueryRowContext(ctx, `SELECT coalesce(max(version_id), 0) FROM `+versionTable+` WHERE is_applied`).Scan(&cur)
	if err != nil && sqliteCode(err) != 1 { // 1: SQLITE_ERROR, no such table in an empty file
		return s.explain(fmt.Errorf("read schema version of %s: %w", s.path, err))
	}
	switch {
	case cur > target:
		return newerSchema(s.path, cur, target)
	case cur < target:
		return &dbError{ErrOlderSchema, fmt.Sprintf("%s has schema %d, this bandsync reads %d: "+
			"run bandsync sync once to upgrade it", s.path, cur, target), nil}
	}
	return nil
}

func newerSchema(path string, cur, target int64) error {
	return &dbError{ErrNewerSchema, fmt.Sprintf("%s was written by a newer bandsync (schema %d; this one knows up to %d): "+
		"upgrade bandsync", path, cur, target), nil}
}

// writeTx runs fn in one write transaction. durable commits it with
// synchronous=FULL, so it is on disk (not only in the OS cache) when writeTx
// returns: for the intent to upload, which must outlive a power cut that
// happens after the upload was sent.
//
// Writes made at the same time by several goroutines (the syncer's
// workers) share a commit, and so a wait for the disk: while one
// transaction commits, the writes that arrive queue up, and the first of
// them then commits them all in one transaction, each inside its own
// savepoint, so that one write's failure undoes only that write. A write
// is committed (durably, if it asked so) when writeTx returns.
func (s *Store) writeTx(ctx context.Context, op string, durable bool, fn func(tx *txq, now int64) error) error {
	if s.readOnly {
		return fmt.Errorf("%s: %w", op, ErrReadOnly)
	}
	w := &write{ctx: ctx, op: op, durable: durable, fn: fn, wake: make(chan bool, 1)}
	s.wmu.Lock()
	s.writes = append(s.writes, w)
	lead := !s.writing
	s.writing = true
	s.wmu.Unlock()
	if !lead {
		lead = <-w.wake // false: a leader committed w
	}
	if lead {
		s.wmu.Lock()
		group := s.writes
		s.writes = nil
		s.wmu.Unlock()
		s.commitGroup(group)
		s.wmu.Lock()
		s.handOff()
		s.wmu.Unlock()
	}
	if w.err != nil {
		return fmt.Errorf("%s: %w", op, s.explain(w.err))
	}
	return nil
}

// handOff wakes the next group's leader: the first waiting write that is
// not deferred. Deferred writes alone start no commit. Call it with wmu
// held.
func (s *Store) handOff() {
	for _, w := range s.writes {
		if !w.deferred {
			w.wake <- true
			return
		}
	}
	s.writing = false
}

// deferTx queues fn to be committed with the next write, without waiting
// for it: for a write whose loss in a crash costs only some work later. A
// read (readTx) and Close commit what is queued first; its failure is
// reported to no one.
func (s *Store) deferTx(ctx context.Context, op string, fn func(tx *txq, now int64) error) {
	if s.readOnly {
		return
	}
	w := &write{ctx: context.WithoutCancel(ctx), op: op, fn: fn, wake: make(chan bool, 1), deferred: true}
	s.wmu.Lock()
	s.writes = append(s.writes, w)
	s.wmu.Unlock()
}

// commitDeferred commits the deferred writes that are queued, if any.
func (s *Store) commitDeferred(ctx context.Context) error {
	s.wmu.Lock()
	deferred := slices.ContainsFunc(s.writes, func(w *write) bool { return w.deferred })
	s.wmu.Unlock()
	if !deferred {
		return nil
	}
	return s.writeTx(ctx, "commit deferred writes", false, func(*txq, int64) error { return nil })
}

// write is one writeTx call waiting for its commit.
type write struct {
	ctx     context.Context
	op      string
	durable bool
	fn      func(tx *txq, now int64) error
	err     error     // its outcome, set by the leader
	wake    chan bool // true: lead; false: done
	// deferred: nobody waits for it (see deferTx).
	deferred bool
}

// commitGroup commits the writes in one transaction, sets each one's
// outcome and wakes those waiting.
func (s *Store) commitGroup(group []*write) {
	defer func() {
		for _, w := range group {
			w.wake <- false
		}
	}()
	if len(group) == 1 {
		w := group[0]
		w.err = s.inTx(w.ctx, nil, func(tx *txq) error {
			if err := w.fn(tx, s.now().UnixMilli()); err != nil {
				return err
			}
			if s.beforeCommit != nil {
				s.beforeCommit(w.ctx, w.op)
			}
			return nil
		}, w.durable)
		return
	}
	durable := false
	for _, w := range group {
		durable = durable || w.durable
	}
	// One write's canceled context must not interrupt a statement of the
	// shared transaction (SQLite would roll all of it back): the
	// statements run to their end, and a write whose context ended is
	// undone at its savepoint instead.
	bg := context.Background()
	err := s.inTx(bg, nil, func(tx *txq) error {
		tx.uncancelable = true
		for _, w := range group {
			if w.err = w.ctx.Err(); w.err != nil {
				continue
			}
			if _, err := tx.ExecContext(bg, "SAVEPOINT write"); err != nil {
				return err
			}
			w.err = w.fn(tx, s.now().UnixMilli())
			if w.err == nil && s.beforeCommit != nil {
				s.beforeCommit(w.ctx, w.op)
			}
			if w.err == nil {
				w.err = w.ctx.Err()
			}
			if w.err != nil {
				if _, err := tx.ExecContext(bg, "ROLLBACK TO write"); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(bg, "RELEASE write"); err != nil {
				return err
			}
		}
		return nil
	}, durable)
	if err != nil {
		for _, w := range group {
			if w.err == nil {
				w.err = err
			}
		}
	}
}

// readTx runs fn in one read transaction, so queries made together see one
// snapshot.
func (s *Store) readTx(ctx context.Context, op string, fn func(tx *txq) error) error {
	if err := s.commitDeferred(ctx); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if err := s.inTx(ctx, &sql.TxOptions{ReadOnly: true}, fn, false); err != nil {
		return fmt.Errorf("%s: %w", op, s.explain(err))
	}
	return nil
}

func (s *Store) inTx(ctx context.Context, opts *sql.TxOptions, fn func(tx *txq) error, durable bool) (err error) {
	defer func() {
		// database/sql rolls a transaction back when its context ends, and
		// the caller then sees "transaction has already been committed or
		// rolled back"; make it say why.
		if cerr := ctx.Err(); err != nil && cerr != nil && !errors.Is(err, cerr) {
			err = fmt.Errorf("%w: %v", cerr, err)
		}
	}()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	q := &txq{s: s}
	defer func() {
		conn.Close()
		s.prepare(q.missed) // now that the connection is free
	}()
	if durable {
		// synchronous cannot change inside a transaction, hence the Conn.
		if _, err := conn.ExecContext(ctx, "PRAGMA synchronous = FULL"); err != nil {
			return err
		}
		// Back to NORMAL even when ctx is canceled; if this fails the
		// connection merely stays slower and safer.
		defer conn.ExecContext(context.Background(), "PRAGMA synchronous = NORMAL")
	}
	q.Tx, err = conn.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	defer q.Rollback()
	if err := fn(q); err != nil {
		return err
	}
	return q.Commit()
}

// maxStmts bounds the cache of prepared statements.
const maxStmts = 100

// txq is a transaction that runs its statements from the store's cache of
// prepared statements: SQLite spends more time parsing the ledger's short
// statements than running them.
type txq struct {
	*sql.Tx
	s      *Store
	missed []string // statements to prepare once the transaction is over
	// uncancelable runs statements to their end whatever their context
	// (see commitGroup).
	uncancelable bool
}

// cached returns the prepared form of query, or nil (and remembers to
// prepare it: preparing needs the connection the transaction holds).
func (t *txq) cached(ctx context.Context, query string) *sql.Stmt {
	t.s.stmtMu.Lock()
	st := t.s.stmts[query]
	t.s.stmtMu.Unlock()
	if st == nil {
		t.missed = append(t.missed, query)
		return nil
	}
	return t.StmtContext(ctx, st)
}

func (t *txq) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = t.context(ctx)
	if st := t.cached(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

func (t *txq) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = t.context(ctx)
	if st := t.cached(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, query, args...)
}

func (t *txq) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = t.context(ctx)
	if st := t.cached(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, query, args...)
}

// context is the context to run a statement with.
func (t *txq) context(ctx context.Context) context.Context {
	if t.uncancelable {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// prepare adds queries to the statement cache. A query that fails to
// prepare is left out; running it reports the error.
func (s *Store) prepare(queries []string) {
	for _, q := range queries {
		s.stmtMu.Lock()
		_, have := s.stmts[q]
		full := len(s.stmts) >= maxStmts
		s.stmtMu.Unlock()
		if have || full {
			continue
		}
		st, err := s.db.PrepareContext(context.Background(), q)
		if err != nil {
			continue
		}
		s.stmtMu.Lock()
		if s.stmts[q] == nil {
			s.stmts[q] = st
			st = nil
		}
		s.stmtMu.Unlock()
		if st != nil {
			st.Close()
		}
	}
}

// Time helpers: instants are stored as Unix milliseconds.

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func nullMS(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

func fromNullMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMS(v.Int64)
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
