package archive

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bandsync/bandsync/internal/atomicfile"
	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/sink"
	"github.com/bandsync/bandsync/internal/sink/sinktest"
	"github.com/bandsync/bandsync/internal/workout"
)

func newArchive(t *testing.T, formats ...Format) *Archive {
	t.Helper()
	a, err := New(Options{Dir: filepath.Join(t.TempDir(), "archive"), Formats: formats})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestConformance(t *testing.T) {
	sinktest.Run(t, func(t *testing.T) sink.Sink { return newArchive(t) })
}

func TestConformanceAllFormats(t *testing.T) {
	sinktest.Run(t, func(t *testing.T) sink.Sink { return newArchive(t, GPX, FIT, TCX) })
}

// Without FIT, List reads the numbers back from TCX.
func TestConformanceTCX(t *testing.T) {
	sinktest.Run(t, func(t *testing.T) sink.Sink { return newArchive(t, TCX) })
}

// One archive shared by every subtest: the suite must not assume an empty sink.
func TestConformanceShared(t *testing.T) {
	a := newArchive(t)
	sinktest.Run(t, func(*testing.T) sink.Sink { return a })
}

// files lists every file under dir, relative, including hidden ones.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestNamingAndMode(t *testing.T) {
	a := newArchive(t, FIT, GPX)
	// 2023-10-29 08:45 UTC is 09:45 in Madrid (winter time, +1 h) and
	// 23:45 on the 28th at -9 h: the name follows the local date.
	start := time.Date(2023, 10, 29, 8, 45, 16, 0, time.UTC)
	w := sinktest.Workout(sinktest.KindRun, start, "1698569116")
	w.Origin.Source = "zepp"
	w.Zone = workout.Zone{Offset: time.Hour, Known: true, Name: "Europe/Madrid"}
	res, err := a.Put(t.Context(), w, w.Origin.Key())
	if err != nil {
		t.Fatal(err)
	}
	want := "2023/2023-10-29T0945_run_zepp-1698569116.fit"
	if res.Outcome != sink.Created || res.ActivityID != want {
		t.Fatalf("Put = %+v, want created %s", res, want)
	}
	got := files(t, a.Dir())
	if strings.Join(got, " ") != want+" 2023/2023-10-29T0945_run_zepp-1698569116.gpx" {
		t.Errorf("files %v", got)
	}
	for _, f := range got {
		fi, err := os.Stat(filepath.Join(a.Dir(), f))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o644 {
			t.Errorf("%s mode %v, want 0644", f, fi.Mode().Perm())
		}
	}

	w2 := sinktest.Workout(sinktest.KindPoolSwim, time.Date(2024, 1, 1, 2, 0, 0, 0, time.UTC), "x_y.z")
	w2.Zone = workout.Zone{Offset: -9 * time.Hour, Known: true}
	if res, err = a.Put(t.Context(), w2, "files-x_y.z"); err != nil {
		t.Fatal(err)
	}
	// No GPS: no GPX; the local date is still 2023; the key keeps its
	// underscores and dots and is read back from the name.
	if res.ActivityID != "2023/2023-12-31T1700_pool-swim_files-x_y.z.fit" {
		t.Errorf("pool swim ID %s", res.ActivityID)
	}
	acts, err := a.List(t.Context(), sink.Window{})
	if err != nil || len(acts) != 2 || acts[1].ExternalID != "files-x_y.z" || acts[1].SportType != "pool-swim" {
		t.Fatalf("List = %+v, %v", acts, err)
	}
	if acts[0].DeviceName != "Zepp Amazfit Bip 3" {
		t.Errorf("device %q", acts[0].DeviceName)
	}

	w3 := sinktest.Workout(sinktest.KindStrength, time.Date(2022, 5, 1, 6, 0, 0, 0, time.UTC), "nozone")
	w3.Zone = workout.Zone{}
	if res, _ = a.Put(t.Context(), w3, "files-nozone"); res.ActivityID != "2022/2022-05-01T0600_strength_files-nozone.fit" {
		t.Errorf("without a zone the name is UTC: %s", res.ActivityID)
	}
}

// A key already archived under another date (the source corrected the
// start) is still a duplicate: idempotency is by key, not by name.
func TestDuplicateWhateverTheDate(t *testing.T) {
	a := newArchive(t)
	w := sinktest.Workout(sinktest.KindRun, time.Date(2022, 6, 1, 7, 0, 0, 0, time.UTC), "42")
	first, err := a.Put(t.Context(), w, "zepp-42")
	if err != nil {
		t.Fatal(err)
	}
	moved := sinktest.Workout(sinktest.KindRun, time.Date(2022, 6, 3, 7, 0, 0, 0, time.UTC), "42")
	res, err := a.Put(t.Context(), moved, "zepp-42")
	if err != nil || res.Outcome != sink.Duplicate || res.ActivityID != first.ActivityID || res.MatchedBy != "key" {
		t.Fatalf("Put = %+v, %v; want duplicate of %s", res, err, first.ActivityID)
	}
	if n := len(files(t, a.Dir())); n != 1 {
		t.Errorf("%d files, want 1", n)
	}
}

func TestBadKeysAndWorkouts(t *testing.T) {
	a := newArchive(t)
	w := sinktest.Workout(sinktest.KindRun, time.Date(2022, 6, 1, 7, 0, 0, 0, time.UTC), "1")
	for _, key := range []string{"", "../escape", "a/b", ".hidden", "sp ace", strings.Repeat("k", 300)} {
		if _, err := a.Put(t.Context(), w, key); err == nil || errclass.ClassOf(err) != errclass.Permanent {
			t.Errorf("Put with key %q: err = %v, want a permanent error", key, err)
		}
	}
	if _, err := a.Put(t.Context(), &workout.Workout{}, "k"); err == nil {
		t.Error("Put of a workout without a start succeeded")
	}
	gpxOnly := newArchive(t, GPX)
	indoor := sinktest.Workout(sinktest.KindStrength, time.Date(2022, 6, 1, 7, 0, 0, 0, time.UTC), "1")
	if _, err := gpxOnly.Put(t.Context(), indoor, "k-1"); err == nil || !strings.Contains(err.Error(), "GPS") {
		t.Errorf("GPX-only archive took a workout without GPS: %v", err)
	}
	if len(files(t, a.Dir()))+len(files(t, gpxOnly.Dir())) != 0 {
		t.Error("refused Puts left files")
	}
	if _, err := New(Options{Dir: t.TempDir(), Formats: []Format{"kml"}}); errclass.ClassOf(err) != errclass.Usage {
		t.Errorf("unknown format: %v", err)
	}
}

func TestReadOnlyFolder(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes into read-only folders; TestFolderIsAFile and TestDiskFullMidWay cover the error path")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	a, _ := New(Options{Dir: dir})
	w := sinktest.Workout(sinktest.KindRun, time.Date(2022, 6, 1, 7, 0, 0, 0, time.UTC), "1")
	_, err := a.Put(t.Context(), w, "zepp-1")
	checkDiskError(t, err, errclass.Usage, dir, "writable")
	if f := files(t, dir); len(f) != 0 {
		t.Errorf("left %v", f)
	}
}

func TestFolderIsAFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "archive")
	if err := os.WriteFile(dir, []byte("not a folder"), 0o644); err != nil {
		t.Fatal(err)
	}
	a, _ := New(Options{Dir: dir})
	w := sinktest.Workout(sinktest.KindRun, time.Date(2022, 6, 1, 7, 0, 0, 0, time.UTC), "1")
	_, err := a.Put(t.Context(), w, "zepp-1")
	checkDiskError(t, err, errclass.Usage, dir, "another folder")
	if _, err := a.List(t.Context(), sink.Window{}); err == nil {
		t.Error("List of a file succeeded")
	}
}

func checkDiskError(t *testing.T, err error, class errclass.Class, dir, hint string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	if errclass.ClassOf(err) != class {
		t.Errorf("class %v, want %v: %v", errclass.ClassOf(err), class, err)
	}
	if !strings.Contains(err.Error(), dir) {
		t.Errorf("error %q does not name the folder", err)
	}
	if h := errclass.HintOf(err); !strings.Contains(h, hint) || !strings.Contains(h, dir) {
		t.Errorf("hint %q", h)
	}
}

// failingWriter passes n bytes through, then fails like a full disk.
type failingWriter struct {
	w io.Writer
	n int
}

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) <= f.n {
		f.n -= len(p)
		return f.w.Write(p)
	}
	k, _ := f.w.Write(p[:f.n])
	f.n = 0
	return k, &fs.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}
}

func TestDiskFullMidWay(t *testing.T) {
	for _, c := range []struct {
		name    string
		formats []Format
		budget  int // bytes that fit before the disk is full
	}{
		{"first byte", []Format{FIT}, 0},
		{"inside the FIT", []Format{FIT}, 1000},
		{"second format", []Format{FIT, GPX}, 1 << 30}, // set below
	} {
		t.Run(c.name, func(t *testing.T) {
			a := newArchive(t, c.formats...)
			w := sinktest.Workout(sinktest.KindRun, time.Date(2022, 6, 1, 7, 0, 0, 0, time.UTC), "1")
			calls := 0
			a.wrap = func(w io.Writer) io.Writer {
				calls++
				if c.name == "second format" && calls == 1 {
					return w // the FIT goes through, the GPX hits the full disk
				}
				return &failingWriter{w: w, n: min(c.budget, 5000)}
			}
			_, err := a.Put(t.Context(), w, "zepp-1")
			checkDiskError(t, err, errclass.Retryable, a.Dir(), "free some space")
			if !errors.Is(err, syscall.ENOSPC) {
				t.Errorf("cause lost: %v", err)
			}
			if f := files(t, a.Dir()); len(f) != 0 {
				t.Errorf("partial files left: %v", f)
			}
			// The disk has room again: the same Put now works.
			a.wrap = nil
			if res, err := a.Put(t.Context(), w, "zepp-1"); err != nil || res.Outcome != sink.Created {
				t.Errorf("retry: %+v, %v", res, err)
			}
		})
	}
}

// List must survive a file that is not what its name says.
func TestListSkipsUndecodableFiles(t *testing.T) {
	a := newArchive(t)
	w := sinktest.Workout(sinktest.KindRun, time.Date(2022, 6, 1, 7, 0, 0, 0, time.UTC), "1")
	if _, err := a.Put(t.Context(), w, "zepp-1"); err != nil {
		t.Fatal(err)
	}
	junk := filepath.Join(a.Dir(), "2022", "2022-06-02T0900_run_zepp-2.fit")
	if err := os.WriteFile(junk, []byte("not FIT"), 0o644); err != nil {
		t.Fatal(err)
	}
	acts, err := a.List(t.Context(), sink.Window{})
	if err != nil || len(acts) != 1 || acts[0].ExternalID != "zepp-1" {
		t.Fatalf("List = %v, %v", acts, err)
	}
	w2 := sinktest.Workout(sinktest.KindRun, time.Date(2022, 6, 2, 9, 0, 0, 0, time.UTC), "2")
	if res, err := a.Put(t.Context(), w2, "zepp-2"); err != nil || res.Outcome != sink.Duplicate {
		t.Errorf("Put over an undecodable file of the same key: %+v, %v", res, err)
	}
}

// List sees a file changed behind its back (cache keyed by size and mtime).
func TestListNoticesChangedFiles(t *testing.T) {
	a := newArchive(t)
	w := sinktest.Workout(sinktest.KindRun, time.Date(2022, 6, 1, 7, 0, 0, 0, time.UTC), "1")
	res, err := a.Put(t.Context(), w, "zepp-1")
	if err != nil {
		t.Fatal(err)
	}
	if acts, _ := a.List(t.Context(), sink.Window{}); len(acts) != 1 {
		t.Fatal("not listed")
	}
	if err := os.Remove(filepath.Join(a.Dir(), res.ActivityID)); err != nil {
		t.Fatal(err)
	}
	if acts, _ := a.List(t.Context(), sink.Window{}); len(acts) != 0 {
		t.Errorf("deleted file still listed: %v", acts)
	}
}

func BenchmarkList(b *testing.B) {
	for _, n := range []int{100, 1000} {
		a, _ := New(Options{Dir: b.TempDir()})
		start := time.Date(2019, 1, 1, 7, 0, 0, 0, time.UTC)
		for i := range n {
			w := sinktest.Workout(sinktest.KindRun, start.Add(time.Duration(i)*41*time.Hour), fmt.Sprint(i))
			if _, err := a.Put(b.Context(), w, w.Origin.Key()); err != nil {
				b.Fatal(err)
			}
		}
		win := sink.Window{After: start.Add(400 * 24 * time.Hour), Before: start.Add(430 * 24 * time.Hour)}
		b.Run(fmt.Sprintf("files=%d/cold-all", n), func(b *testing.B) {
			for b.Loop() {
				a.cache, a.indexed = map[string]cached{}, true // decode everything
				if _, err := a.List(b.Context(), sink.Window{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("files=%d/new-process-all", n), func(b *testing.B) {
			for b.Loop() {
				fresh, _ := New(Options{Dir: a.Dir()}) // reads the index
				if _, err := fresh.List(b.Context(), sink.Window{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("files=%d/warm-all", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := a.List(b.Context(), sink.Window{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("files=%d/cold-month", n), func(b *testing.B) {
			for b.Loop() {
				a.cache, a.indexed = map[string]cached{}, true
				if _, err := a.List(b.Context(), win); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("files=%d/put-duplicate", n), func(b *testing.B) {
			w := sinktest.Workout(sinktest.KindRun, start, "0")
			for b.Loop() {
				if res, err := a.Put(b.Context(), w, w.Origin.Key()); err != nil || res.Outcome != sink.Duplicate {
					b.Fatal(res, err)
				}
			}
		})
	}
}

// A second process reads the numbers from the index instead of decoding;
// an entry for a file that changed since, or a broken index, is ignored.
func TestIndex(t *testing.T) {
	a := newArchive(t)
	w := sinktest.Workout(sinktest.KindRun, time.Date(2022, 6, 1, 7, 0, 0, 0, time.UTC), "1")
	res, err := a.Put(t.Context(), w, "zepp-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.List(t.Context(), sink.Window{}); err != nil {
		t.Fatal(err)
	}
	ixPath := filepath.Join(a.Dir(), indexName)
	b, err := os.ReadFile(ixPath)
	if err != nil {
		t.Fatalf("no index after List: %v", err)
	}
	var ix index
	if err := json.Unmarshal(b, &ix); err != nil || len(ix.Files) != 1 {
		t.Fatalf("index %s: %v", b, err)
	}
	// Mark the entry so that using it shows.
	e := ix.Files[res.ActivityID]
	e.Distance = 12345
	ix.Files[res.ActivityID] = e
	b, _ = json.Marshal(ix)
	if err := os.WriteFile(ixPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	distance := func() float64 {
		t.Helper()
		b, _ := New(Options{Dir: a.Dir()})
		acts, err := b.List(t.Context(), sink.Window{})
		if err != nil || len(acts) != 1 {
			t.Fatalf("List = %v, %v", acts, err)
		}
		return acts[0].Distance
	}
	if d := distance(); d != 12345 {
		t.Errorf("a new Archive decoded instead of using the index (distance %.0f)", d)
	}
	// The file changes (same size, new mtime): the entry is stale.
	b, _ = json.Marshal(ix)
	_ = os.WriteFile(ixPath, b, 0o644)
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(filepath.Join(a.Dir(), res.ActivityID), later, later); err != nil {
		t.Fatal(err)
	}
	if d := distance(); d != w.Distance() {
		t.Errorf("stale index entry used: distance %.0f", d)
	}
	if err := os.WriteFile(ixPath, []byte("{broken"), 0o644); err != nil {
		t.Fatal(err)
	}
	if d := distance(); d != w.Distance() {
		t.Errorf("broken index: distance %.0f", d)
	}
}

// Put remembers the archive between calls; files deleted behind its back
// are noticed, and files another Archive wrote are seen on its first Put.
func TestPutNoticesDeletedAndForeignFiles(t *testing.T) {
	a := newArchive(t)
	w := sinktest.Workout(sinktest.KindRun, time.Date(2022, 6, 1, 7, 0, 0, 0, time.UTC), "42")
	first, err := a.Put(t.Context(), w, "zepp-42")
	if err != nil || first.Outcome != sink.Created {
		t.Fatalf("Put = %+v, %v", first, err)
	}
	if err := os.Remove(filepath.Join(a.Dir(), filepath.FromSlash(first.ActivityID))); err != nil {
		t.Fatal(err)
	}
	again, err := a.Put(t.Context(), w, "zepp-42")
	if err != nil || again.Outcome != sink.Created {
		t.Fatalf("Put after deleting its file = %+v, %v; want created again", again, err)
	}
	other, err := New(Options{Dir: a.Dir()})
	if err != nil {
		t.Fatal(err)
	}
	res, err := other.Put(t.Context(), w, "zepp-42")
	if err != nil || res.Outcome != sink.Duplicate || res.ActivityID != again.ActivityID {
		t.Fatalf("second archive's Put = %+v, %v; want duplicate of %s", res, err, again.ActivityID)
	}
}

// A workout held in some of the archive's formats gets the others on its
// next Put: a run stopped between two renames, or a format added since.
func TestPutCompletesMissingFormats(t *testing.T) {
	a := newArchive(t, FIT, GPX)
	w := sinktest.Workout(sinktest.KindRun, time.Date(2022, 6, 1, 7, 0, 0, 0, time.UTC), "42")
	first, err := a.Put(t.Context(), w, "zepp-42")
	if err != nil || first.Outcome != sink.Created {
		t.Fatalf("Put = %+v, %v", first, err)
	}
	gpxPath := filepath.Join(a.Dir(), filepath.FromSlash(strings.TrimSuffix(first.ActivityID, ".fit")+".gpx"))
	if err := os.Remove(gpxPath); err != nil {
		t.Fatal(err)
	}
	again, err := a.Put(t.Context(), w, "zepp-42")
	if err != nil || again.Outcome != sink.Duplicate || again.ActivityID != first.ActivityID {
		t.Fatalf("second Put = %+v, %v; want a duplicate of %s", again, err, first.ActivityID)
	}
	if _, err := os.Stat(gpxPath); err != nil {
		t.Errorf("the missing GPX was not written again: %v", err)
	}
	if n := len(files(t, a.Dir())); n != 2 {
		t.Errorf("%d files, want 2", n)
	}
}

// A process that stops between Stage and Flush leaves only temporary
// files: the next one does not take the workout as held, writes it again,
// and removes the stale temporary files (but not a fresh one, which could
// be another writer's).
func TestStagedLostWithoutFlush(t *testing.T) {
	a := newArchive(t, FIT, GPX)
	w := sinktest.Workout(sinktest.KindRun, time.Date(2022, 6, 1, 7, 0, 0, 0, time.UTC), "42")
	staged, err := a.Stage(t.Context(), w, "zepp-42")
	if err != nil || staged.Outcome != sink.Created {
		t.Fatalf("Stage = %+v, %v", staged, err)
	}
	temps := files(t, a.Dir())
	if len(temps) != 2 {
		t.Fatalf("after Stage: files %v, want two temporary files", temps)
	}
	old := time.Now().Add(-2 * staleAfter)
	if err := os.Chtimes(filepath.Join(a.Dir(), temps[0]), old, old); err != nil {
		t.Fatal(err)
	}

	next, err := New(Options{Dir: a.Dir(), Formats: []Format{FIT, GPX}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := next.Put(t.Context(), w, "zepp-42")
	if err != nil || res.Outcome != sink.Created || res.ActivityID != staged.ActivityID {
		t.Fatalf("Put after a lost Stage = %+v, %v; want created as %s", res, err, staged.ActivityID)
	}
	got := files(t, a.Dir())
	want := []string{temps[1], "2022/" + strings.TrimSuffix(path.Base(staged.ActivityID), ".fit") + ".fit", "2022/" + strings.TrimSuffix(path.Base(staged.ActivityID), ".fit") + ".gpx"}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("files %v, want %v (the stale temporary file removed, the fresh one kept)", got, want)
	}
}

// A Flush that cannot put a workout in place says so, leaves no
// temporary file, and drops only what it could not place: the next Put
// writes that workout, and finds the others held.
func TestFlushFailureDropsWhatItCouldNotPlace(t *testing.T) {
	a := newArchive(t)
	var ids []string
	for i := range 3 {
		w := sinktest.Workout(sinktest.KindRun, time.Date(2022, 6, 1+i, 7, 0, 0, 0, time.UTC), fmt.Sprint(i))
		res, err := a.Stage(t.Context(), w, fmt.Sprintf("zepp-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.ActivityID)
	}
	// A folder where the second workout's file goes: its rename fails.
	blocked := filepath.Join(a.Dir(), filepath.FromSlash(ids[1]))
	if err := os.MkdirAll(filepath.Join(blocked, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := a.Flush(t.Context()); err == nil || !strings.Contains(err.Error(), a.Dir()) {
		t.Fatalf("Flush = %v, want an error naming the archive folder", err)
	}
	for _, f := range files(t, a.Dir()) {
		if atomicfile.IsTemp(path.Base(f)) {
			t.Errorf("temporary file %s left behind", f)
		}
	}
	os.RemoveAll(blocked)
	placed := 0
	for i, id := range ids {
		w := sinktest.Workout(sinktest.KindRun, time.Date(2022, 6, 1+i, 7, 0, 0, 0, time.UTC), fmt.Sprint(i))
		res, err := a.Put(t.Context(), w, fmt.Sprintf("zepp-%d", i))
		if err != nil || res.ActivityID != id {
			t.Fatalf("Put %d after the failed Flush = %+v, %v", i, res, err)
		}
		if res.Outcome == sink.Duplicate {
			placed++
		}
		if _, err := os.Stat(filepath.Join(a.Dir(), filepath.FromSlash(id))); err != nil {
			t.Errorf("workout %d not in the archive after its Put: %v", i, err)
		}
	}
	if placed == 3 {
		t.Error("every workout was held after a Flush that failed")
	}
}
