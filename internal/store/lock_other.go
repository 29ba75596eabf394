//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd || windows)

package store

import (
	"os"
	"sync"
)

// On systems without flock or LockFileEx (plan9, wasm, solaris, aix) the lock
// only guards against a second Open in this process; two processes on one
// data directory are not detected there.
var (
	heldMu sync.Mutex
	held   = map[string]bool{}
)

func tryLock(f *os.File) (bool, error) {
	heldMu.Lock()
	defer heldMu.Unlock()
	if held[f.Name()] {
		return true, nil
	}
	held[f.Name()] = true
	return false, nil
}

func unlockFile(f *os.File) error {
	heldMu.Lock()
	defer heldMu.Unlock()
	delete(held, f.Name())
	return nil
}
