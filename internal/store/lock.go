package store

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// lockName is the lock file in the data directory. It holds the pid of the
// process that has the directory, for the message a second process prints.
const lockName = "bandsync.lock"

// dirLock is a held process lock on a data directory.
type dirLock struct{ f *os.File }

// lockDir takes the data directory's exclusive process lock, or fails with a
// *LockedError naming the holder. The operating system drops the lock when
// the holder exits, however it exits, so a crash never leaves a stale lock.
func lockDir(dir string) (*dirLock, error) {
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	held, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if held {
		pid := readPID(path)
		f.Close()
		return nil, &LockedError{Dir: dir, PID: pid}
	}
	// Record who holds it. A failure here costs only the pid in another
	// process's message, so it is not an error.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &dirLock{f: f}, nil
}

// unlock releases the lock. The pid is left in the file: it is only read
// while the lock is held by someone.
func (l *dirLock) unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := unlockFile(l.f)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}

func readPID(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}
