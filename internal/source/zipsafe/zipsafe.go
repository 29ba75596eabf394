// Package zipsafe reads zip archives that come from outside — a person's
// Gadgetbridge backup or Zepp data export — without trusting them: it
// refuses entries that would land outside the destination (zip slip:
// "../" components, absolute or drive-letter paths), symbolic links and
// other special entries, duplicate names, and zip bombs (too many entries,
// too many bytes in total or in one entry, or an entry that inflates more
// than a sane compression ratio). Every refusal is an error naming the
// archive and the entry.
//
// Limits are checked twice: against the sizes the central directory
// declares when the archive is opened, and against the bytes actually
// inflated while an entry is read, since declared sizes can lie.
package zipsafe

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// ErrRefused is matched (errors.Is) by every refusal of an unsafe entry or
// archive, as opposed to an I/O error.
var ErrRefused = errors.New("refused")

// Limits bound what an archive may expand to. A zero field takes its
// default from DefaultLimits.
type Limits struct {
	// MaxEntries is the most entries (files and directories) accepted.
	MaxEntries int
	// MaxTotal is the most bytes all entries may inflate to together.
	MaxTotal int64
	// MaxEntry is the most bytes one entry may inflate to.
	MaxEntry int64
	// MaxRatio is the most one entry may inflate relative to its
	// compressed size. Entries smaller than RatioFloor are not checked:
	// a tiny file of zeros legitimately compresses very well.
	MaxRatio float64
	// RatioFloor is the inflated size from which MaxRatio applies.
	RatioFloor int64
}

// DefaultLimits fit a phone app's backup: 50 000 entries, 8 GiB in all,
// 2 GiB per entry, a ratio of 200 (text and SQLite pages compress
// 5–20×, bombs 1 000× and more) from 1 MiB up.
func DefaultLimits() Limits {
	return Limits{MaxEntries: 50_000, MaxTotal: 8 << 30, MaxEntry: 2 << 30, MaxRatio: 200, RatioFloor: 1 << 20}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxEntries <= 0 {
		l.MaxEntries = d.MaxEntries
	}
	if l.MaxTotal <= 0 {
		l.MaxTotal = d.MaxTotal
	}
	if l.MaxEntry <= 0 {
		l.MaxEntry = d.MaxEntry
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = d.MaxRatio
	}
	if l.RatioFloor <= 0 {
		l.RatioFloor = d.RatioFloor
	}
	return l
}

// Entry is one regular file of the archive.
type Entry struct {
	// Name is the entry's cleaned, slash-separated relative path.
	Name string
	// Size is the inflated size the archive declares.
	Size int64
	// CRC32 is the checksum the archive declares for the inflated bytes:
	// with Size, a cheap content fingerprint.
	CRC32    uint32
	Modified time.Time

	f *zip.File
}

// Reader is an open, checked archive.
type Reader struct {
	path    string
	lim     Limits
	zr      *zip.ReadCloser
	entries []Entry
	byName  map[string]int
}

// Open opens the zip at path and checks every entry's name, type and
// declared size against lim. The archive is refused as a whole if any
// entry is unsafe: a backup with one hostile entry is not a backup.
func Open(path string, lim Limits) (*Reader, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("zip %s: %w", path, err)
	}
	r := &Reader{path: path, lim: lim.withDefaults(), zr: zr, byName: map[string]int{}}
	if err := r.check(); err != nil {
		zr.Close()
		return nil, err
	}
	return r, nil
}

func (r *Reader) refuse(entry, format string, args ...any) error {
	return fmt.Errorf("zip %s: entry %q %s: %w", r.path, entry, fmt.Sprintf(format, args...), ErrRefused)
}

func (r *Reader) check() error {
	if n := len(r.zr.File); n > r.lim.MaxEntries {
		return fmt.Errorf("zip %s: %d entries, more than the limit of %d: %w", r.path, n, r.lim.MaxEntries, ErrRefused)
	}
	var total int64
	for _, f := range r.zr.File {
		name, err := CleanName(f.Name)
		if err != nil {
			return r.refuse(f.Name, "%v", err)
		}
		mode := f.Mode()
		switch {
		case mode&fs.ModeSymlink != 0:
			return r.refuse(f.Name, "is a symbolic link")
		case mode.IsDir() || strings.HasSuffix(f.Name, "/"):
			continue
		case !mode.IsRegular():
			return r.refuse(f.Name, "is not a regular file (mode %v)", mode)
		}
		size := int64(f.UncompressedSize64)
		if f.UncompressedSize64 > uint64(r.lim.MaxEntry) {
			return r.refuse(f.Name, "inflates to %d bytes, more than the limit of %d", f.UncompressedSize64, r.lim.MaxEntry)
		}
		if err := r.checkRatio(f.Name, size, int64(f.CompressedSize64)); err != nil {
			return err
		}
		total += size
		if total > r.lim.MaxTotal {
			return r.refuse(f.Name, "brings the archive past the limit of %d bytes in total", r.lim.MaxTotal)
		}
		if _, dup := r.byName[name]; dup {
			return r.refuse(f.Name, "appears twice")
		}
		r.byName[name] = len(r.entries)
		r.entries = append(r.entries, Entry{Name: name, Size: size, CRC32: f.CRC32, Modified: f.Modified, f: f})
	}
	return nil
}

func (r *Reader) checkRatio(entry string, inflated, compressed int64) error {
	if inflated < r.lim.RatioFloor {
		return nil
	}
	if compressed <= 0 || float64(inflated)/float64(compressed) > r.lim.MaxRatio {
		return r.refuse(entry, "inflates %d bytes to %d, a ratio beyond the limit of %.0f (zip bomb?)", compressed, inflated, r.lim.MaxRatio)
	}
	return nil
}

// CleanName validates an entry name and returns it cleaned: relative,
// slash-separated, without "." or ".." components. Backslashes count as
// separators, since Windows tools write them.
func CleanName(name string) (string, error) {
	n := strings.ReplaceAll(name, `\`, "/")
	switch {
	case n == "":
		return "", errors.New("has an empty name")
	case strings.ContainsRune(n, 0):
		return "", errors.New("has a NUL byte in its name")
	case strings.HasPrefix(n, "/"):
		return "", errors.New("has an absolute path")
	case len(n) >= 2 && n[1] == ':':
		return "", errors.New("has a drive-letter path")
	}
	for _, part := range strings.Split(n, "/") {
		if part == ".." {
			return "", errors.New(`leads out of the folder ("..")`)
		}
	}
	c := path.Clean(n)
	if c == "." {
		return "", errors.New("has an empty name")
	}
	return c, nil
}

// Path is the archive's file name.
func (r *Reader) Path() string { return r.path }

// Entries returns the archive's regular files in archive order. The slice
// is the Reader's own: do not modify it.
func (r *Reader) Entries() []Entry { return r.entries }

// Lookup finds a regular file by its cleaned name.
func (r *Reader) Lookup(name string) (Entry, bool) {
	i, ok := r.byName[name]
	if !ok {
		return Entry{}, false
	}
	return r.entries[i], true
}

// Open returns the inflated bytes of e, failing (ErrRefused) as soon as
// they pass the entry's declared size, MaxEntry, or the compression-ratio
// limit — whatever the central directory claimed.
func (r *Reader) Open(e Entry) (io.ReadCloser, error) {
	if e.f == nil {
		return nil, fmt.Errorf("zip %s: entry %q: not from this archive", r.path, e.Name)
	}
	rc, err := e.f.Open()
	if err != nil {
		return nil, fmt.Errorf("zip %s: entry %q: %w", r.path, e.Name, err)
	}
	return &limitedEntry{r: r, e: e, rc: rc, max: min(e.Size, r.lim.MaxEntry)}, nil
}

type limitedEntry struct {
	r   *Reader
	e   Entry
	rc  io.ReadCloser
	n   int64
	max int64
}

func (l *limitedEntry) Read(p []byte) (int, error) {
	// Ask for one byte past the limit so that an overrun is seen rather
	// than silently truncated.
	room := l.max - l.n + 1
	if room <= 0 {
		return 0, l.r.refuse(l.e.Name, "inflates past its declared size of %d bytes", l.max)
	}
	if int64(len(p)) > room {
		p = p[:room]
	}
	n, err := l.rc.Read(p)
	l.n += int64(n)
	if l.n > l.max {
		return n, l.r.refuse(l.e.Name, "inflates past its declared size of %d bytes", l.max)
	}
	if l.n >= l.r.lim.RatioFloor {
		if cerr := l.r.checkRatio(l.e.Name, l.n, int64(l.e.f.CompressedSize64)); cerr != nil {
			return n, cerr
		}
	}
	if errors.Is(err, zip.ErrFormat) || errors.Is(err, zip.ErrChecksum) {
		// archive/zip itself stops an entry that inflates past its
		// declared size or fails its checksum.
		return n, l.r.refuse(l.e.Name, "does not match its declared size or checksum (%v)", err)
	}
	if err != nil && err != io.EOF {
		err = fmt.Errorf("zip %s: entry %q: %w", l.r.path, l.e.Name, err)
	}
	return n, err
}

func (l *limitedEntry) Close() error { return l.rc.Close() }

// ExtractTo writes e to the file dest, which must not exist yet.
func (r *Reader) ExtractTo(e Entry, dest string) (err error) {
	rc, err := r.Open(e)
	if err != nil {
		return err
	}
	defer rc.Close()
	out, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("zip %s: entry %q: %w", r.path, e.Name, err)
	}
	defer func() {
		if cerr := out.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("zip %s: entry %q: %w", r.path, e.Name, cerr)
		}
		if err != nil {
			os.Remove(dest)
		}
	}()
	if _, err := io.Copy(out, rc); err != nil {
		return err
	}
	return nil
}

// ExtractAll writes every regular file under dir, creating directories as
// needed, and stops at the first error; MaxTotal bounds the bytes written.
// dir should be a fresh, empty directory (os.MkdirTemp): existing files
// are never overwritten.
func (r *Reader) ExtractAll(dir string) error {
	var total int64
	for _, e := range r.entries {
		total += e.Size
		if total > r.lim.MaxTotal {
			return r.refuse(e.Name, "brings the archive past the limit of %d bytes in total", r.lim.MaxTotal)
		}
		dest := filepath.Join(dir, filepath.FromSlash(e.Name))
		if err := os.MkdirAll(filepath.Dir(dest), 0o700); err != nil {
			return fmt.Errorf("zip %s: entry %q: %w", r.path, e.Name, err)
		}
		if err := r.ExtractTo(e, dest); err != nil {
			return err
		}
	}
	return nil
}

// Close closes the archive.
func (r *Reader) Close() error { return r.zr.Close() }

// ResolveIn returns the path of rel inside root for reading, refusing
// (ErrRefused) a rel that leads out of root, directly or through a
// symbolic link anywhere on the way. It is the folder counterpart of the
// archive checks: an unpacked export is as untrusted as the zip.
func ResolveIn(root, rel string) (string, error) {
	clean, err := CleanName(filepath.ToSlash(rel))
	if err != nil {
		return "", fmt.Errorf("%s in %s: %v: %w", rel, root, err, ErrRefused)
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", err
	}
	p := filepath.Join(root, filepath.FromSlash(clean))
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", err // not found, or a dangling link: the caller names the file
	}
	if r, err := filepath.Rel(realRoot, real); err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) || filepath.IsAbs(r) {
		return "", fmt.Errorf("%s: a symbolic link leads out of %s (to %s): %w", p, root, real, ErrRefused)
	}
	return real, nil
}
