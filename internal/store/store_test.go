package store

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bandsync/bandsync/internal/errclass"
)

// helperEnv, when set, makes the test binary act as a second bandsync
// process (see runHelper) instead of running tests.
const helperEnv = "BANDSYNC_STORE_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		if err := runHelper(mode, os.Getenv("BANDSYNC_STORE_DIR")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runHelper is the other process:
//   - "hold": open the store, say "ready", hold it until stdin closes;
//   - "write": record workouts and their deliveries for ever, saying
//     "committed N" after each transaction, until killed.
func runHelper(mode, dir string) error {
	ctx := context.Background()
	s, err := Open(ctx, dir)
	if err != nil {
		return err
	}
	switch mode {
	case "hold":
		fmt.Println("ready")
		io.Copy(io.Discard, os.Stdin)
		return s.Close()
	case "write":
		for i := 0; ; i++ {
			id, _, err := s.UpsertWorkout(ctx, ref(i))
			if err != nil {
				return err
			}
			if _, err := s.EnsureDelivery(ctx, id, "strava"); err != nil {
				return err
			}
			if err := s.MarkUploading(ctx, id, "strava", ref(i).Key(), ""); err != nil {
				return err
			}
			if err := s.MarkDone(ctx, id, "strava", strconv.Itoa(i)); err != nil {
				return err
			}
			fmt.Println("committed", i)
		}
	}
	return fmt.Errorf("unknown helper mode %q", mode)
}

// startHelper runs the test binary as another process on dir, and returns it
// with its stdout.
func startHelper(t *testing.T, mode, dir string) (*exec.Cmd, *bufio.Scanner, io.WriteCloser) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, "BANDSYNC_STORE_DIR="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		in.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd, bufio.NewScanner(out), in
}

func TestLockInProcess(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, dir)
	var le *LockedError
	if !errors.Is(err, ErrLocked) || !errors.As(err, &le) || le.PID != os.Getpid() || le.Dir != dir {
		t.Fatalf("second Open: %v", err)
	}
	want := fmt.Sprintf("another bandsync (pid %d) is using %s; wait for it or stop it", os.Getpid(), dir)
	if err.Error() != want {
		t.Errorf("message %q\nwant    %q", err, want)
	}

	// Readers need no lock and see the writer's commits.
	id := addWorkout(t, s, 1, "strava")
	r, err := OpenReadOnly(ctx, dir)
	if err != nil {
		t.Fatalf("OpenReadOnly beside a writer: %v", err)
	}
	defer r.Close()
	if _, err := r.Workout(ctx, id); err != nil {
		t.Errorf("reader: %v", err)
	}
	if _, _, err := r.UpsertWorkout(ctx, ref(2)); !errors.Is(err, ErrReadOnly) {
		t.Errorf("write through a reader: %v", err)
	}
	must(t, s.MarkDone(ctx, id, "strava", "1")) // the writer is not blocked by the reader
	if d, err := r.Delivery(ctx, id, "strava"); err != nil || d.State != Done {
		t.Errorf("reader does not see the commit: %+v %v", d, err)
	}

	must(t, s.Close())
	s2, err := Open(ctx, dir)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	s2.Close()
}

func TestLockAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cmd, out, in := startHelper(t, "hold", dir)
	if !out.Scan() || out.Text() != "ready" {
		t.Fatalf("helper did not start: %q", out.Text())
	}
	_, err := Open(ctx, dir)
	var le *LockedError
	if !errors.As(err, &le) || le.PID != cmd.Process.Pid {
		t.Fatalf("Open while another process holds %s: %v (helper pid %d)", dir, err, cmd.Process.Pid)
	}
	r, err := OpenReadOnly(ctx, dir)
	if err != nil {
		t.Fatalf("OpenReadOnly beside another process: %v", err)
	}
	r.Close()
	in.Close() // the helper closes the store and exits
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatalf("Open after the other process stopped: %v", err)
	}
	s.Close()
}

// TestKilledWriter kills a writing process at a random moment (SIGKILL: no
// Close, no deferred code) and checks the store it leaves: the lock is
// gone with the process, the database is sound, every commit the process
// reported is there, and every delivery is in a state it could be in.
func TestKilledWriter(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 6))
	for round := range 3 {
		dir := t.TempDir()
		cmd, out, _ := startHelper(t, "write", dir)
		stopAt := 20 + rng.IntN(80)
		last := -1
		for out.Scan() {
			if _, err := fmt.Sscanf(out.Text(), "committed %d", &last); err != nil {
				t.Fatalf("helper: %q", out.Text())
			}
			if last >= stopAt {
				break
			}
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()

		s, err := Open(ctx, dir)
		if err != nil {
			t.Fatalf("round %d: reopen after kill at %d: %v", round, last, err)
		}
		got, total, err := s.Workouts(ctx, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if total < last+1 {
			t.Errorf("round %d: %d workouts, but %d were reported committed", round, total, last+1)
		}
		for i, w := range got {
			if w.Workout.SourceID != ref(i).SourceID {
				t.Fatalf("workout %d is %s, want %s", i, w.Workout.SourceID, ref(i).SourceID)
			}
			// The last workout may have been cut anywhere in its four
			// transactions; all others are done.
			if len(w.Deliveries) == 0 {
				if i != len(got)-1 {
					t.Errorf("workout %d has no delivery", i)
				}
				continue
			}
			d := w.Deliveries[0]
			switch {
			case i <= last && (d.State != Done || d.ActivityID != strconv.Itoa(i)):
				t.Errorf("committed workout %d: %+v", i, d)
			case i > last && d.State != Pending && d.State != Uploading && d.State != Done:
				t.Errorf("workout %d in flight: %+v", i, d)
			}
		}
		s.Close()
	}
}

// TestCanceledMidTransaction cancels the context inside a write
// transaction, after its statements ran and before it commits: nothing of
// it is kept, and the store keeps working.
func TestCanceledMidTransaction(t *testing.T) {
	s, _ := openTest(t)
	bg := context.Background()
	id := addWorkout(t, s, 0, "strava")
	must(t, s.MarkUploading(bg, id, "strava", ref(0).Key(), ""))

	ctx, cancel := context.WithCancel(bg)
	s.beforeCommit = func(context.Context, string) { cancel() }
	edited := ref(0)
	edited.Fingerprint = "fp-changed"
	_, err := s.UpsertWorkouts(ctx, []Ref{ref(1), ref(2), edited})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	ctx, cancel = context.WithCancel(bg)
	defer cancel()
	if err := s.MarkDone(ctx, id, "strava", "1"); !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	s.beforeCommit = nil

	_, total, err := s.Workouts(bg, Filter{})
	if err != nil || total != 1 {
		t.Errorf("canceled batch kept %d workouts (%v)", total, err)
	}
	if w, _ := s.Workout(bg, id); w.Fingerprint != ref(0).Fingerprint {
		t.Errorf("canceled edit kept: %s", w.Fingerprint)
	}
	mustState(t, s, id, "strava", Uploading)
	must(t, s.MarkDone(bg, id, "strava", "1"))
	mustState(t, s, id, "strava", Done)
}

// TestReopenWithoutClose simulates a process that stopped without closing
// the store (its WAL not checkpointed): a fresh connection to the same
// files sees every commit.
func TestReopenWithoutClose(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	id := addWorkout(t, s, 0, "strava")
	must(t, s.MarkDone(ctx, id, "strava", "42"))
	if _, err := os.Stat(filepath.Join(dir, FileName+"-wal")); err != nil {
		t.Fatalf("no WAL while open: %v", err)
	}
	// Copy the database and its WAL as a crash would leave them.
	crashed := t.TempDir()
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(filepath.Join(dir, FileName+suffix))
		if err != nil {
			t.Fatal(err)
		}
		must(t, os.WriteFile(filepath.Join(crashed, FileName+suffix), b, 0o600))
	}
	s.Close()
	s2, err := Open(ctx, crashed)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if d := mustState(t, s2, id, "strava", Done); d.ActivityID != "42" {
		t.Errorf("after crash: %+v", d)
	}
}

func TestBadFiles(t *testing.T) {
	ctx := context.Background()
	random := make([]byte, 8192)
	for i := range random {
		random[i] = byte(rand.IntN(256))
	}
	for _, tc := range []struct {
		name  string
		write func(t *testing.T, path string)
	}{
		{"random bytes", func(t *testing.T, path string) { must(t, os.WriteFile(path, random, 0o600)) }},
		{"text file", func(t *testing.T, path string) {
			must(t, os.WriteFile(path, []byte(strings.Repeat("not a database\n", 500)), 0o600))
		}},
		{"another program's database", func(t *testing.T, path string) {
			db, err := sql.Open("sqlite", path)
			must(t, err)
			_, err = db.Exec(`CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO photos (name) VALUES ('x')`)
			must(t, err)
			db.Close()
		}},
		{"truncated", func(t *testing.T, path string) {
			s, err := Open(ctx, filepath.Dir(path))
			must(t, err)
			for i := range 2000 {
				addWorkout(t, s, i, "strava")
			}
			must(t, s.Close()) // checkpoints the WAL into the file
			fi, err := os.Stat(path)
			must(t, err)
			must(t, os.Truncate(path, fi.Size()/2))
		}},
		{"damaged page", func(t *testing.T, path string) {
			s, err := Open(ctx, filepath.Dir(path))
			must(t, err)
			for i := range 2000 {
				addWorkout(t, s, i, "strava")
			}
			must(t, s.Close())
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			must(t, err)
			_, err = f.WriteAt(random[:4096], 8*4096)
			must(t, err)
			f.Close()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, FileName)
			tc.write(t, path)
			before, _ := os.ReadFile(path)
			s, err := Open(ctx, dir)
			if err == nil {
				s.Close()
				t.Fatal("opened")
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("want ErrCorrupt, got %v", err)
			}
			msg := err.Error()
			for _, want := range []string{path, "is not a bandsync database or is damaged", "move it aside and run sync again", "nothing on Strava is affected"} {
				if !strings.Contains(msg, want) {
					t.Errorf("message lacks %q: %s", want, msg)
				}
			}
			if after, _ := os.ReadFile(path); string(after) != string(before) {
				t.Error("Open changed the damaged file")
			}
			// The lock was released with the failed Open.
			if _, err := Open(ctx, dir); errors.Is(err, ErrLocked) {
				t.Error("failed Open kept the lock")
			}
			if _, err := OpenReadOnly(ctx, dir); err == nil {
				t.Error("OpenReadOnly accepted the file")
			}
		})
	}
}

func TestFilesArePrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no unix permissions")
	}
	s, _ := openTest(t)
	addWorkout(t, s, 0, "strava")
	for _, name := range []string{FileName, FileName + "-wal", lockName} {
		fi, err := os.Stat(filepath.Join(s.dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v", name, fi.Mode())
		}
	}
}

func TestEmptyFileIsNew(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, FileName), nil, 0o600))
	s, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatalf("an empty file is a new database: %v", err)
	}
	s.Close()
}

func TestOpenReadOnlyMissing(t *testing.T) {
	_, err := OpenReadOnly(context.Background(), t.TempDir())
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "run bandsync sync first") {
		t.Errorf("missing store: %v", err)
	}
}

func TestBusy(t *testing.T) {
	old := busyTimeout
	busyTimeout = 100 * time.Millisecond
	defer func() { busyTimeout = old }()
	s, _ := openTest(t)
	id := addWorkout(t, s, 0, "strava")

	// Another program (a sqlite3 shell) holds a write transaction.
	other, err := sql.Open("sqlite", s.path)
	must(t, err)
	defer other.Close()
	conn, err := other.Conn(context.Background())
	must(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(context.Background(), "BEGIN IMMEDIATE")
	must(t, err)

	err = s.MarkDone(context.Background(), id, "strava", "1")
	if !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), s.path) || !strings.Contains(err.Error(), "close it and try again") {
		t.Fatalf("want ErrBusy naming the file, got %v", err)
	}
	_, err = conn.ExecContext(context.Background(), "ROLLBACK")
	must(t, err)
	must(t, s.MarkDone(context.Background(), id, "strava", "1"))
}

func TestDiskFull(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	var pages int
	must(t, s.db.QueryRow("PRAGMA page_count").Scan(&pages))
	_, err := s.db.Exec(fmt.Sprintf("PRAGMA max_page_count = %d", pages+2))
	must(t, err)
	var refs []Ref
	for i := range 500 {
		refs = append(refs, ref(i))
	}
	_, err = s.UpsertWorkouts(ctx, refs)
	if !errors.Is(err, ErrDiskFull) || !strings.Contains(err.Error(), s.path) {
		t.Fatalf("want ErrDiskFull naming the file, got %v", err)
	}
	// Nothing half-written, and smaller writes still work.
	if _, total, _ := s.Workouts(ctx, Filter{}); total != 0 {
		t.Errorf("%d workouts kept from a failed batch", total)
	}
	addWorkout(t, s, 0, "strava")
}

func TestFailureMessageBounded(t *testing.T) {
	s, _ := openTest(t)
	id := addWorkout(t, s, 0, "strava")
	must(t, s.MarkFailed(context.Background(), id, "strava", errclass.Permanent, strings.Repeat("x", 10000), time.Time{}))
	if d := mustState(t, s, id, "strava", Failed); len(d.FailMessage) > maxMessage+4 {
		t.Errorf("message of %d bytes kept", len(d.FailMessage))
	}
}

// TestConcurrentUse runs writers and readers at once on one Store and a
// read-only one (run with -race): every write lands, no call fails.
func TestConcurrentUse(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	r, err := OpenReadOnly(ctx, s.dir)
	must(t, err)
	defer r.Close()
	const writers, each = 4, 25
	errs := make(chan error, 16)
	done := make(chan struct{})
	var wg, readers sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				n := w*each + i
				id, _, err := s.UpsertWorkout(ctx, ref(n), "strava")
				if err == nil {
					err = s.MarkUploading(ctx, id, "strava", ref(n).Key(), "")
				}
				if err == nil {
					err = s.MarkDone(ctx, id, "strava", strconv.Itoa(n))
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for _, st := range []*Store{s, r} {
		readers.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, err := st.Counts(ctx); err != nil {
					errs <- err
					return
				}
				if _, _, err := st.Workouts(ctx, Filter{State: Done, Limit: 10}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(done)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	c, err := r.Counts(ctx)
	if err != nil || c["strava"].States[Done] != writers*each {
		t.Errorf("done: %+v %v", c["strava"], err)
	}
}

// FuzzOpen opens damaged database files: Open either fails with an error
// (ErrCorrupt for damage it recognises) or yields a store whose reads and
// writes return errors rather than panicking.
func FuzzOpen(f *testing.F) {
	ctx := context.Background()
	dir := f.TempDir()
	s, err := Open(ctx, dir)
	if err != nil {
		f.Fatal(err)
	}
	for i := range 30 {
		addWorkout(f, s, i, "strava")
	}
	s.Close()
	valid, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid, uint32(0), uint8(0))
	f.Add(valid, uint32(100), uint8(0xff))
	f.Add(valid, uint32(4096*2+17), uint8(0x55))
	f.Fuzz(func(t *testing.T, db []byte, at uint32, x uint8) {
		if len(db) > 0 {
			db = append([]byte(nil), db...)
			db[int(at)%len(db)] ^= x
		}
		dir := t.TempDir()
		must(t, os.WriteFile(filepath.Join(dir, FileName), db, 0o600))
		s, err := Open(ctx, dir)
		if err != nil {
			return
		}
		defer s.Close()
		s.Counts(ctx)
		s.Workouts(ctx, Filter{Limit: 5})
		s.UpsertWorkout(ctx, ref(1000), "strava")
	})
}

// TestDamagedBytes flips random bytes of a valid database: Open must
// either work or fail with an error that names the file, never panic.
// (FuzzOpen does the same under the fuzzer, which is slow on SQLite.)
func TestDamagedBytes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir)
	must(t, err)
	for i := range 30 {
		addWorkout(t, s, i, "strava")
	}
	must(t, s.Close())
	valid, err := os.ReadFile(filepath.Join(dir, FileName))
	must(t, err)
	rng := rand.New(rand.NewPCG(6, uint64(time.Now().UnixNano())))
	corrupt := 0
	for range 100 {
		db := append([]byte(nil), valid...)
		for range 1 + rng.IntN(4) {
			db[rng.IntN(len(db))] ^= byte(1 + rng.IntN(255))
		}
		d := t.TempDir()
		path := filepath.Join(d, FileName)
		must(t, os.WriteFile(path, db, 0o600))
		s, err := Open(ctx, d)
		if err == nil {
			s.Counts(ctx)
			s.Close()
			continue
		}
		if errors.Is(err, ErrCorrupt) {
			corrupt++
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("error does not name the file: %v", err)
		}
	}
	t.Logf("%d of 100 damaged copies reported as damaged", corrupt)
}

// A scratch copy holds what the ledger holds; writing it leaves the ledger
// as it was, and closing it removes it.
func TestScratch(t *testing.T) {
	s, _ := openTest(t)
	ctx := t.Context()
	addWorkout(t, s, 1, "strava")
	left := filepath.Join(filepath.Dir(s.Path()), scratchPrefix+"killed")
	if err := os.Mkdir(left, 0o700); err != nil {
		t.Fatal(err)
	}
	c, err := s.Scratch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(left); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a killed dry run's copy is still there: %v", err)
	}
	if c.Path() == s.Path() {
		t.Fatalf("scratch copy at the ledger's own path")
	}
	if _, n, err := c.Workouts(ctx, Filter{}); err != nil || n != 1 {
		t.Fatalf("copy has %d workouts (%v), want 1", n, err)
	}
	addWorkout(t, c, 2, "strava")
	if _, n, err := c.Workouts(ctx, Filter{}); err != nil || n != 2 {
		t.Fatalf("copy has %d workouts after a write (%v), want 2", n, err)
	}
	if _, n, err := s.Workouts(ctx, Filter{}); err != nil || n != 1 {
		t.Fatalf("ledger has %d workouts after the copy was written (%v), want 1", n, err)
	}
	dir := filepath.Dir(c.Path())
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("scratch folder left behind: %v", err)
	}
}

// A ledger in a folder this user may not write is still read: SQLite
// cannot make its shared-memory file there, so the file is read as is.
// As root (who may write anywhere) the reading runs in a copy of this test
// binary as the user nobody.
func TestReadOnlyFolder(t *testing.T) {
	if dir := os.Getenv("BANDSYNC_TEST_READONLY_DIR"); dir != "" {
		readOnlyLedger(t, dir, os.Getenv("BANDSYNC_TEST_READONLY_WAL") != "")
		return
	}
	for _, wal := range []bool{false, true} {
		t.Run(fmt.Sprint("unmerged-wal=", wal), func(t *testing.T) {
			src, _ := openTest(t)
			addWorkout(t, src, 1, "strava")
			dir := t.TempDir()
			names := []string{FileName}
			if wal {
				// A copy taken while a sync ran: commits still in the WAL.
				names = append(names, FileName+"-wal")
			} else if err := src.Close(); err != nil {
				t.Fatal(err)
			}
			for _, n := range names {
				b, err := os.ReadFile(filepath.Join(filepath.Dir(src.Path()), n))
				if err != nil {
					t.Fatal(err)
				}
				if wal && strings.HasSuffix(n, "-wal") && len(b) == 0 {
					t.Fatal("the WAL is empty")
				}
				if err := os.WriteFile(filepath.Join(dir, n), b, 0o444); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Chmod(dir, 0o555); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Chmod(dir, 0o755) })
			readAsNobody(t, dir, wal)
		})
	}
}

// readAsNobody runs readOnlyLedger on dir as a user who may not write it.
func readAsNobody(t *testing.T, dir string, wal bool) {
	if os.Geteuid() != 0 {
		readOnlyLedger(t, dir, wal)
		return
	}
	if runtime.GOOS != "linux" {
		t.Skip("running as nobody is set up for Linux only")
	}
	// nobody must reach the binary and the folder.
	bin := filepath.Join(t.TempDir(), "store.test")
	data, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Dir(bin), filepath.Dir(filepath.Dir(bin)), filepath.Dir(dir)} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "-test.run=^TestReadOnlyFolder$", "-test.v")
	cmd.Env = append(os.Environ(), "BANDSYNC_TEST_READONLY_DIR="+dir)
	if wal {
		cmd.Env = append(cmd.Env, "BANDSYNC_TEST_READONLY_WAL=1")
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "PASS") {
		t.Fatalf("reading as nobody: %v\n%s", err, out)
	}
}

// readOnlyLedger reads the ledger in dir, which holds one workout; with
// unmerged commits in its WAL it must refuse, not show stale data.
func readOnlyLedger(t *testing.T, dir string, wal bool) {
	if dirWritable(dir) {
		t.Fatalf("%s is writable", dir)
	}
	r, err := OpenReadOnly(t.Context(), dir)
	if wal {
		if err == nil {
			r.Close()
			t.Fatal("OpenReadOnly read a ledger whose newest commits it cannot see")
		}
		if !strings.Contains(err.Error(), FileName+"-wal") || !strings.Contains(err.Error(), dir) {
			t.Fatalf("error %q does not name the WAL and the folder", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("OpenReadOnly in a read-only folder: %v", err)
	}
	defer r.Close()
	if _, n, err := r.Workouts(t.Context(), Filter{}); err != nil || n != 1 {
		t.Fatalf("read %d workouts (%v), want 1", n, err)
	}
}
