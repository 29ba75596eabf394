package gadgetbridge

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/bandsync/bandsync/internal/source/zipsafe"
)

// linked is a file beside the database: a GPX track, a raw details blob
// or an auto-exported FIT file.
type linked struct {
	name  string // as the person would find it: a path or "zip:entry"
	size  int64
	stamp string // modification time, or the zip entry's CRC-32
	open  func() (io.ReadCloser, error)
}

// fileSet finds the files Gadgetbridge's rows point at. Rows store absolute
// Android paths; they are looked up by their part after "/files/", then
// by folder and base name, inside the export folder or zip.
type fileSet interface {
	// find returns the first candidate that exists; ok is false when none
	// does. An error means a candidate exists but may not be read (a
	// symbolic link leading out of the folder).
	find(candidates []string) (f linked, ok bool, err error)
	// fitFiles lists the .fit files of the export.
	fitFiles(yield func(rel string, f linked) bool) error
	describe() string
}

// candidates lists where the file a row names may lie, relative to the
// export root: the path below "files/", then the base name in sub (e.g.
// "rawDetails"), then the base name alone, each with and without the
// "files/" prefix a backup zip adds.
func candidates(stored, sub string) []string {
	p := strings.ReplaceAll(stored, `\`, "/")
	base := path.Base(p)
	if base == "." || base == "/" || base == ".." {
		return nil
	}
	var c []string
	if i := strings.LastIndex(p, "/files/"); i >= 0 {
		if suf := p[i+len("/files/"):]; suf != "" {
			c = append(c, suf, "files/"+suf)
		}
	}
	if sub != "" {
		c = append(c, sub+"/"+base, "files/"+sub+"/"+base)
	}
	return append(c, base, "files/"+base)
}

// dirSet is an unpacked export folder, or the folder of a bare database.
type dirSet struct {
	roots []string
}

func (d dirSet) describe() string { return strings.Join(d.roots, ", ") }

func (d dirSet) find(cands []string) (linked, bool, error) {
	for _, root := range d.roots {
		for _, rel := range cands {
			real, err := zipsafe.ResolveIn(root, rel)
			if errors.Is(err, zipsafe.ErrRefused) {
				return linked{}, false, err
			}
			if err != nil {
				continue
			}
			fi, err := os.Stat(real)
			if err != nil || !fi.Mode().IsRegular() {
				continue
			}
			return dirFile(filepath.Join(root, filepath.FromSlash(rel)), real, fi), true, nil
		}
	}
	return linked{}, false, nil
}

func dirFile(name, real string, fi fs.FileInfo) linked {
	return linked{
		name:  name,
		size:  fi.Size(),
		stamp: strconv.FormatInt(fi.ModTime().UnixNano(), 10),
		open:  func() (io.ReadCloser, error) { return os.Open(real) },
	}
}

// maxWalk bounds the folder walk for FIT files, in case a person points
// bandsync at their home folder.
const maxWalk = 200_000

func (d dirSet) fitFiles(yield func(string, linked) bool) error {
	seen := 0
	for _, root := range d.roots {
		stop := errors.New("stop")
		err := filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
			if err != nil {
				return nil // an unreadable subfolder: skip it
			}
			if seen++; seen > maxWalk {
				return fmt.Errorf("more than %d files under %s: point --path at the export folder", maxWalk, root)
			}
			// WalkDir does not follow symbolic links; a linked .fit is
			// skipped rather than followed out of the folder.
			if !de.Type().IsRegular() || !strings.EqualFold(filepath.Ext(p), ".fit") {
				return nil
			}
			fi, err := de.Info()
			if err != nil {
				return nil
			}
			rel, _ := filepath.Rel(root, p)
			if !yield(filepath.ToSlash(rel), dirFile(p, p, fi)) {
				return stop
			}
			return nil
		})
		if errors.Is(err, stop) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// zipSet is a Gadgetbridge backup zip.
type zipSet struct {
	zr *zipsafe.Reader
}

func (z zipSet) describe() string { return z.zr.Path() }

func (z zipSet) find(cands []string) (linked, bool, error) {
	for _, rel := range cands {
		if e, ok := z.zr.Lookup(rel); ok {
			return z.file(e), true, nil
		}
	}
	return linked{}, false, nil
}

func (z zipSet) file(e zipsafe.Entry) linked {
	return linked{
		name:  z.zr.Path() + ":" + e.Name,
		size:  e.Size,
		stamp: strconv.FormatUint(uint64(e.CRC32), 16),
		open:  func() (io.ReadCloser, error) { return z.zr.Open(e) },
	}
}

func (z zipSet) fitFiles(yield func(string, linked) bool) error {
	for _, e := range z.zr.Entries() {
		if strings.EqualFold(path.Ext(e.Name), ".fit") {
			if !yield(e.Name, z.file(e)) {
				return nil
			}
		}
	}
	return nil
}

// multiSet searches several sets in turn (the export and an extra FIT
// folder).
type multiSet []fileSet

func (m multiSet) describe() string {
	var s []string
	for _, f := range m {
		s = append(s, f.describe())
	}
	return strings.Join(s, "; ")
}

func (m multiSet) find(c []string) (linked, bool, error) {
	for _, f := range m {
		if l, ok, err := f.find(c); ok || err != nil {
			return l, ok, err
		}
	}
	return linked{}, false, nil
}

func (m multiSet) fitFiles(yield func(string, linked) bool) error {
	for _, f := range m {
		stopped := false
		err := f.fitFiles(func(rel string, l linked) bool {
			if !yield(rel, l) {
				stopped = true
				return false
			}
			return true
		})
		if err != nil || stopped {
			return err
		}
	}
	return nil
}

// readLinked reads a whole linked file, bounded: details blobs and tracks
// are kilobytes to a few megabytes.
func readLinked(f linked, limit int64) ([]byte, error) {
	rc, err := f.open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.name, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", f.name, limit)
	}
	return b, nil
}
