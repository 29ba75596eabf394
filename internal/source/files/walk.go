package files

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// candidate is one workout file met by the walk.
type candidate struct {
	path    string      // path under the real root: the file's identity
	display string      // the same under the root as given
	open    string      // what to open: path, or a symbolic link's target
	info    fs.FileInfo // of open, followed
	summary string      // the paired Zepp summary to open, or ""
	sumInfo fs.FileInfo
}

// modTime is the later modification time of the file and its summary.
func (c candidate) modTime() time.Time {
	t := c.info.ModTime()
	if c.sumInfo != nil && c.sumInfo.ModTime().After(t) {
		t = c.sumInfo.ModTime()
	}
	return t
}

// walk calls fn for every workout file under the folder, in lexical
// order, and report for every entry it refuses or cannot read. Folders and
// files whose names start with "." (.git, .Trash, editors' and
// WriteFile's temporary files) are skipped. It returns only the context's
// error or a failure to read the folder itself.
func (s *Source) walk(ctx context.Context, report func(string, error), fn func(candidate)) error {
	n := 0
	return filepath.WalkDir(s.realRoot, func(path string, d fs.DirEntry, err error) error {
		if n++; n%64 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err != nil {
			if path == s.realRoot {
				return fmt.Errorf("files: folder %s: %w", s.root, err)
			}
			report(s.display(path), err)
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if path == s.realRoot {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 && !IsWorkoutFile(d.Name()) {
			// A linked folder is not walked (its files inside the folder
			// are met at their real place), but one leading out is said.
			if t, err := filepath.EvalSymlinks(path); err == nil && !s.inside(t) {
				report(s.display(path), fmt.Errorf("%w (it points to %s)", errOutside, t))
			}
			return nil
		}
		if d.IsDir() || !IsWorkoutFile(d.Name()) {
			return nil
		}
		if isSummaryName(d.Name()) {
			// Read with its detail, when there is one.
			if _, err := os.Lstat(filepath.Join(filepath.Dir(path), DetailName(d.Name()))); err == nil {
				return nil
			}
		}
		c, err := s.candidate(path)
		if err != nil {
			report(s.display(path), err)
			return nil
		}
		fn(c)
		return nil
	})
}

// errOutside is matched by the refusal of a link leading out of the folder.
var errOutside = errors.New("a symbolic link leading out of the folder is not followed")

// candidate checks one file found under the real root: a regular file, or
// a symbolic link to a regular file inside the folder.
func (s *Source) candidate(path string) (candidate, error) {
	c := candidate{path: path, display: s.display(path), open: path}
	li, err := os.Lstat(path)
	if err != nil {
		return c, err
	}
	if li.Mode()&fs.ModeSymlink != 0 {
		target, err := filepath.EvalSymlinks(path)
		if err != nil {
			return c, fmt.Errorf("broken symbolic link: %w", err)
		}
		if !s.inside(target) {
			return c, fmt.Errorf("%w (it points to %s); copy the file into the folder instead", errOutside, target)
		}
		c.open = target
	}
	if c.info, err = os.Stat(c.open); err != nil {
		return c, err
	}
	if !c.info.Mode().IsRegular() {
		return c, fmt.Errorf("not a regular file (%v)", c.info.Mode().Type())
	}
	if c.info.Size() == 0 {
		return c, errors.New("empty file")
	}
	if sn := SummaryName(filepath.Base(path)); sn != "" {
		sp := filepath.Join(filepath.Dir(path), sn)
		if li, err := os.Lstat(sp); err == nil {
			if li.Mode()&fs.ModeSymlink != 0 {
				t, err := filepath.EvalSymlinks(sp)
				if err != nil || !s.inside(t) {
					return c, fmt.Errorf("summary %s: %w", sn, errOutside)
				}
				sp = t
			}
			if c.sumInfo, err = os.Stat(sp); err != nil {
				return c, fmt.Errorf("summary %s: %w", sn, err)
			}
			c.summary = sp
		}
	}
	return c, nil
}

// inside reports whether a resolved path lies in the real root.
func (s *Source) inside(real string) bool {
	rel, err := filepath.Rel(s.realRoot, real)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// display returns a path under the real root as a path under the root as
// the person gave it.
func (s *Source) display(path string) string {
	rel, err := filepath.Rel(s.realRoot, path)
	if err != nil {
		return path
	}
	return filepath.Join(s.root, rel)
}
