package progress

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// LogName is the file in the data directory where a sync writes its
// progress, so that a dashboard in another process can show it live.
const LogName = "progress.jsonl"

// Tee reports every event to each of its reporters, in order.
type Tee []Reporter

// Report implements Reporter.
func (t Tee) Report(e Event) {
	for _, r := range t {
		r.Report(e)
	}
}

// Log writes a run's events to a file as JSON lines, for Tail. Each run
// (an event that starts listing) gets a fresh file, renamed into place, so
// the file holds the latest run only and a reader can tell a new run by
// the file changing. Writing is best effort: a full disk must not stop a
// sync, so errors are dropped.
type Log struct {
	mu      sync.Mutex
	path    string
	f       *os.File
	w       *bufio.Writer
	flushed time.Time
}

// logFlushEvery bounds how long a finished item waits in the buffer.
const logFlushEvery = 250 * time.Millisecond

// OpenLog returns a Log writing to path. Nothing is written until the
// first event.
func OpenLog(path string) *Log { return &Log{path: path} }

// Report implements Reporter.
func (l *Log) Report(e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil || e.Phase == Listing && e.Kind == Start {
		l.rotate()
	}
	if l.w == nil {
		return
	}
	b, err := json.Marshal(e)
	if err != nil {
		return
	}
	l.w.Write(append(b, '\n'))
	// Items can come hundreds a second; the rest is flushed at once so a
	// reader sees phases start and end, waits and warnings when they happen.
	if now := time.Now(); e.Kind != Item || now.Sub(l.flushed) >= logFlushEvery {
		l.w.Flush()
		l.flushed = now
	}
}

// rotate starts a fresh file. Called with l.mu held.
func (l *Log) rotate() {
	l.closeFile()
	tmp, err := os.CreateTemp(filepath.Dir(l.path), "."+filepath.Base(l.path)+".tmp-*")
	if err != nil {
		return
	}
	if err := os.Rename(tmp.Name(), l.path); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return
	}
	l.f, l.w = tmp, bufio.NewWriterSize(tmp, 32<<10)
}

func (l *Log) closeFile() {
	if l.f != nil {
		l.w.Flush()
		l.f.Close()
		l.f, l.w = nil, nil
	}
}

// Close flushes and closes the file.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closeFile()
	return nil
}

// Flush writes out buffered events; a Tail then sees them at its next look.
func (l *Log) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w != nil {
		l.w.Flush()
	}
}

// Tail reports the events a Log writes to path, looking every interval
// until ctx ends: first those already there (the last run's), then new
// ones as they come, starting again from the top when a new run replaces
// the file. Lines that do not decode are skipped. A missing file is a run
// not started yet.
func Tail(ctx context.Context, path string, r Reporter, every time.Duration) {
	var (
		f    *os.File
		info os.FileInfo
		rest []byte // a line not yet complete
	)
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	buf := make([]byte, 32<<10)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if now, err := os.Stat(path); err == nil && (info == nil || !os.SameFile(info, now)) {
			// A new run's file.
			if f != nil {
				f.Close()
			}
			f, info, rest = nil, nil, nil
			if nf, err := os.Open(path); err == nil {
				if fi, err := nf.Stat(); err == nil {
					f, info = nf, fi
				} else {
					nf.Close()
				}
			}
		}
		for f != nil {
			n, err := f.Read(buf)
			rest = append(rest, buf[:n]...)
			for {
				i := bytes.IndexByte(rest, '\n')
				if i < 0 {
					break
				}
				var e Event
				if json.Unmarshal(rest[:i], &e) == nil {
					r.Report(e)
				}
				rest = rest[i+1:]
			}
			rest = append([]byte(nil), rest...) // do not keep the read buffer's past alive
			if n == 0 || err != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
