package format

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bandsync/bandsync/internal/format/zeppjson"
)

const samples = "../../testdata/samples/zepp/"

func TestFromName(t *testing.T) {
	cases := map[string]struct {
		f  Format
		gz bool
	}{"a.fit": {FIT, false}, "A.FIT.GZ": {FIT, true}, "x.gpx": {GPX, false}, "x.tcx.gz": {TCX, true}, "run_1_detail.json": {ZeppJSON, false}}
	for name, want := range cases {
		f, gz, err := FromName(name)
		if err != nil || f != want.f || gz != want.gz {
			t.Errorf("FromName(%q) = %v %v %v", name, f, gz, err)
		}
	}
	if _, _, err := FromName("notes.txt"); err == nil || !strings.Contains(err.Error(), ".txt") {
		t.Errorf("txt: %v", err)
	}
}

func TestReadFileJoinsSummary(t *testing.T) {
	w, err := ReadFile(samples + "run_1698569116_detail.json")
	if err != nil {
		t.Fatal(err)
	}
	if w.Summary.Calories != 722 || w.Sport.String() != "run" {
		t.Fatalf("the summary beside the detail was not read: %+v %s", w.Summary, w.Sport)
	}
}

func TestWriteReadRoundTripEveryFormat(t *testing.T) {
	w, err := ReadFile(samples + "walk_1542558074_detail.json")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{"w.fit", "w.fit.gz", "w.gpx", "w.tcx.gz"} {
		p := filepath.Join(dir, name)
		if err := WriteFile(p, w, Options{}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		fi, _ := os.Stat(p)
		if fi.Mode().Perm() != 0o644 {
			t.Errorf("%s mode %v", name, fi.Mode().Perm())
		}
		back, err := ReadFile(p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// FIT keeps every pause. GPX and TCX keep pauses as gaps between
		// track segments, so two pauses with no track point between them
		// (the walk's first two, 22 s apart) come back as one.
		wantPauses := len(w.Pauses)
		if !strings.Contains(name, ".fit") {
			wantPauses--
		}
		if !back.Start.Equal(w.Start) || len(back.Pauses) != wantPauses {
			t.Errorf("%s: start %v pauses %d, want %v %d", name, back.Start, len(back.Pauses), w.Start, wantPauses)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 4 {
		t.Errorf("temporary files left: %v", entries)
	}
}

func TestBadFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(bytes.Repeat([]byte("x"), 1000))
	zw.Close()
	truncated := gz.Bytes()[:gz.Len()/2]
	cases := map[string]string{
		write("empty.fit", nil):                "is empty",
		write("trunc.fit.gz", truncated):       "truncated or damaged",
		write("plain.tcx.gz", []byte("<a/>")):  "not a gzip file",
		write("junk.fit", []byte("not a fit")): "junk.fit",
		filepath.Join(dir, "missing.gpx"):      "missing.gpx",
		dir:                                    "unknown file type",
	}
	os.Mkdir(filepath.Join(dir, "d.fit"), 0o755)
	cases[filepath.Join(dir, "d.fit")] = "is a directory"
	for p, want := range cases {
		if _, err := ReadFile(p); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ReadFile(%s) = %v, want an error containing %q", filepath.Base(p), err, want)
		}
	}
	if err := WriteFile(filepath.Join(dir, "x.json"), nil, Options{}); err == nil {
		t.Error("writing Zepp JSON must be refused")
	}
}

// BenchmarkConvertZeppToFIT decodes the 53-minute run fixture (detail and
// summary) and encodes it as FIT: what `bandsync convert` does per file.
func BenchmarkConvertZeppToFIT(b *testing.B) {
	detail, err := os.ReadFile(samples + "run_1698569116_detail.json")
	if err != nil {
		b.Fatal(err)
	}
	summary, err := os.ReadFile(samples + "run_1698569116_summary.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(detail)))
	b.ReportAllocs()
	for b.Loop() {
		w, err := zeppjson.Decode(summary, detail)
		if err != nil {
			b.Fatal(err)
		}
		if err := Encode(io.Discard, FIT, w, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
