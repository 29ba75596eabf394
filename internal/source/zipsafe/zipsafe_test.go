package zipsafe

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

type entry struct {
	name string
	data []byte
	mode fs.FileMode // 0 = regular 0644
}

// writeZip builds an archive in t.TempDir from entries.
func writeZip(t testing.TB, entries ...entry) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "x.zip")
	if err := os.WriteFile(p, zipBytes(t, entries...), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func zipBytes(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if e.mode != 0 {
			h.SetMode(e.mode)
		} else {
			h.SetMode(0o644)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestOpenAndExtract(t *testing.T) {
	p := writeZip(t,
		entry{name: "gadgetbridge.json", data: []byte(`{"backupVersion":1}`)},
		entry{name: "database/", mode: fs.ModeDir | 0o755},
		entry{name: "database/Gadgetbridge", data: bytes.Repeat([]byte("SQLite format 3\x00"), 100)},
		entry{name: `files\rawDetails\a.bin`, data: []byte{1, 2, 3}},
	)
	r, err := Open(p, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var names []string
	for _, e := range r.Entries() {
		names = append(names, e.Name)
	}
	if got, want := strings.Join(names, ","), "gadgetbridge.json,database/Gadgetbridge,files/rawDetails/a.bin"; got != want {
		t.Fatalf("entries %s, want %s", got, want)
	}
	e, ok := r.Lookup("files/rawDetails/a.bin")
	if !ok || e.Size != 3 || e.CRC32 != crc32.ChecksumIEEE([]byte{1, 2, 3}) {
		t.Fatalf("Lookup: %+v %v", e, ok)
	}
	dir := t.TempDir()
	if err := r.ExtractAll(dir); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "files", "rawDetails", "a.bin"))
	if err != nil || !bytes.Equal(b, []byte{1, 2, 3}) {
		t.Fatalf("extracted %v, %v", b, err)
	}
	// Extracting again never overwrites.
	if err := r.ExtractAll(dir); err == nil {
		t.Fatal("second extraction into the same folder overwrote files")
	}
}

func TestRefusals(t *testing.T) {
	big := bytes.Repeat([]byte{0}, 4<<20) // 4 MiB of zeros deflates ~1000×
	cases := []struct {
		name    string
		entries []entry
		lim     Limits
		want    string // in the error, besides the entry name
		entry   string
	}{
		{"dotdot", []entry{{name: "files/../../evil.sh", data: []byte("x")}}, Limits{}, "leads out", "files/../../evil.sh"},
		{"dotdot-backslash", []entry{{name: `..\evil.sh`, data: []byte("x")}}, Limits{}, "leads out", `..\evil.sh`},
		{"absolute", []entry{{name: "/etc/passwd", data: []byte("x")}}, Limits{}, "absolute", "/etc/passwd"},
		{"drive", []entry{{name: "C:/Windows/x", data: []byte("x")}}, Limits{}, "drive-letter", "C:/Windows/x"},
		{"symlink", []entry{{name: "files/link", data: []byte("/etc/passwd"), mode: fs.ModeSymlink | 0o777}}, Limits{}, "symbolic link", "files/link"},
		{"duplicate", []entry{{name: "a", data: []byte("1")}, {name: "./a", data: []byte("2")}}, Limits{}, "twice", "./a"},
		{"ratio", []entry{{name: "bomb.bin", data: big}}, Limits{}, "ratio", "bomb.bin"},
		{"entry-size", []entry{{name: "big.bin", data: make([]byte, 2000)}}, Limits{MaxEntry: 1000}, "more than the limit", "big.bin"},
		{"total", []entry{{name: "a.bin", data: make([]byte, 600)}, {name: "b.bin", data: make([]byte, 600)}}, Limits{MaxTotal: 1000}, "in total", "b.bin"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeZip(t, c.entries...)
			_, err := Open(p, c.lim)
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrRefused) {
				t.Errorf("error %v does not match ErrRefused", err)
			}
			for _, s := range []string{p, c.want, strconv.Quote(c.entry)} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
	t.Run("too-many-entries", func(t *testing.T) {
		p := writeZip(t, entry{name: "a"}, entry{name: "b"}, entry{name: "c"})
		if _, err := Open(p, Limits{MaxEntries: 2}); !errors.Is(err, ErrRefused) {
			t.Fatalf("3 entries with a limit of 2: %v", err)
		}
	})
}

// TestLyingSizes: an entry whose central directory understates its
// inflated size is stopped while it inflates, not trusted.
func TestLyingSizes(t *testing.T) {
	data := bytes.Repeat([]byte("abcdefgh"), 64<<10) // 512 KiB, under the ratio floor
	var comp bytes.Buffer
	fw, _ := flate.NewWriter(&comp, flate.BestCompression)
	fw.Write(data)
	fw.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "liar.bin", Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(data),
		CompressedSize64: uint64(comp.Len()), UncompressedSize64: 100}
	w, err := zw.CreateRaw(h)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(comp.Bytes())
	zw.Close()
	p := filepath.Join(t.TempDir(), "liar.zip")
	os.WriteFile(p, buf.Bytes(), 0o600)

	r, err := Open(p, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	e, _ := r.Lookup("liar.bin")
	rc, err := r.Open(e)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, rc)
	rc.Close()
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "liar.bin") || n > 101 {
		t.Fatalf("read %d bytes, error %v; want a refusal naming liar.bin after ≤ 101 bytes", n, err)
	}
	if err := r.ExtractAll(t.TempDir()); !errors.Is(err, ErrRefused) {
		t.Fatalf("ExtractAll: %v", err)
	}
}

func TestResolveIn(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret"), []byte("s"), 0o600)
	os.MkdirAll(filepath.Join(root, "rawDetails"), 0o700)
	os.WriteFile(filepath.Join(root, "rawDetails", "a.bin"), []byte("a"), 0o600)
	os.WriteFile(filepath.Join(root, "in.gpx"), []byte("g"), 0o600)
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(root, "out.gpx")); err != nil {
		t.Skip("no symlinks here:", err)
	}
	os.Symlink(outside, filepath.Join(root, "outdir"))
	os.Symlink("in.gpx", filepath.Join(root, "alias.gpx"))

	for _, ok := range []string{"rawDetails/a.bin", "in.gpx", "alias.gpx"} {
		if _, err := ResolveIn(root, ok); err != nil {
			t.Errorf("ResolveIn(%s): %v", ok, err)
		}
	}
	for _, bad := range []string{"out.gpx", "outdir/secret", "../x", "/etc/passwd"} {
		_, err := ResolveIn(root, bad)
		if !errors.Is(err, ErrRefused) {
			t.Errorf("ResolveIn(%s) = %v, want a refusal", bad, err)
		}
	}
	if _, err := ResolveIn(root, "missing.gpx"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// FuzzZip: no archive makes Open, Lookup, Open(entry) or ExtractAll
// panic, and nothing is ever written outside the destination.
func FuzzZip(f *testing.F) {
	f.Add(zipBytes(f, entry{name: "database/Gadgetbridge", data: []byte("SQLite format 3\x00")}, entry{name: "files/a.gpx", data: []byte("<gpx/>")}))
	f.Add(zipBytes(f, entry{name: "../evil", data: []byte("x")}))
	f.Add(zipBytes(f, entry{name: "l", data: []byte("/etc"), mode: fs.ModeSymlink | 0o777}))
	f.Add(zipBytes(f, entry{name: "z", data: make([]byte, 100000)}))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		p := filepath.Join(dir, "f.zip")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		r, err := Open(p, Limits{MaxTotal: 1 << 20, MaxEntry: 1 << 20, RatioFloor: 1 << 10})
		if err != nil {
			return
		}
		defer r.Close()
		for _, e := range r.Entries() {
			if strings.Contains(e.Name, "..") && strings.Contains("/"+e.Name+"/", "/../") || filepath.IsAbs(e.Name) {
				t.Fatalf("unsafe name accepted: %q", e.Name)
			}
			if rc, err := r.Open(e); err == nil {
				io.Copy(io.Discard, rc)
				rc.Close()
			}
		}
		out := filepath.Join(dir, "out")
		os.Mkdir(out, 0o700)
		_ = r.ExtractAll(out)
		entries, _ := os.ReadDir(dir)
		for _, de := range entries {
			if de.Name() != "f.zip" && de.Name() != "out" {
				t.Fatalf("ExtractAll wrote %s outside its folder", de.Name())
			}
		}
	})
}
