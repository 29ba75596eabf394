package gadgetbridge

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/source"
	"github.com/bandsync/bandsync/internal/source/sourcetest"
	"github.com/bandsync/bandsync/internal/source/zipsafe"
	"github.com/bandsync/bandsync/internal/workout"
)

type mutator struct{ db *sql.DB }

// rowOf finds the row a ref was listed from.
func (m mutator) rowOf(t *testing.T, ref source.Ref) int64 {
	start, dev, _, ok := parseID(ref.ID)
	if !ok {
		t.Fatalf("bad ID %s", ref.ID)
	}
	rows, err := m.db.Query(`SELECT s._id, d.IDENTIFIER FROM BASE_ACTIVITY_SUMMARY s JOIN DEVICE d ON d._id = s.DEVICE_ID WHERE START_TIME = ?`, start)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var ident string
		rows.Scan(&id, &ident)
		if deviceKey(ident) == dev {
			return id
		}
	}
	t.Fatalf("no row for %s", ref.ID)
	return 0
}

func (m mutator) Change(t *testing.T, ref source.Ref) {
	if _, err := m.db.Exec(`UPDATE BASE_ACTIVITY_SUMMARY SET NAME = 'edited' WHERE _id = ?`, m.rowOf(t, ref)); err != nil {
		t.Fatal(err)
	}
}

func (m mutator) Remove(t *testing.T, ref source.Ref) {
	if _, err := m.db.Exec(`DELETE FROM BASE_ACTIVITY_SUMMARY WHERE _id = ?`, m.rowOf(t, ref)); err != nil {
		t.Fatal(err)
	}
}

func TestConformance(t *testing.T) {
	sourcetest.Run(t, func(t *testing.T) (source.Source, sourcetest.Fixture) {
		dir := t.TempDir()
		p, db := fixture(t, dir, 7)
		// Two devices starting the same millisecond: two workouts.
		if _, err := db.Exec(`INSERT INTO DEVICE (_id, NAME, MANUFACTURER, IDENTIFIER, TYPE, TYPE_NAME) VALUES (8, 'Mi Band 5', 'Huami', 'AA:BB:CC:DD:EE:02', 0, 'MIBAND5')`); err != nil {
			t.Fatal(err)
		}
		var start int64
		db.QueryRow(`SELECT START_TIME FROM BASE_ACTIVITY_SUMMARY ORDER BY START_TIME LIMIT 1 OFFSET 3`).Scan(&start)
		if _, err := db.Exec(`INSERT INTO BASE_ACTIVITY_SUMMARY (START_TIME, END_TIME, ACTIVITY_KIND, DEVICE_ID, USER_ID) VALUES (?, ?, 128, 8, 1)`, start, start+600000); err != nil {
			t.Fatal(err)
		}
		return openSource(t, p, Options{}), sourcetest.Fixture{Mutator: mutator{db}}
	})
}

// snapshot records a folder's names, sizes and contents.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if d.Type().IsRegular() {
			b, _ := os.ReadFile(p)
			lines = append(lines, p+" "+string(sha256.New().Sum(b)))
		} else {
			lines = append(lines, p+"/")
		}
		return nil
	})
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// TestReadOnly: a full List and Fetch leave the database's bytes and its
// folder's listing exactly as they were (no -wal, -shm or -journal).
func TestReadOnly(t *testing.T) {
	dir := t.TempDir()
	p, db := fixture(t, dir, 6)
	db.Close()
	before := snapshot(t, dir)
	s := openSource(t, p, Options{})
	ctx := context.Background()
	n := 0
	for ref, err := range s.List(ctx, time.Time{}, time.Time{}) {
		if err != nil {
			t.Fatal(err)
		}
		w, err := s.Fetch(ctx, ref)
		if err != nil {
			t.Fatalf("Fetch %s: %v", ref.ID, err)
		}
		if w.Device.Model != "Amazfit Bip" || w.Device.Firmware != "1.1.5.16" {
			t.Errorf("device %+v", w.Device)
		}
		n++
	}
	if n != 6 {
		t.Fatalf("listed %d workouts, want 6", n)
	}
	s.Close()
	if after := snapshot(t, dir); after != before {
		t.Fatalf("the export folder changed:\nbefore\n%s\nafter\n%s", before, after)
	}
}

// TestWorkouts checks what each kind of row becomes.
func TestWorkouts(t *testing.T) {
	dir := t.TempDir()
	p, _ := fixture(t, dir, 3)
	s := openSource(t, p, Options{})
	ctx := context.Background()
	refs := sourcetest.List(t, ctx, s, time.Time{}, time.Time{})
	if len(refs) != 3 {
		t.Fatalf("%d refs", len(refs))
	}
	byStart := map[time.Time]*workout.Workout{}
	for _, r := range refs {
		w, err := s.Fetch(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		byStart[w.Start] = w
	}
	base := time.Date(2024, 3, 1, 7, 0, 0, 0, time.UTC)
	det := byStart[base]
	if det == nil || det.Sport != workout.SportRun || len(det.Samples) == 0 || !det.HasGPS() {
		t.Fatalf("details workout: %+v", det)
	}
	if det.Summary.Distance != 5000 || det.Summary.AvgHR != 130 || det.Summary.MaxHR != 171 || det.Summary.Steps != 4321 ||
		det.Summary.Elapsed != 24*time.Minute || det.Summary.AvgCadence != 150 || det.Summary.Calories != 321 {
		t.Errorf("summary from the raw blob: %+v", det.Summary)
	}
	if got := det.Samples[0].Time; !got.Equal(base) {
		t.Errorf("first sample at %v", got)
	}
	g := byStart[base.Add(26*time.Hour)]
	if g == nil || len(g.Samples) != 5 || !g.HasGPS() {
		t.Fatalf("GPX workout: %+v", g)
	}
	sumOnly := byStart[base.Add(52*time.Hour)]
	if sumOnly == nil || sumOnly.Sport != workout.SportWalk || len(sumOnly.Samples) != 0 {
		t.Fatalf("summary-only workout: %+v", sumOnly)
	}
}

// TestMinuteHR: a summary-only workout takes the band's per-minute heart
// rate, valid readings only, and says so.
func TestMinuteHR(t *testing.T) {
	dir := t.TempDir()
	p, db := newDB(t, dir)
	start := time.Date(2024, 3, 1, 7, 0, 0, 0, time.UTC)
	addRow(t, db, gbRow{start: start, dur: 5 * time.Minute, kind: 256})
	for i, bpm := range []int{255, 101, 0, 120, 130, -1, 140} {
		db.Exec(`INSERT INTO MI_BAND_ACTIVITY_SAMPLE VALUES (?, 7, 1, 0, 0, 1, ?)`, start.Unix()+int64(i)*60-60, bpm)
	}
	s := openSource(t, p, Options{})
	refs := sourcetest.List(t, context.Background(), s, time.Time{}, time.Time{})
	w, err := s.Fetch(context.Background(), refs[0])
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, smp := range w.Samples {
		got = append(got, int(smp.HeartRate))
	}
	if len(got) != 4 || got[0] != 101 || got[1] != 120 || got[3] != 140 || len(w.Notes) == 0 || !strings.Contains(strings.Join(w.Notes, ";"), "per-minute") {
		t.Errorf("heart rates %v, notes %v", got, w.Notes)
	}
}

func TestZipExport(t *testing.T) {
	dir := t.TempDir()
	p, db := fixture(t, dir, 3)
	db.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name, src string) {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		w, _ := zw.Create(name)
		w.Write(b)
	}
	add("gadgetbridge.json", "testdata/README.md")
	add("database/Gadgetbridge", p)
	filepath.WalkDir(dir, func(q string, d fs.DirEntry, err error) error {
		if d.Type().IsRegular() && q != p {
			rel, _ := filepath.Rel(dir, q)
			add("files/"+filepath.ToSlash(rel), q)
		}
		return nil
	})
	zw.Close()
	zp := filepath.Join(t.TempDir(), "gadgetbridge_20240301.zip")
	os.WriteFile(zp, buf.Bytes(), 0o600)

	folder := openSource(t, p, Options{})
	zs := openSource(t, zp, Options{})
	ctx := context.Background()
	a := sourcetest.List(t, ctx, folder, time.Time{}, time.Time{})
	b := sourcetest.List(t, ctx, zs, time.Time{}, time.Time{})
	if len(a) != 3 || len(b) != 3 {
		t.Fatalf("%d and %d refs", len(a), len(b))
	}
	for i := range a {
		if a[i].ID != b[i].ID {
			t.Errorf("the zip lists %s where the folder lists %s", b[i].ID, a[i].ID)
		}
		wa, err1 := folder.Fetch(ctx, a[i])
		wb, err2 := zs.Fetch(ctx, b[i])
		if err1 != nil || err2 != nil || len(wa.Samples) != len(wb.Samples) {
			t.Errorf("%s: folder %v, zip %v", a[i].ID, err1, err2)
		}
	}
	tmp := zs.tmp
	zs.Close()
	if _, err := os.Stat(tmp); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Close left %s behind", tmp)
	}
}

// TestBadInput: every broken input fails with an error naming its file,
// and the rest of the run goes on.
func TestBadInput(t *testing.T) {
	ctx := context.Background()
	t.Run("corrupt", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "Gadgetbridge.db")
		os.WriteFile(p, append([]byte("SQLite format 3\x00"), bytes.Repeat([]byte{0xee}, 4000)...), 0o600)
		_, err := Open(ctx, p, Options{})
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Fatalf("corrupt database: %v", err)
		}
		q := filepath.Join(t.TempDir(), "Gadgetbridge")
		os.WriteFile(q, []byte("hello"), 0o600)
		if _, err := Open(ctx, q, Options{}); err == nil || !strings.Contains(err.Error(), q) {
			t.Fatalf("not a database: %v", err)
		}
	})
	t.Run("locked", func(t *testing.T) {
		dir := t.TempDir()
		p, db := fixture(t, dir, 3)
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.Exec(`UPDATE BASE_ACTIVITY_SUMMARY SET NAME = 'x'`); err != nil {
			t.Fatal(err)
		}
		_, err = Open(ctx, p, Options{})
		if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), p) {
			t.Fatalf("locked database: %v", err)
		}
	})
	t.Run("unknown-schema", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "Gadgetbridge")
		db, _ := sql.Open("sqlite", p)
		db.Exec(`CREATE TABLE DEVICE (_id INTEGER PRIMARY KEY, NAME TEXT, MANUFACTURER TEXT, IDENTIFIER TEXT);
			CREATE TABLE BASE_ACTIVITY_SUMMARY (_id INTEGER PRIMARY KEY, BEGIN_TS INTEGER, END_TIME INTEGER, DEVICE_ID INTEGER)`)
		db.Close()
		_, err := Open(ctx, p, Options{})
		if !errors.Is(err, ErrUnknownSchema) || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "BASE_ACTIVITY_SUMMARY lacks column(s) ACTIVITY_KIND") ||
			!strings.Contains(err.Error(), "START_TIME") {
			t.Fatalf("unknown schema: %v", err)
		}
	})
	t.Run("old-schema", func(t *testing.T) {
		// The 2019 layout (schema 20): no SUMMARY_DATA, RAW_SUMMARY_DATA, RAW_DETAILS_PATH.
		dir := t.TempDir()
		p := filepath.Join(dir, "Gadgetbridge")
		db, _ := sql.Open("sqlite", p)
		_, err := db.Exec(`PRAGMA user_version = 20;
			CREATE TABLE "DEVICE" ("_id" INTEGER PRIMARY KEY ,"NAME" TEXT NOT NULL ,"MANUFACTURER" TEXT NOT NULL ,"IDENTIFIER" TEXT NOT NULL UNIQUE ,"TYPE" INTEGER NOT NULL ,"MODEL" TEXT);
			CREATE TABLE "BASE_ACTIVITY_SUMMARY" ("_id" INTEGER PRIMARY KEY ,"NAME" TEXT,"START_TIME" INTEGER NOT NULL ,"END_TIME" INTEGER NOT NULL ,"ACTIVITY_KIND" INTEGER NOT NULL ,"BASE_LONGITUDE" INTEGER,"BASE_LATITUDE" INTEGER,"BASE_ALTITUDE" INTEGER,"GPX_TRACK" TEXT,"DEVICE_ID" INTEGER NOT NULL ,"USER_ID" INTEGER NOT NULL );
			INSERT INTO DEVICE VALUES (1, 'Amazfit Bip Watch', 'Huami', 'AA:BB:CC:00:00:01', 12, NULL);
			INSERT INTO BASE_ACTIVITY_SUMMARY VALUES (1, NULL, 1554214692000, 1554215255000, 32, 37491765, 125680345, 40, NULL, 1, 1);`)
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		s := openSource(t, p, Options{})
		refs := sourcetest.List(t, ctx, s, time.Time{}, time.Time{})
		if len(refs) != 1 || refs[0].Sport != workout.SportWalk || refs[0].Summary.Elapsed != 563*time.Second {
			t.Fatalf("old schema: %+v", refs)
		}
	})
	t.Run("gpx-without-time-and-missing-file", func(t *testing.T) {
		dir := t.TempDir()
		p, db := newDB(t, dir)
		base := time.Date(2024, 3, 1, 7, 0, 0, 0, time.UTC)
		addRow(t, db, gbRow{start: base, dur: time.Hour, kind: 16, gpx: "notime.gpx"})
		addRow(t, db, gbRow{start: base.Add(time.Hour), dur: time.Hour, kind: 16, gpx: "gone.gpx"})
		addRow(t, db, gbRow{start: base.Add(2 * time.Hour), dur: time.Hour, kind: 16, gpx: "ok.gpx"})
		addRow(t, db, gbRow{start: base.Add(3 * time.Hour), dur: time.Hour, kind: 16, details: "gone.bin"})
		os.WriteFile(filepath.Join(dir, "notime.gpx"), []byte(gpxDoc(base, false)), 0o644)
		os.WriteFile(filepath.Join(dir, "ok.gpx"), []byte(gpxDoc(base.Add(2*time.Hour), true)), 0o644)
		s := openSource(t, p, Options{})
		refs := sourcetest.List(t, ctx, s, time.Time{}, time.Time{})
		if len(refs) != 4 {
			t.Fatalf("listed %d of 4 workouts", len(refs))
		}
		results := map[string]error{}
		for _, r := range refs {
			_, err := s.Fetch(ctx, r)
			results[r.Start.Format("15")] = err
		}
		if err := results["07"]; err == nil || !strings.Contains(err.Error(), "notime.gpx") || !strings.Contains(err.Error(), "no timestamps") {
			t.Errorf("GPX without time: %v", err)
		}
		if err := results["08"]; !errors.Is(err, ErrMissingFile) || !strings.Contains(err.Error(), "gone.gpx") || errclass.HintOf(err) == "" {
			t.Errorf("missing GPX: %v", err)
		}
		if err := results["09"]; err != nil {
			t.Errorf("the good workout failed: %v", err)
		}
		if err := results["10"]; !errors.Is(err, ErrMissingFile) || !strings.Contains(err.Error(), "gone.bin") {
			t.Errorf("missing details: %v", err)
		}
	})
	t.Run("symlink-out", func(t *testing.T) {
		dir := t.TempDir()
		p, db := newDB(t, dir)
		outside := filepath.Join(t.TempDir(), "secret.gpx")
		os.WriteFile(outside, []byte(gpxDoc(time.Now(), true)), 0o600)
		if err := os.Symlink(outside, filepath.Join(dir, "link.gpx")); err != nil {
			t.Skip(err)
		}
		base := time.Date(2024, 3, 1, 7, 0, 0, 0, time.UTC)
		addRow(t, db, gbRow{start: base, dur: time.Hour, kind: 16, gpx: "link.gpx"})
		addRow(t, db, gbRow{start: base.Add(time.Hour), dur: time.Hour, kind: 16})
		s := openSource(t, p, Options{})
		refs := sourcetest.List(t, ctx, s, time.Time{}, time.Time{})
		if len(refs) != 2 {
			t.Fatalf("%d refs", len(refs))
		}
		_, err := s.Fetch(ctx, refs[1])
		if !errors.Is(err, zipsafe.ErrRefused) || !strings.Contains(err.Error(), "link.gpx") {
			t.Errorf("symlink out of the folder: %v", err)
		}
		if _, err := s.Fetch(ctx, refs[0]); err != nil {
			t.Errorf("the other workout: %v", err)
		}
	})
	t.Run("zip-slip", func(t *testing.T) {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, _ := zw.Create("database/Gadgetbridge")
		w.Write([]byte("SQLite format 3\x00"))
		w, _ = zw.Create("files/../../../etc/cron.d/x")
		w.Write([]byte("x"))
		zw.Close()
		zp := filepath.Join(t.TempDir(), "backup.zip")
		os.WriteFile(zp, buf.Bytes(), 0o600)
		_, err := Open(ctx, zp, Options{})
		if !errors.Is(err, zipsafe.ErrRefused) || !strings.Contains(err.Error(), zp) || !strings.Contains(err.Error(), "files/../../../etc/cron.d/x") {
			t.Fatalf("zip slip: %v", err)
		}
	})
}

// TestMiFit: the Mi Fit sample database, read-only. Only totals and
// counts are checked; the user table and the route are never printed.
func TestMiFit(t *testing.T) {
	src := "testdata/mifit/mifit-origin_db-sample.db"
	want, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "origin_db")
	os.WriteFile(p, want, 0o400)
	s := openSource(t, p, Options{})
	if s.Kind() != KindMiFit {
		t.Fatalf("kind %s", s.Kind())
	}
	ctx := context.Background()
	refs := sourcetest.List(t, ctx, s, time.Time{}, time.Time{})
	if len(refs) != 1 {
		t.Fatalf("%d workouts, want 1", len(refs))
	}
	r := refs[0]
	if r.ID != "mifit-1543838684-0" || !r.Start.Equal(time.Unix(1543838684, 0)) || r.Sport != workout.SportWalk ||
		r.Summary.Distance != 3873 || r.Summary.Moving != 2248*time.Second || r.Summary.Elapsed != 3138*time.Second ||
		r.Summary.Calories != 166 || r.Summary.AvgHR != 121 || r.Summary.Steps != 4755 {
		t.Errorf("listing: ID %s start %v sport %v summary %+v", r.ID, r.Start, r.Sport, r.Summary)
	}
	w, err := s.Fetch(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	pos, hrs, alt := 0, 0, 0
	var last time.Time
	for _, smp := range w.Samples {
		if smp.Time.Before(last) {
			t.Fatal("samples out of order")
		}
		last = smp.Time
		if smp.Has&workout.HasPosition != 0 {
			pos++
		}
		if smp.Has&workout.HasAltitude != 0 {
			alt++
		}
		if smp.Has&workout.HasHeartRate != 0 {
			hrs++
		}
	}
	if pos != 563 || alt == 0 || hrs == 0 {
		t.Errorf("%d positions (want 563), %d altitudes, %d heart rates", pos, alt, hrs)
	}
	if d := last.Sub(w.Start); d != 3137*time.Second {
		t.Errorf("last sample %v after the start, want 3137 s", d)
	}
	if len(w.Pauses) != 1 || w.Pauses[0].Duration() != 890*time.Second {
		t.Errorf("pauses %v", w.Pauses)
	}
	s.Close()
	got, _ := os.ReadFile(p)
	entries, _ := os.ReadDir(dir)
	if !bytes.Equal(got, want) || len(entries) != 1 {
		t.Errorf("the Mi Fit database or its folder changed (%d entries)", len(entries))
	}
}
