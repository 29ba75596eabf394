package files

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/format"
	"github.com/bandsync/bandsync/internal/geo"
	"github.com/bandsync/bandsync/internal/source"
	"github.com/bandsync/bandsync/internal/source/sourcetest"
	"github.com/bandsync/bandsync/internal/workout"
)

// synthetic returns a run of n one-second samples starting at start, at a
// place outside China.
func synthetic(start time.Time, n int) *workout.Workout {
	w := &workout.Workout{Start: start.UTC(), Sport: workout.SportRun, Name: "Synthetic run"}
	for i := range n {
		var s workout.Sample
		s.Time = w.Start.Add(time.Duration(i) * time.Second)
		s.SetPosition(47.0+float64(i)*1e-5, 8.0+float64(i)*1e-5)
		s.SetHeartRate(uint8(100 + i%60))
		s.SetDistance(float64(i) * 2.5)
		s.SetAltitude(400 + float64(i%20))
		w.Samples = append(w.Samples, s)
	}
	w.Summary.Elapsed = time.Duration(n) * time.Second
	w.Summary.Distance = float64(n) * 2.5
	return w
}

func write(t testing.TB, path string, w *workout.Workout) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := format.WriteFile(path, w, format.Options{}); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func gzipBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// folder builds a folder holding every kind of file the source reads: the
// real Zepp JSON pairs (one gzipped, one in a subfolder), real FIT files,
// and generated GPX, TCX and gzipped FIT.
func folder(t testing.TB) string {
	dir := t.TempDir()
	for _, name := range []string{"run_1698569116", "swimming_1654683111"} {
		for _, part := range []string{"_detail.json", "_summary.json"} {
			copyFile(t, filepath.Join("testdata", "zepp", name+part), filepath.Join(dir, "zepp", name+part))
		}
	}
	for _, part := range []string{"_detail.json", "_summary.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", "zepp", "walk_1542558074"+part))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "zepp", "walk_1542558074"+part+".gz"), gzipBytes(t, data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(t, filepath.Join("testdata", "fit", "garmin-fenix-5-run.fit"), filepath.Join(dir, "garmin", "2017", "run.fit"))
	copyFile(t, filepath.Join("testdata", "fit", "garmin-fenix-5-walk.fit"), filepath.Join(dir, "garmin", "walk.FIT"))
	base := time.Date(2024, 3, 1, 7, 0, 0, 0, time.UTC)
	write(t, filepath.Join(dir, "a.gpx"), synthetic(base, 60))
	write(t, filepath.Join(dir, "b.tcx"), synthetic(base.Add(24*time.Hour), 60))
	write(t, filepath.Join(dir, "deep", "er", "c.fit.gz"), synthetic(base.Add(48*time.Hour), 60))
	write(t, filepath.Join(dir, "d.gpx.gz"), synthetic(base.Add(72*time.Hour), 60))
	// Not workouts: ignored without a word.
	os.WriteFile(filepath.Join(dir, "README.txt"), []byte("my runs"), 0o644)
	os.MkdirAll(filepath.Join(dir, ".git"), 0o755)
	os.WriteFile(filepath.Join(dir, ".git", "x.fit"), []byte("not looked at"), 0o644)
	return dir
}

// mutator edits and deletes the files behind a Source.
type mutator struct{ s *Source }

func (m mutator) path(t *testing.T, ref source.Ref) string {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	p, ok := m.s.byID[ref.ID]
	if !ok {
		t.Fatalf("no file listed for %s", ref.ID)
	}
	return p
}

// Change alters the file's bytes but not its workout's start: XML and JSON
// get trailing white space (inside the gzip stream for .gz), FIT is
// re-encoded with other calories.
func (m mutator) Change(t *testing.T, ref source.Ref) {
	p := m.path(t, ref)
	f, gz, err := format.FromName(p)
	if err != nil {
		t.Fatal(err)
	}
	if f == format.FIT {
		w, err := format.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		w.Summary.Calories += 11
		write(t, p, w)
		return
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if gz {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		data = gzipBytes(t, append(plain, '\n'))
	} else {
		data = append(data, '\n')
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func (m mutator) Remove(t *testing.T, ref source.Ref) {
	p := m.path(t, ref)
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if sn := SummaryName(filepath.Base(p)); sn != "" {
		os.Remove(filepath.Join(filepath.Dir(p), sn))
	}
}

func TestConformance(t *testing.T) {
	sourcetest.Run(t, func(t *testing.T) (source.Source, sourcetest.Fixture) {
		s, err := New(folder(t), Options{Warnf: func(f string, a ...any) { t.Errorf("unexpected problem: "+f, a...) }})
		if err != nil {
			t.Fatal(err)
		}
		return s, sourcetest.Fixture{Mutator: mutator{s}}
	})
}

func listAll(t testing.TB, s *Source) []source.Ref {
	t.Helper()
	var refs []source.Ref
	for r, err := range s.List(context.Background(), time.Time{}, time.Time{}) {
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, r)
	}
	return refs
}

func TestListsEveryFormat(t *testing.T) {
	dir := folder(t)
	s, err := New(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	refs := listAll(t, s)
	if p := s.Problems(); len(p) != 0 {
		t.Fatalf("problems: %v", p)
	}
	if len(refs) != 9 {
		t.Fatalf("listed %d workouts, want 9 (3 Zepp pairs, 2 FIT, 4 generated): %v", len(refs), refs)
	}
	byStart := map[int64]source.Ref{}
	for _, r := range refs {
		byStart[r.Start.Unix()] = r
		if r.ID != ID(r.Start) {
			t.Errorf("ID %q is not the start %v", r.ID, r.Start)
		}
		key := workout.Origin{Source: Name, ID: r.ID}.Key()
		if key != Name+"-"+r.ID {
			t.Errorf("Origin.Key() %q rewrote the ID %q: it is not external_id-safe", key, r.ID)
		}
		if len(r.Fingerprint) != 64 {
			t.Errorf("fingerprint %q is not a SHA-256", r.Fingerprint)
		}
	}
	// The Zepp pairs come with their summaries: the sport and totals.
	for _, c := range []struct {
		trackid int64
		sport   workout.Sport
	}{{1698569116, workout.SportRun}, {1542558074, workout.SportWalk}, {1654683111, workout.SportPoolSwim}} {
		r, ok := byStart[c.trackid]
		if !ok {
			t.Errorf("Zepp workout %d not listed", c.trackid)
			continue
		}
		if r.Sport != c.sport || r.Summary.Distance <= 0 {
			t.Errorf("Zepp workout %d: sport %v distance %v, want %v with the summary's distance", c.trackid, r.Sport, r.Summary.Distance, c.sport)
		}
	}
	// Every listed workout fetches; the gaode walk is marked GCJ-02, the
	// others are not.
	for _, r := range refs {
		w, err := s.Fetch(context.Background(), r)
		if err != nil {
			t.Fatalf("Fetch(%s): %v", r.ID, err)
		}
		if got, want := geo.IsMarkedGCJ02(w), r.Start.Unix() == 1542558074; got != want {
			t.Errorf("%s: marked GCJ-02 = %v, want %v", r.ID, got, want)
		}
	}
}

func TestSummaryWithoutDetail(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, filepath.Join("testdata", "zepp", "run_1698569116_summary.json"), filepath.Join(dir, "run_1698569116_summary.json"))
	write(t, filepath.Join(dir, "x.gpx"), synthetic(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), 10))
	s, _ := New(dir, Options{})
	refs := listAll(t, s)
	if len(refs) != 2 || len(s.Problems()) != 0 {
		t.Fatalf("refs %v, problems %v", refs, s.Problems())
	}
	w, err := s.Fetch(context.Background(), refs[0])
	if err != nil {
		t.Fatal(err)
	}
	if w.Start.Unix() != 1698569116 || w.Sport != workout.SportRun || len(w.Samples) != 0 || w.Summary.Distance <= 0 {
		t.Errorf("summary-only workout: start %v sport %v %d samples distance %v", w.Start, w.Sport, len(w.Samples), w.Summary.Distance)
	}
}

// TestProblems: each bad file is a problem naming it, and the good ones
// are still listed.
func TestProblems(t *testing.T) {
	dir := folder(t)
	outside := t.TempDir()
	write(t, filepath.Join(outside, "secret.gpx"), synthetic(time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC), 10))
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink(filepath.Join(outside, "secret.gpx"), filepath.Join(dir, "link-out.gpx")))
	must(os.Symlink(outside, filepath.Join(dir, "linked-folder")))
	must(os.Symlink(filepath.Join(dir, "a.gpx"), filepath.Join(dir, "link-in.gpx"))) // same content: no problem
	must(os.Symlink(filepath.Join(dir, "missing.fit"), filepath.Join(dir, "dangling.fit")))
	must(os.WriteFile(filepath.Join(dir, "notime.gpx"), []byte(`<?xml version="1.0"?>
<gpx version="1.1" creator="x" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>
<trkpt lat="47.1" lon="8.1"></trkpt><trkpt lat="47.2" lon="8.2"></trkpt></trkseg></trk></gpx>`), 0o644))
	whole, err := os.ReadFile(filepath.Join(dir, "d.gpx.gz"))
	must(err)
	must(os.WriteFile(filepath.Join(dir, "truncated.gpx.gz"), whole[:len(whole)/2], 0o644))
	must(os.WriteFile(filepath.Join(dir, "empty.tcx"), nil, 0o644))
	must(os.WriteFile(filepath.Join(dir, "empty2.fit.gz"), gzipBytes(t, nil), 0o644))
	must(os.WriteFile(filepath.Join(dir, "settings.json"), []byte(`{"theme":"dark"}`), 0o644))
	must(os.WriteFile(filepath.Join(dir, "garbage.fit"), []byte("this is not a FIT file at all"), 0o644))

	var mu sync.Mutex
	var warned []string
	s, err := New(dir, Options{Warnf: func(f string, a ...any) {
		mu.Lock()
		warned = append(warned, fmt.Sprintf(f, a...))
		mu.Unlock()
	}})
	must(err)
	refs := listAll(t, s)
	if len(refs) != 9 {
		t.Errorf("listed %d workouts, want the 9 good ones", len(refs))
	}
	want := map[string]string{
		"link-out.gpx":     "symbolic link leading out of the folder",
		"linked-folder":    "symbolic link leading out of the folder",
		"dangling.fit":     "broken symbolic link",
		"notime.gpx":       "no timestamps",
		"truncated.gpx.gz": "truncated",
		"empty.tcx":        "empty file",
		"empty2.fit.gz":    "empty file",
		"settings.json":    "trackid",
		"garbage.fit":      "",
	}
	got := map[string]string{}
	for _, p := range s.Problems() {
		rel, err := filepath.Rel(dir, p.Path)
		if err != nil || strings.HasPrefix(rel, "..") {
			t.Errorf("problem path %q is not under the folder", p.Path)
		}
		got[rel] = p.Error()
		if !strings.HasPrefix(p.Error(), p.Path+": ") {
			t.Errorf("problem %q does not start with the file", p.Error())
		}
	}
	for name, frag := range want {
		msg, ok := got[name]
		switch {
		case !ok:
			t.Errorf("no problem reported for %s", name)
		case !strings.Contains(msg, frag):
			t.Errorf("%s: problem %q does not say %q", name, msg, frag)
		}
	}
	for name, msg := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("unexpected problem: %s", msg)
		}
	}
	if len(warned) != len(got) {
		t.Errorf("Warnf told %d problems, Problems has %d", len(warned), len(got))
	}
	for _, m := range warned {
		if strings.Contains(m, "secret") && !strings.Contains(m, "points to") {
			t.Errorf("warning %q", m)
		}
	}
	for _, r := range refs {
		if r.Start.Year() == 2019 {
			t.Errorf("the file behind a link out of the folder was listed")
		}
	}
	// A second listing reports the same problems (from the cache).
	listAll(t, s)
	if n := len(s.Problems()); n != len(got) {
		t.Errorf("second listing: %d problems, first %d", n, len(got))
	}
}

// TestSameWorkoutTwice: a workout saved in two formats is one workout, the
// FIT taken; renaming a file keeps its ID.
func TestSameWorkoutTwice(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2023, 6, 1, 5, 30, 0, 0, time.UTC)
	w := synthetic(start, 120)
	write(t, filepath.Join(dir, "z.gpx"), w)
	write(t, filepath.Join(dir, "a.fit"), w)
	write(t, filepath.Join(dir, "other.tcx"), synthetic(start.Add(time.Hour), 30))
	s, _ := New(dir, Options{})
	refs := listAll(t, s)
	if len(refs) != 2 {
		t.Fatalf("listed %d, want 2", len(refs))
	}
	if p := s.Problems(); len(p) != 1 || !strings.Contains(p[0].Path, "z.gpx") || !strings.Contains(p[0].Error(), "a.fit") {
		t.Errorf("problems %v, want z.gpx said to be the same workout as a.fit", p)
	}
	fit := refs[1]
	got, err := s.Fetch(context.Background(), fit)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Samples) != 120 || got.Start != start {
		t.Errorf("fetched %d samples from %v", len(got.Samples), got.Start)
	}
	if err := os.Rename(filepath.Join(dir, "a.fit"), filepath.Join(dir, "renamed.fit")); err != nil {
		t.Fatal(err)
	}
	again := listAll(t, s)
	if len(again) != 2 || again[1].ID != fit.ID || again[1].Fingerprint != fit.Fingerprint {
		t.Errorf("after a rename: %v, want %s with the same fingerprint", again, fit.ID)
	}
	// A fresh Source (another process) fetches by ID without listing first.
	s2, _ := New(dir, Options{})
	if _, err := s2.Fetch(context.Background(), fit); err != nil {
		t.Errorf("Fetch on a fresh source: %v", err)
	}
	if _, err := s2.Fetch(context.Background(), source.Ref{ID: ID(start.Add(-time.Hour))}); !errors.Is(err, errclass.ErrNotFound) {
		t.Errorf("Fetch of an unknown ID: %v, want not found", err)
	}
}

// TestUnchangedFileIsNotReadAgain: the listing trusts size and
// modification time, as documented; a changed size is read again.
func TestUnchangedFileIsNotReadAgain(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.gpx")
	write(t, p, synthetic(time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC), 30))
	write(t, filepath.Join(dir, "b.gpx"), synthetic(time.Date(2022, 1, 2, 0, 0, 0, 0, time.UTC), 30))
	s, _ := New(dir, Options{})
	first := listAll(t, s)
	fi, _ := os.Stat(p)
	// Same size and time, different bytes: not noticed (not read).
	junk := bytes.Repeat([]byte{'x'}, int(fi.Size()))
	os.WriteFile(p, junk, 0o644)
	os.Chtimes(p, fi.ModTime(), fi.ModTime())
	if second := listAll(t, s); len(second) != 2 || len(s.Problems()) != 0 || second[1].Fingerprint != first[1].Fingerprint {
		t.Fatalf("an unchanged stamp was read again: %v %v", second, s.Problems())
	}
	// Another size: read, and now a problem.
	os.WriteFile(p, append(junk, 'y'), 0o644)
	if third := listAll(t, s); len(third) != 1 || len(s.Problems()) != 1 {
		t.Fatalf("a changed file was not read again: %v %v", third, s.Problems())
	}
}

func TestNewRefusesNonFolders(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "a.fit")
	os.WriteFile(f, []byte("x"), 0o644)
	for _, p := range []string{f, filepath.Join(dir, "nope")} {
		if _, err := New(p, Options{}); !errors.Is(err, errclass.ErrUsage) {
			t.Errorf("New(%s): %v, want a usage error", p, err)
		}
	}
}

// TestWatch: a file written in pieces is reported once, after it stops
// growing, and List leaves it out meanwhile.
func TestWatch(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "old.gpx"), synthetic(time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC), 10))
	// Make the old file look settled.
	past := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(dir, "old.gpx"), past, past)
	s, _ := New(dir, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	readyc := make(chan []string, 10)
	done := make(chan error, 1)
	const interval = 40 * time.Millisecond
	go func() { done <- s.Watch(ctx, interval, func(p []string) { readyc <- p }) }()

	var buf bytes.Buffer
	w := synthetic(time.Date(2021, 2, 1, 0, 0, 0, 0, time.UTC), 200)
	if err := format.Encode(&buf, format.GPX, w, format.Options{}); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	p := filepath.Join(dir, "new.gpx")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	chunks := 5
	for i := range chunks {
		f.Write(data[i*len(data)/chunks : (i+1)*len(data)/chunks])
		f.Sync()
		time.Sleep(interval / 2)
		// While it grows, a listing leaves it out (and calls it no problem).
		if i < chunks-1 {
			for _, r := range listAll(t, s) {
				if r.Start.Month() == 2 {
					t.Fatalf("listed the growing file after chunk %d", i)
				}
			}
			if len(s.Problems()) != 0 {
				t.Fatalf("problems while growing: %v", s.Problems())
			}
			select {
			case got := <-readyc:
				t.Fatalf("reported %v while still growing", got)
			default:
			}
		}
	}
	f.Close()
	select {
	case got := <-readyc:
		if len(got) != 1 || got[0] != p {
			t.Fatalf("ready %v, want [%s]", got, p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the finished file was never reported")
	}
	if refs := listAll(t, s); len(refs) != 2 {
		t.Fatalf("after settling: %d workouts listed", len(refs))
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Watch: %v", err)
	}
	select {
	case got := <-readyc:
		t.Fatalf("reported again: %v", got)
	default:
	}
}
