package zeppexport

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/format"
	"github.com/bandsync/bandsync/internal/source"
	"github.com/bandsync/bandsync/internal/source/sourcetest"
	"github.com/bandsync/bandsync/internal/source/zipsafe"
	"github.com/bandsync/bandsync/internal/workout"
)

const csvHeader = "\xef\xbb\xbftype,startTime,sportTime(s),maxPace(/meter),minPace(/meter),distance(m),avgPace(/meter),calories(kcal)\n"

// The Zepp fixture run: trackid 1698569116.
var runStart = time.Unix(1698569116, 0).UTC()

var (
	rideStart  = time.Date(2024, 5, 3, 17, 0, 0, 0, time.UTC)
	walkStart  = time.Date(2024, 5, 2, 7, 30, 0, 0, time.UTC)
	oddStart   = time.Date(2024, 4, 1, 12, 0, 0, 0, time.UTC)
	loneStart  = time.Date(2024, 6, 1, 9, 0, 0, 0, time.UTC)
	sportLines = []string{
		fmt.Sprintf("1,%s,3154,0.2,0.4,9960,0.31,650", runStart.Format("2006-01-02 15:04:05-0700")),
		fmt.Sprintf("9,%s,3600,0.1,0.2,20000,0.18,600", rideStart.Format("2006-01-02 15:04:05-0700")),
		fmt.Sprintf("6,%s,2400,0.6,0.9,3000,0.8,150", walkStart.Format("2006-01-02 15:04:05-0700")),
		fmt.Sprintf("9999,%s,600,,,0,,40", oddStart.Format("2006-01-02 15:04:05-0700")),
		"1,not a date,100,,,,,",
	}
)

func synthetic(start time.Time, sport workout.Sport, n int) *workout.Workout {
	w := &workout.Workout{Start: start, Sport: sport}
	for i := range n {
		var s workout.Sample
		s.Time = start.Add(time.Duration(i) * time.Second)
		s.SetPosition(47+float64(i)*1e-5, 8+float64(i)*1e-5)
		s.SetHeartRate(uint8(100 + i%50))
		w.Samples = append(w.Samples, s)
	}
	return w
}

func mkfile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "zepp", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// exportFolder lays out an unpacked export: the SPORT CSV, a Zepp JSON
// pair and a FIT joined to two rows, a GPX of its own, and other
// categories that are not read.
func exportFolder(t testing.TB) string {
	dir := t.TempDir()
	top := filepath.Join(dir, "1234567_1714600000000")
	mkfile(t, filepath.Join(top, "SPORT", "SPORT_1714600000000.csv"), []byte(csvHeader+strings.Join(sportLines, "\n")+"\n"))
	mkfile(t, filepath.Join(top, "HEARTRATE_AUTO", "HEARTRATE_AUTO_1714600000000.csv"), []byte("date,time,heartRate\n2024-05-01,06:00,80\n"))
	mkfile(t, filepath.Join(dir, "workouts", "run_1698569116_detail.json"), fixture(t, "run_1698569116_detail.json"))
	mkfile(t, filepath.Join(dir, "workouts", "run_1698569116_summary.json"), fixture(t, "run_1698569116_summary.json"))
	// The app's FIT export starts a few seconds after the summary.
	if err := format.WriteFile(filepath.Join(dir, "workouts", "ride.fit"), synthetic(rideStart.Add(3*time.Second), workout.SportRide, 120), format.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := format.WriteFile(filepath.Join(dir, "lone.gpx"), synthetic(loneStart, workout.SportOther, 60), format.Options{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// zipFolder packs a folder into a zip (unencrypted).
func zipFolder(t testing.TB, dir, out string) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		w, err := zw.Create(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	mkfile(t, out, buf.Bytes())
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

func newSource(t testing.TB, path string, opt Options) *Source {
	t.Helper()
	s, err := New(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// checkExport checks what the export of exportFolder lists and fetches.
func checkExport(t *testing.T, s *Source) {
	t.Helper()
	refs := listAll(t, s)
	if len(refs) != 5 {
		t.Fatalf("listed %d workouts, want 5: %v", len(refs), refs)
	}
	ps := s.Problems()
	if len(ps) != 1 || !strings.Contains(ps[0].Error(), "line 6") || !strings.Contains(ps[0].Error(), "not a date") {
		t.Errorf("problems %v, want the bad row on line 6", ps)
	}
	byID := map[string]source.Ref{}
	for _, r := range refs {
		byID[r.ID] = r
	}
	id := func(t time.Time) string { return fmt.Sprint(t.Unix()) }
	cases := []struct {
		id      string
		sport   workout.Sport
		samples bool
		start   time.Time
	}{
		{id(runStart), workout.SportRun, true, runStart},                         // CSV row + Zepp JSON pair
		{id(rideStart), workout.SportRide, true, rideStart.Add(3 * time.Second)}, // CSV row + FIT 3 s later
		{id(walkStart), workout.SportWalk, false, walkStart},                     // CSV row only
		{id(oddStart), workout.SportOther, false, oddStart},                      // unknown sport code
		{id(loneStart), workout.SportOther, true, loneStart},                     // GPX without a row
	}
	for _, c := range cases {
		r, ok := byID[c.id]
		if !ok {
			t.Errorf("workout %s not listed", c.id)
			continue
		}
		if r.Sport != c.sport || !r.Start.Equal(c.start) {
			t.Errorf("%s: listed %v at %v, want %v at %v", c.id, r.Sport, r.Start, c.sport, c.start)
		}
		w, err := s.Fetch(context.Background(), r)
		if err != nil {
			t.Errorf("Fetch(%s): %v", c.id, err)
			continue
		}
		if got := len(w.Samples) > 0; got != c.samples {
			t.Errorf("%s: %d samples, want samples=%v", c.id, len(w.Samples), c.samples)
		}
		if w.Origin != (workout.Origin{Source: Name, ID: c.id}) {
			t.Errorf("%s: origin %+v", c.id, w.Origin)
		}
		if w.Summary != r.Summary {
			t.Errorf("%s: fetched totals %+v, listed %+v", c.id, w.Summary, r.Summary)
		}
	}
	// The row fills what the file lacks: the FIT has no calories.
	if r := byID[id(rideStart)]; r.Summary.Calories != 600 || r.Summary.Distance != 20000 {
		t.Errorf("joined ride: totals %+v, want the row's 600 kcal and 20 km", r.Summary)
	}
	// A summary-only workout has its totals and nothing invented.
	w, _ := s.Fetch(context.Background(), byID[id(walkStart)])
	if w.Summary.Distance != 3000 || w.Summary.Calories != 150 || w.Summary.Moving != 40*time.Minute || len(w.Laps) != 0 {
		t.Errorf("summary-only walk: %+v", w.Summary)
	}
}

func TestFolder(t *testing.T) {
	checkExport(t, newSource(t, exportFolder(t), Options{}))
}

func TestZip(t *testing.T) {
	out := filepath.Join(t.TempDir(), "export.zip")
	zipFolder(t, exportFolder(t), out)
	checkExport(t, newSource(t, out, Options{}))
}

// TestZipInFolder: the export zip beside exported files is one source.
func TestZipInFolder(t *testing.T) {
	src := exportFolder(t)
	dir := t.TempDir()
	zipFolder(t, filepath.Join(src, "1234567_1714600000000"), filepath.Join(dir, "export.zip"))
	if err := os.Rename(filepath.Join(src, "workouts"), filepath.Join(dir, "workouts")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(src, "lone.gpx"), filepath.Join(dir, "lone.gpx")); err != nil {
		t.Fatal(err)
	}
	checkExport(t, newSource(t, dir, Options{}))
}

// mutator edits the unpacked export behind a Source.
type mutator struct{ s *Source }

func (m mutator) entry(t *testing.T, ref source.Ref) *entry {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	e := m.s.index[ref.ID]
	if e == nil {
		t.Fatalf("%s not in the index", ref.ID)
	}
	return e
}

func (m mutator) csvPath() string {
	return filepath.Join(m.s.path, "1234567_1714600000000", "SPORT", "SPORT_1714600000000.csv")
}

// editRow rewrites the CSV, passing the row of ref through fn (nil
// deletes it).
func (m mutator) editRow(t *testing.T, raw string, fn func(string) string) {
	data, err := os.ReadFile(m.csvPath())
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	out := lines[:0]
	for _, l := range lines {
		if l == raw {
			if fn == nil {
				continue
			}
			l = fn(l)
		}
		out = append(out, l)
	}
	mkfile(t, m.csvPath(), []byte(strings.Join(out, "\n")))
}

func (m mutator) Change(t *testing.T, ref source.Ref) {
	e := m.entry(t, ref)
	if e.row == nil {
		// A file of its own: re-encode it with other totals.
		p := filepath.Join(m.s.path, filepath.FromSlash(e.detail.name))
		w, err := format.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		w.Summary.Calories += 7
		if err := format.WriteFile(p, w, format.Options{}); err != nil {
			t.Fatal(err)
		}
		return
	}
	m.editRow(t, e.row.Raw, func(l string) string { return l + "1" }) // calories ×10+1
}

func (m mutator) Remove(t *testing.T, ref source.Ref) {
	e := m.entry(t, ref)
	if e.row != nil {
		m.editRow(t, e.row.Raw, nil)
	}
	for _, it := range []*item{e.detail, e.sum} {
		if it != nil {
			os.Remove(filepath.Join(m.s.path, filepath.FromSlash(it.name)))
		}
	}
}

func TestConformanceFolder(t *testing.T) {
	sourcetest.Run(t, func(t *testing.T) (source.Source, sourcetest.Fixture) {
		s := newSource(t, exportFolder(t), Options{})
		return s, sourcetest.Fixture{Mutator: mutator{s}}
	})
}

func TestConformanceZip(t *testing.T) {
	sourcetest.Run(t, func(t *testing.T) (source.Source, sourcetest.Fixture) {
		out := filepath.Join(t.TempDir(), "export.zip")
		zipFolder(t, exportFolder(t), out)
		return newSource(t, out, Options{}), sourcetest.Fixture{}
	})
}

const testPassword = "bandsync-test"

// TestEncrypted reads the password-protected exports made by 7-Zip (AES-128,
// AES-256, ZipCrypto) and Info-ZIP (ZipCrypto) from testdata/encrypted.
func TestEncrypted(t *testing.T) {
	for _, name := range []string{"aes256.zip", "aes128.zip", "zipcrypto-7zip.zip", "zipcrypto-infozip.zip"} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join("testdata", "encrypted", name)
			s := newSource(t, p, Options{Password: []byte(testPassword)})
			refs := listAll(t, s)
			if len(refs) != 3 || len(s.Problems()) != 0 {
				t.Fatalf("listed %v, problems %v", refs, s.Problems())
			}
			// The ride row is joined to the GPX inside.
			ride := refs[0]
			w, err := s.Fetch(context.Background(), ride)
			if err != nil {
				t.Fatal(err)
			}
			if ride.Sport != workout.SportRide || len(w.Samples) != 3 || w.Summary.Calories != 600 {
				t.Errorf("ride: %v, %d samples, %+v", ride.Sport, len(w.Samples), w.Summary)
			}

			for _, pw := range []string{"", "wrong-password"} {
				s := newSource(t, p, Options{Password: []byte(pw)})
				var err error
				for _, e := range s.List(context.Background(), time.Time{}, time.Time{}) {
					if e != nil {
						err = e
					}
				}
				if !errors.Is(err, ErrPassword) {
					t.Errorf("password %q: %v, want a password error", pw, err)
					continue
				}
				if pw != "" && strings.Contains(err.Error(), pw) || strings.Contains(err.Error(), testPassword) {
					t.Errorf("the error shows a password: %v", err)
				}
				if pw == "" && !strings.Contains(err.Error(), "password-protected") {
					t.Errorf("no password: %v does not say the archive is password-protected", err)
				}
			}
		})
	}
}

// hostile writes zips that zipsafe must refuse.
func hostile(t testing.TB, dir string) map[string]string {
	write := func(name string, fn func(zw *zip.Writer)) {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		fn(zw)
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		mkfile(t, filepath.Join(dir, name), buf.Bytes())
	}
	write("slip.zip", func(zw *zip.Writer) {
		w, _ := zw.Create("../../evil.csv")
		w.Write([]byte("x"))
	})
	write("absolute.zip", func(zw *zip.Writer) {
		w, _ := zw.Create("/etc/SPORT.csv")
		w.Write([]byte("x"))
	})
	write("bomb.zip", func(zw *zip.Writer) {
		w, _ := zw.Create("SPORT/SPORT_1.csv")
		w.Write(bytes.Repeat([]byte{0}, 20<<20))
	})
	write("link.zip", func(zw *zip.Writer) {
		h := &zip.FileHeader{Name: "SPORT/SPORT_2.csv"}
		h.SetMode(os.ModeSymlink | 0o777)
		w, _ := zw.CreateHeader(h)
		w.Write([]byte("/etc/passwd"))
	})
	return map[string]string{
		"slip.zip":     "leads out of the folder",
		"absolute.zip": "absolute path",
		"bomb.zip":     "zip bomb",
		"link.zip":     "symbolic link",
	}
}

// TestHostile: unsafe archives, links out of the folder and broken files
// are problems naming them; the rest of the export is listed.
func TestHostile(t *testing.T) {
	dir := exportFolder(t)
	want := hostile(t, dir)
	outside := t.TempDir()
	mkfile(t, filepath.Join(outside, "SPORT_9.csv"), []byte(csvHeader+"1,2020-01-01 00:00:00+0000,60,,,,,\n"))
	if err := os.Symlink(filepath.Join(outside, "SPORT_9.csv"), filepath.Join(dir, "SPORT_9.csv")); err != nil {
		t.Fatal(err)
	}
	want["SPORT_9.csv"] = "symbolic link leading out of the folder"
	mkfile(t, filepath.Join(dir, "notime.gpx"), []byte(`<?xml version="1.0"?><gpx version="1.1" creator="x" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg><trkpt lat="1" lon="2"/></trkseg></trk></gpx>`))
	want["notime.gpx"] = "no timestamps"
	mkfile(t, filepath.Join(dir, "empty.fit"), nil)
	want["empty.fit"] = "empty file"
	full, _ := os.ReadFile(filepath.Join(dir, "workouts", "ride.fit"))
	var gz bytes.Buffer
	mkfile(t, filepath.Join(dir, "cut.fit.gz"), gzipped(t, &gz, full)[:40])
	want["cut.fit.gz"] = "truncated"
	want["SPORT_1714600000000.csv"] = "not a date" // the bad row

	s := newSource(t, dir, Options{Limits: zipsafe.Limits{MaxRatio: 100, RatioFloor: 1 << 20}})
	refs := listAll(t, s)
	if len(refs) != 5 {
		t.Errorf("listed %d workouts, want the 5 good ones", len(refs))
	}
	got := s.Problems()
	for name, frag := range want {
		found := false
		for _, p := range got {
			if strings.Contains(p.Where, name) && strings.Contains(p.Error(), frag) {
				found = true
			}
		}
		if !found {
			t.Errorf("no problem names %s with %q; problems: %v", name, frag, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d problems, want %d: %v", len(got), len(want), got)
	}

	// Given as the export itself, a hostile zip ends the listing with an
	// error naming it.
	s2 := newSource(t, filepath.Join(dir, "slip.zip"), Options{})
	var err error
	for _, e := range s2.List(context.Background(), time.Time{}, time.Time{}) {
		err = e
	}
	if !errors.Is(err, zipsafe.ErrRefused) || !strings.Contains(err.Error(), "slip.zip") {
		t.Errorf("hostile export: %v", err)
	}
}

func gzipped(t testing.TB, buf *bytes.Buffer, data []byte) []byte {
	t.Helper()
	zw := gzip.NewWriter(buf)
	zw.Write(data)
	zw.Close()
	return buf.Bytes()
}

func TestNotFound(t *testing.T) {
	s := newSource(t, exportFolder(t), Options{})
	if _, err := s.Fetch(context.Background(), source.Ref{ID: "12345"}); !errors.Is(err, errclass.ErrNotFound) {
		t.Errorf("Fetch of an unknown ID: %v", err)
	}
	for _, p := range []string{filepath.Join(t.TempDir(), "nope"), filepath.Join("testdata", "zepp", "run_1698569116_summary.json")} {
		if _, err := New(p, Options{}); !errors.Is(err, errclass.ErrUsage) {
			t.Errorf("New(%s): %v, want a usage error", p, err)
		}
	}
}
