// Package files reads workouts from a folder of files: FIT, GPX, TCX and
// Zepp cloud JSON (a detail file X_detail.json, paired with X_summary.json
// beside it), each optionally gzipped, in the folder and every folder below
// it.
//
// # Identity
//
// A workout's ID is its start time in UTC ("20240501T060000Z"): it is what
// makes two files the same workout. Renaming or moving a file, or
// re-exporting the workout in another format, keeps its ID, so nothing is
// uploaded twice; editing a file in place keeps the ID and changes the
// Fingerprint, the SHA-256 of the file's bytes (and of its Zepp summary),
// so the workout is delivered again. Two files that start in the same
// second are one workout: the richer format wins (FIT, then TCX, Zepp
// JSON, GPX; then the first path), and the other is reported as a problem
// when its content differs. The ID is made of [0-9TZ.] only, so
// workout.Origin.Key() is a valid Strava external_id.
//
// # Cost
//
// List must know every file's start to list newest first, so it keeps a
// small index in memory: per file its size and modification time, its
// fingerprint, and the start, sport and totals decoded from it (about
// 300 bytes a file, never the samples). A file whose size and modification
// time are unchanged since the last listing is neither read nor decoded
// again; a changed file is read and hashed, and decoded only when its
// hash is new. The first listing of a folder therefore reads and decodes
// every file once; later ones cost a directory walk and a stat per file.
// Fetch reads and decodes one file.
//
// # Problems
//
// A file that cannot be read or decoded does not stop the listing: it is
// reported to Options.Warnf as it is met and kept, with the others of the
// same listing, for Problems. So are symbolic links that lead out of the
// folder, which are never followed.
package files

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/format"
	"github.com/bandsync/bandsync/internal/source"
	"github.com/bandsync/bandsync/internal/workout"
)

// Name is the source name and the Origin.Source of every workout.
const Name = "files"

// Options configure a Source.
type Options struct {
	// Warnf receives each problem (a file that cannot be read or decoded,
	// a symbolic link leading out of the folder) as a listing meets it.
	// Nil: the problems are only kept for Problems.
	Warnf func(format string, args ...any)
}

// Problem is a file a listing could not use, and why.
type Problem struct {
	Path string // the file, under the folder as given to New
	Err  error
}

func (p Problem) Error() string { return p.Path + ": " + p.Err.Error() }
func (p Problem) Unwrap() error { return p.Err }

// Source lists and fetches the workouts of one folder. It is safe for
// concurrent use.
type Source struct {
	root     string // as given, for messages
	realRoot string // absolute, symbolic links resolved
	opt      Options

	mu       sync.Mutex
	stats    map[string]stamp  // path → size and mtime at the last hash
	meta     map[string]*meta  // fingerprint → what decoding it gave
	byID     map[string]string // ID → path, from the last listing
	problems []Problem         // of the last listing
	growing  map[string]bool   // paths Watch saw still growing
	settle   time.Duration     // while Watch runs: younger files are growing
}

var _ source.Source = (*Source)(nil)

// stamp is what tells a file changed without reading it.
type stamp struct {
	size, sumSize   int64
	mtime, sumMtime int64 // UnixNano
	fp              string
}

// meta is what a listing needs from a decoded file.
type meta struct {
	start   time.Time
	sport   workout.Sport
	summary workout.Summary
	err     error // the file's decoding error, kept so it is not decoded again
}

// New returns a Source over the folder root. It fails when root is not a
// readable folder.
func New(root string, opt Options) (*Source, error) {
	real, fi, err := source.ResolvePath("files: folder", root)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, errclass.Usagef("files: %s is not a folder (give --path the folder that holds the files)", root)
	}
	return &Source{
		root: root, realRoot: real, opt: opt,
		stats: map[string]stamp{}, meta: map[string]*meta{}, byID: map[string]string{},
	}, nil
}

// Name returns "files".
func (s *Source) Name() string { return Name }

// Problems returns the files the last listing could not use, in the order
// met. The slice is a copy.
func (s *Source) Problems() []Problem {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.problems)
}

// ID returns the ID of a workout starting at start.
func ID(start time.Time) string { return start.UTC().Format("20060102T150405.999999999Z") }

// List implements source.Source.
func (s *Source) List(ctx context.Context, since, until time.Time) iter.Seq2[source.Ref, error] {
	return func(yield func(source.Ref, error) bool) {
		refs, err := s.scan(ctx)
		if err != nil {
			yield(source.Ref{}, err)
			return
		}
		for r, err := range source.Yield(ctx, refs, since, until) {
			if !yield(r, err) {
				return
			}
		}
	}
}

// found is one usable file of a listing.
type found struct {
	ref  source.Ref
	path string
	rank int
}

// scan walks the folder and returns every workout, newest first.
func (s *Source) scan(ctx context.Context) ([]source.Ref, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	growing, settle := s.growing, s.settle
	s.mu.Unlock()
	now := time.Now()

	var problems []Problem
	report := func(path string, err error) {
		p := Problem{Path: path, Err: err}
		problems = append(problems, p)
		if s.opt.Warnf != nil {
			s.opt.Warnf("%v", p)
		}
	}
	var cands []candidate
	err := s.walk(ctx, report, func(c candidate) {
		if growing[c.path] || settle > 0 && now.Sub(c.modTime()) < settle {
			return // taken once Watch sees it settled
		}
		cands = append(cands, c)
	})
	if err != nil {
		return nil, err
	}
	looked, err := s.lookAll(ctx, cands)
	if err != nil {
		return nil, err
	}

	byID := map[string]found{}
	seenStats := make(map[string]bool, len(cands))
	seenMeta := make(map[string]bool, len(cands))
	for i, c := range cands {
		seenStats[c.path] = true
		l := looked[i]
		if l.err != nil {
			report(c.display, l.err)
			continue
		}
		seenMeta[l.st.fp] = true
		if l.m.err != nil {
			report(c.display, l.m.err)
			continue
		}
		f := found{
			ref:  source.Ref{ID: ID(l.m.start), Start: l.m.start, Sport: l.m.sport, Fingerprint: l.st.fp, Summary: l.m.summary},
			path: c.path,
			rank: rank(c.path),
		}
		old, dup := byID[f.ref.ID]
		if !dup {
			byID[f.ref.ID] = f
			continue
		}
		keep, drop := old, f
		if f.rank < old.rank || f.rank == old.rank && f.path < old.path {
			keep, drop = f, old
		}
		byID[f.ref.ID] = keep
		if keep.ref.Fingerprint != drop.ref.Fingerprint {
			report(s.display(drop.path), fmt.Errorf("starts at the same second as %s, which is taken as workout %s instead", s.display(keep.path), keep.ref.ID))
		}
	}

	refs := make([]source.Ref, 0, len(byID))
	paths := make(map[string]string, len(byID))
	for id, f := range byID {
		refs = append(refs, f.ref)
		paths[id] = f.path
	}
	slices.SortFunc(refs, func(a, b source.Ref) int {
		if c := b.Start.Compare(a.Start); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})

	s.mu.Lock()
	defer s.mu.Unlock()
	// Forget files and contents no longer in the folder, so the index
	// stays the size of the folder.
	for p := range s.stats {
		if !seenStats[p] {
			delete(s.stats, p)
		}
	}
	for fp := range s.meta {
		if !seenMeta[fp] {
			delete(s.meta, fp)
		}
	}
	s.byID = paths
	s.problems = problems
	return refs, nil
}

// rank orders formats by how much of a workout they carry.
func rank(path string) int {
	f, _, _ := format.FromName(path)
	switch f {
	case format.FIT:
		return 0
	case format.TCX:
		return 1
	case format.ZeppJSON:
		return 2
	}
	return 3
}

// looked is what look returned for one candidate.
type looked struct {
	st  stamp
	m   *meta
	err error
}

// lookAll runs look over the candidates on as many goroutines as there
// are CPUs: decoding XML is the cost of a first listing (about 30 ms for
// a 30-minute GPX or TCX, 1 ms for FIT). Each goroutine holds one decoded
// workout at a time, so memory stays bounded.
func (s *Source) lookAll(ctx context.Context, cands []candidate) ([]looked, error) {
	out := make([]looked, len(cands))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), max(len(cands), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				st, m, err := s.look(cands[i])
				out[i] = looked{st, m, err}
			}
		}()
	}
	var err error
feed:
	for i := range cands {
		select {
		case next <- i:
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	return out, err
}

// look returns the stamp and decoded meta of a candidate, reading it only
// when its size or modification time changed since it was last read.
func (s *Source) look(c candidate) (stamp, *meta, error) {
	st := stamp{size: c.info.Size(), mtime: c.info.ModTime().UnixNano()}
	if c.summary != "" {
		st.sumSize, st.sumMtime = c.sumInfo.Size(), c.sumInfo.ModTime().UnixNano()
	}
	s.mu.Lock()
	old, ok := s.stats[c.path]
	var m *meta
	if ok && old.size == st.size && old.mtime == st.mtime && old.sumSize == st.sumSize && old.sumMtime == st.sumMtime {
		m = s.meta[old.fp]
	}
	s.mu.Unlock()
	if m != nil {
		return old, m, nil
	}

	data, summary, err := s.read(c)
	if err != nil {
		return st, nil, err
	}
	st.fp = fingerprint(data, summary)
	s.mu.Lock()
	m = s.meta[st.fp]
	s.mu.Unlock()
	if m == nil {
		m = &meta{}
		if w, err := Decode(c.path, data, summary); err != nil {
			m.err = err
		} else {
			m.start, m.sport, m.summary = w.Start.UTC(), w.Sport, w.Summary
		}
	}
	s.mu.Lock()
	s.stats[c.path] = st
	s.meta[st.fp] = m
	s.mu.Unlock()
	return st, m, nil
}

// read reads a candidate and its Zepp summary, checking that the files
// read are the ones the walk listed (not swapped for a link since).
func (s *Source) read(c candidate) (data, summary []byte, err error) {
	data, fi, err := readFile(c.open)
	if err != nil {
		return nil, nil, err
	}
	if !os.SameFile(fi, c.info) {
		return nil, nil, errors.New("the file changed while being read; it is taken on the next run")
	}
	if c.summary != "" {
		if summary, _, err = readFile(c.summary); err != nil {
			return nil, nil, fmt.Errorf("summary %s: %w", filepath.Base(c.summary), err)
		}
	}
	return data, summary, nil
}

// fingerprint is the SHA-256 of a file's bytes, and of its summary's.
func fingerprint(data, summary []byte) string {
	h := sha256.New()
	h.Write(data)
	if summary != nil {
		h.Write([]byte{0})
		h.Write(summary)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Fetch implements source.Source. It reads the file listed for ref.ID (or,
// for a ref from an earlier process, finds it by listing the folder) and
// fails with errclass.ErrNotFound when the file is gone or no longer holds
// a workout with that start.
func (s *Source) Fetch(ctx context.Context, ref source.Ref) (*workout.Workout, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	path, ok := s.byID[ref.ID]
	s.mu.Unlock()
	if !ok {
		if _, err := s.scan(ctx); err != nil {
			return nil, err
		}
		s.mu.Lock()
		path, ok = s.byID[ref.ID]
		s.mu.Unlock()
		if !ok {
			return nil, errclass.Missing(fmt.Errorf("files: workout %s is no longer in %s", ref.ID, s.root))
		}
	}
	c, err := s.candidate(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errclass.Missing(fmt.Errorf("files: workout %s: %s is gone", ref.ID, s.display(path)))
		}
		return nil, fmt.Errorf("files: %s: %w", s.display(path), err)
	}
	data, summary, err := s.read(c)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errclass.Missing(fmt.Errorf("files: workout %s: %s is gone", ref.ID, s.display(path)))
		}
		return nil, fmt.Errorf("files: %s: %w", s.display(path), err)
	}
	w, err := Decode(path, data, summary)
	if err != nil {
		return nil, fmt.Errorf("files: %s: %w", s.display(path), err)
	}
	if id := ID(w.Start); id != ref.ID {
		return nil, errclass.Missing(fmt.Errorf("files: workout %s: %s now holds workout %s", ref.ID, s.display(path), id))
	}
	w.Origin = workout.Origin{Source: Name, ID: ref.ID}
	return w, nil
}
