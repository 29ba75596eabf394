// Package atomicfile writes files so that a reader, or the next run after a
// crash or a full disk, sees the old content or the new, never a part: the
// content goes to a synced temporary file in the same folder, which is then
// renamed over the target.
package atomicfile

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// writers are Temp's write buffers, reused: an archive written during a
// backfill would otherwise allocate one per file.
var writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 64<<10) }}

// Temp writes a temporary file in dir with mode perm (less the umask),
// synced to disk if sync, its name built from name (see IsTemp), and
// returns its path. fill writes the content (buffered). On error the
// temporary file is removed and "" returned; the error is fill's, or the
// file system's wrapped with the path.
func Temp(dir, name string, perm os.FileMode, sync bool, fill func(io.Writer) error) (string, error) {
	f, err := create(dir, "."+name+tempMark, perm)
	if err != nil {
		return "", err
	}
	tmp := f.Name()
	fail := func(err error) (string, error) {
		f.Close()
		os.Remove(tmp)
		return "", err
	}
	bw := writers.Get().(*bufio.Writer)
	bw.Reset(f)
	defer func() {
		bw.Reset(nil) // let go of f
		writers.Put(bw)
	}()
	if err := fill(bw); err != nil {
		return fail(err)
	}
	if err := bw.Flush(); err != nil {
		return fail(fmt.Errorf("write %s: %w", tmp, err))
	}
	if sync {
		if err := f.Sync(); err != nil {
			return fail(fmt.Errorf("write %s: %w", tmp, err))
		}
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("write %s: %w", tmp, err)
	}
	return tmp, nil
}

// create makes a new file in dir named prefix and a random number, with
// mode perm: os.CreateTemp's way, without its 0600 to change afterwards.
func create(dir, prefix string, perm os.FileMode) (*os.File, error) {
	for try := 0; ; try++ {
		path := filepath.Join(dir, prefix+strconv.FormatUint(uint64(rand.Uint32()), 10))
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
		if os.IsExist(err) && try < 1000 {
			continue
		}
		return f, err
	}
}

// Write replaces path with what fill writes, atomically, with mode perm.
func Write(path string, perm os.FileMode, fill func(io.Writer) error) error {
	dir := filepath.Dir(path)
	tmp, err := Temp(dir, filepath.Base(path), perm, true, fill)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	SyncDir(dir)
	return nil
}

// WriteBytes is Write for content already in memory.
func WriteBytes(path string, data []byte, perm os.FileMode) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// SyncDir makes renames in dir durable where the OS allows it.
func SyncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// tempMark is in the name of every temporary file, after the final name.
const tempMark = ".tmp-"

// IsTemp reports whether base is the name of a temporary file of Temp's.
func IsTemp(base string) bool {
	return strings.HasPrefix(base, ".") && strings.Contains(base, tempMark)
}
