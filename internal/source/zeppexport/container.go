package zeppexport

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bandsync/bandsync/internal/source/zipsafe"
)

// item is one regular file of the export: an entry of a zip, or a file of
// the folder.
type item struct {
	zip   string // the archive's path, or "" for a file of the folder
	name  string // slash-separated, relative to the folder or archive root
	size  int64
	stamp int64 // folder: mtime (UnixNano); zip: the entry's CRC-32
}

// where names an item for people: "export.zip: SPORT/SPORT_1.csv", or the
// file's path.
func (s *Source) where(it item) string {
	if it.zip != "" {
		return it.zip + ": " + it.name
	}
	return filepath.Join(s.path, filepath.FromSlash(it.name))
}

// archive is an open, checked zip with its encrypted entries.
type archive struct {
	zr    *zipsafe.Reader
	raw   *zip.ReadCloser      // the same archive, for encrypted entries
	files map[string]*zip.File // by cleaned name
	size  int64
	mtime time.Time
}

func (a *archive) close() {
	a.zr.Close()
	a.raw.Close()
}

// openArchive opens and checks a zip (zipsafe refuses zip slip, links and
// bombs for the whole archive) and, when any entry is encrypted, checks
// that the password is there.
func openArchive(path string, fi fs.FileInfo, lim zipsafe.Limits, havePassword bool) (*archive, error) {
	zr, err := zipsafe.Open(path, lim)
	if err != nil {
		return nil, err
	}
	raw, err := zip.OpenReader(path)
	if err != nil {
		zr.Close()
		return nil, fmt.Errorf("zip %s: %w", path, err)
	}
	a := &archive{zr: zr, raw: raw, files: map[string]*zip.File{}, size: fi.Size(), mtime: fi.ModTime()}
	anyEncrypted := false
	for _, f := range raw.File {
		if n, err := zipsafe.CleanName(f.Name); err == nil {
			a.files[n] = f
			anyEncrypted = anyEncrypted || encrypted(f)
		}
	}
	if anyEncrypted && !havePassword {
		a.close()
		return nil, fmt.Errorf("zip %s is password-protected: give its password (bandsync reads it from standard input), or unpack it with a tool that knows WinZip AES (7-Zip: 7z x %s) and give --path the folder: %w", path, filepath.Base(path), ErrPassword)
	}
	return a, nil
}

// items lists the regular files of an archive.
func (a *archive) items(path string) []item {
	var out []item
	for _, e := range a.zr.Entries() {
		out = append(out, item{zip: path, name: e.Name, size: e.Size, stamp: int64(e.CRC32)})
	}
	return out
}

// read returns an entry's bytes, at most max.
func (a *archive) read(name string, password []byte, max int64) ([]byte, error) {
	e, ok := a.zr.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("entry %q: %w", name, fs.ErrNotExist)
	}
	if e.Size > max {
		return nil, fmt.Errorf("entry %q: %d MB, more than the %d MB a workout file may have", name, e.Size>>20, max>>20)
	}
	if f := a.files[name]; f != nil && encrypted(f) {
		return decrypt(f, password, min(e.Size, max))
	}
	rc, err := a.zr.Open(e)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, max+1))
}

// walkFolder lists the regular files under the folder. Names starting
// with "." are skipped; a symbolic link is followed only when it stays
// inside the folder (zipsafe.ResolveIn), and reported otherwise.
func (s *Source) walkFolder(ctx context.Context, report func(string, error)) ([]item, error) {
	var out []item
	n := 0
	err := filepath.WalkDir(s.real, func(path string, d fs.DirEntry, err error) error {
		if n++; n%64 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		rel, _ := filepath.Rel(s.real, path)
		if err != nil {
			if path == s.real {
				return err
			}
			report(filepath.Join(s.path, rel), err)
			return nil
		}
		if path == s.real {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			real, err := zipsafe.ResolveIn(s.real, rel)
			if err != nil {
				if errors.Is(err, zipsafe.ErrRefused) {
					err = errors.New("a symbolic link leading out of the folder is not followed")
				}
				report(filepath.Join(s.path, rel), err)
				return nil
			}
			if fi, err := os.Stat(real); err != nil || !fi.Mode().IsRegular() {
				return nil // a linked folder inside: its files are met where they are
			}
		}
		fi, err := os.Stat(path)
		if err != nil {
			report(filepath.Join(s.path, rel), err)
			return nil
		}
		if !fi.Mode().IsRegular() {
			return nil
		}
		out = append(out, item{name: filepath.ToSlash(rel), size: fi.Size(), stamp: fi.ModTime().UnixNano()})
		return nil
	})
	return out, err
}

// readFolderFile reads a file of the folder, at most max bytes.
func (s *Source) readFolderFile(name string, max int64) ([]byte, error) {
	real, err := zipsafe.ResolveIn(s.real, filepath.FromSlash(name))
	if err != nil {
		return nil, err
	}
	f, err := os.Open(real)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("more than %d MB: too large", max>>20)
	}
	return data, nil
}
