//go:build unix

package atomicfile

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestModeLessUmask checks that a file gets the mode asked for, less the
// umask, from its creation on: a token file is never readable by others,
// not even for a moment, and the archive's files follow the user's umask.
func TestModeLessUmask(t *testing.T) {
	for _, c := range []struct {
		umask      int
		perm, want os.FileMode
	}{
		{0o022, 0o644, 0o644},
		{0o022, 0o600, 0o600},
		{0o077, 0o644, 0o600},
	} {
		old := syscall.Umask(c.umask)
		p := filepath.Join(t.TempDir(), "f")
		err := WriteBytes(p, []byte("x"), c.perm)
		syscall.Umask(old)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != c.want {
			t.Errorf("umask %03o, mode %v: got %v, want %v", c.umask, c.perm, got, c.want)
		}
	}
}
