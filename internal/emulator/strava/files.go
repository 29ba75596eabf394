package strava

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// fileStore keeps uploaded files in one append-only file in
// Options.FileDir, so that a long backfill costs the emulator neither
// memory nor a file (an inode) per upload. Space of deleted activities is
// not reclaimed: the store lives as long as one test or demo.
type fileStore struct {
	dir  string
	mu   sync.Mutex
	f    *os.File
	size int64
}

// span is where a file is in the store.
type span struct{ off, n int64 }

// put appends data and returns where it is.
func (fs *fileStore) put(data []byte) (span, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.f == nil {
		f, err := os.OpenFile(filepath.Join(fs.dir, "uploads.bin"), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return span{}, err
		}
		fs.f = f
	}
	if _, err := fs.f.WriteAt(data, fs.size); err != nil {
		return span{}, err
	}
	sp := span{fs.size, int64(len(data))}
	fs.size += sp.n
	return sp, nil
}

// get reads a file back.
func (fs *fileStore) get(sp span) ([]byte, error) {
	fs.mu.Lock()
	f := fs.f
	fs.mu.Unlock()
	if f == nil {
		return nil, fmt.Errorf("emulator: no file store")
	}
	data := make([]byte, sp.n)
	_, err := f.ReadAt(data, sp.off)
	return data, err
}

// close lets go of the store's file.
func (fs *fileStore) close() error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.f == nil {
		return nil
	}
	err := fs.f.Close()
	fs.f = nil
	return err
}
