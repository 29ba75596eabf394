// Package zeppexport reads workouts from Zepp / Mi Fit data exports: the
// "Export data" archive of the Zepp app or privacy page (a zip, possibly
// password-protected, or the folder it unpacks to; zepp-cloud-api.md §5.1)
// and the per-workout files the app exports one at a time (FIT, GPX, or
// the cloud's JSON; §5.2), gathered in one folder or archive.
//
// The archive's SPORT CSV holds one summary per workout and no streams.
// A workout file whose start lies within JoinWindow of a summary's is
// joined to it: the file gives the samples, the summary the sport and the
// totals the file lacks. A summary without a file becomes a workout with
// totals and no samples — nothing is made up — and a file without a
// summary is a workout of its own. Zip files inside a folder are read as
// part of it (one level deep), so a downloads folder holding the export
// zip and some exported FIT files is one source.
//
// A workout's ID is its start in Unix seconds — the Zepp trackid — taken
// from the summary when there is one, so adding a workout file later does
// not change it. The fingerprint is the SHA-256 of the summary row and the
// file's bytes.
//
// Archives are checked by package zipsafe (zip slip, links, bombs); an
// archive that fails its checks is reported as a problem and skipped
// whole, and so is an unreadable file or row: the rest of the export is
// still listed (see Problems).
package zeppexport

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/format"
	"github.com/bandsync/bandsync/internal/source"
	"github.com/bandsync/bandsync/internal/source/files"
	"github.com/bandsync/bandsync/internal/source/zipsafe"
	"github.com/bandsync/bandsync/internal/workout"
)

// Name is the source name and the Origin.Source of every workout.
const Name = "zepp-export"

// JoinWindow is how far apart a summary's start and a workout file's may
// be and still be one workout: app exports round or shift the start by a
// few seconds.
const JoinWindow = 2 * time.Minute

// Options configure a Source.
type Options struct {
	// Password opens a password-protected export (WinZip AES or
	// ZipCrypto). It is never logged nor put in an error.
	Password []byte
	// Warnf receives each problem as a listing meets it. Nil: the problems
	// are only kept for Problems.
	Warnf func(format string, args ...any)
	// Limits bound what an archive may expand to (zero: zipsafe's
	// defaults).
	Limits zipsafe.Limits
}

// Problem is a file, entry or row a listing could not use, and why.
type Problem struct {
	Where string // "export.zip: SPORT/SPORT_1.csv line 3", or a file's path
	Err   error
}

func (p Problem) Error() string { return p.Where + ": " + p.Err.Error() }
func (p Problem) Unwrap() error { return p.Err }

// Source lists and fetches the workouts of one export. It is safe for
// concurrent use. Close it to release the archives it keeps open.
type Source struct {
	path string // as given
	real string // absolute, links resolved
	dir  bool
	opt  Options

	mu       sync.Mutex
	archives map[string]*archive // open zips by path
	sig      string              // signature of the items the index was built from
	index    map[string]*entry   // by ID
	order    []source.Ref        // newest first
	problems []Problem
	decoded  map[string]*decoded // content hash → decoded workout file
}

var _ source.Source = (*Source)(nil)

// entry is one workout of the index.
type entry struct {
	ref    source.Ref
	row    *SportRow
	detail *item
	sum    *item // the Zepp summary JSON paired with detail
}

// decoded is what listing needs from a workout file.
type decoded struct {
	start   time.Time
	sport   workout.Sport
	summary workout.Summary
	err     error
}

// New returns a Source over the export at path: a zip file, or a folder.
func New(path string, opt Options) (*Source, error) {
	real, fi, err := source.ResolvePath("zepp-export", path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() && !strings.EqualFold(filepath.Ext(real), ".zip") {
		return nil, errclass.Usagef("zepp-export: %s is neither a folder nor a .zip file", path)
	}
	return &Source{
		path: path, real: real, dir: fi.IsDir(), opt: opt,
		archives: map[string]*archive{}, decoded: map[string]*decoded{},
	}, nil
}

// Name returns "zepp-export".
func (s *Source) Name() string { return Name }

// Close closes the archives the source keeps open.
func (s *Source) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for p, a := range s.archives {
		a.close()
		delete(s.archives, p)
	}
	return nil
}

// Problems returns what the last listing could not use. The slice is a
// copy.
func (s *Source) Problems() []Problem {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.problems)
}

// List implements source.Source.
func (s *Source) List(ctx context.Context, since, until time.Time) iter.Seq2[source.Ref, error] {
	return func(yield func(source.Ref, error) bool) {
		refs, err := s.refresh(ctx, true)
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

// Fetch implements source.Source.
func (s *Source) Fetch(ctx context.Context, ref source.Ref) (*workout.Workout, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if _, err := s.refresh(ctx, false); err != nil {
		return nil, err
	}
	s.mu.Lock()
	e, ok := s.index[ref.ID]
	s.mu.Unlock()
	if !ok {
		return nil, errclass.Missing(fmt.Errorf("zepp-export: workout %s is no longer in %s", ref.ID, s.path))
	}
	var w *workout.Workout
	if e.detail != nil {
		data, summary, err := s.readDetail(*e.detail, e.sum)
		if err != nil {
			return nil, fmt.Errorf("zepp-export: %s: %w", s.where(*e.detail), err)
		}
		if w, err = files.Decode(e.detail.name, data, summary); err != nil {
			return nil, fmt.Errorf("zepp-export: %s: %w", s.where(*e.detail), err)
		}
		if e.row != nil {
			joinRow(w, e.row)
		}
	} else {
		w = e.row.Workout()
	}
	w.Origin = workout.Origin{Source: Name, ID: ref.ID}
	return w, nil
}

// joinRow lays a SPORT summary over a decoded workout file: the Zepp sport
// code is the authority on the sport, and the row fills the totals the
// file lacks.
func joinRow(w *workout.Workout, r *SportRow) {
	if sport, ok := workout.SportFromZepp(r.Type); ok {
		w.Sport = sport
	}
	if !w.Zone.Known && r.Zoned {
		w.Zone = workout.Zone{Offset: r.Offset, Known: true}
	}
	r.applyTo(&w.Summary)
}

// readDetail reads a workout file and its paired summary JSON.
func (s *Source) readDetail(it item, sum *item) (data, summary []byte, err error) {
	if data, err = s.read(it); err != nil {
		return nil, nil, err
	}
	if sum != nil {
		if summary, err = s.read(*sum); err != nil {
			return nil, nil, fmt.Errorf("summary %s: %w", sum.name, err)
		}
	}
	return data, summary, nil
}

func (s *Source) read(it item) ([]byte, error) {
	if it.zip == "" {
		return s.readFolderFile(it.name, format.MaxFileSize)
	}
	s.mu.Lock()
	a := s.archives[it.zip]
	s.mu.Unlock()
	if a == nil {
		return nil, fmt.Errorf("archive %s is no longer open: %w", it.zip, os.ErrNotExist)
	}
	max := int64(format.MaxFileSize)
	if isSportCSV(it.name) {
		max = MaxSportCSV
	}
	return a.read(it.name, s.opt.Password, max)
}

// isSportCSV matches the SPORT category's CSV files ("SPORT/SPORT_<ms>.csv").
func isSportCSV(name string) bool {
	base := strings.ToUpper(path.Base(name))
	return strings.HasPrefix(base, "SPORT") && strings.HasSuffix(base, ".CSV")
}

// gather lists every item of the export: the folder's files and the
// entries of the zips in it, or the entries of the zip given.
func (s *Source) gather(ctx context.Context, report func(string, error)) ([]item, error) {
	var zips []string
	var out []item
	if s.dir {
		its, err := s.walkFolder(ctx, report)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("zepp-export: folder %s: %w", s.path, err)
		}
		for _, it := range its {
			if strings.EqualFold(path.Ext(it.name), ".zip") {
				zips = append(zips, filepath.Join(s.path, filepath.FromSlash(it.name)))
				continue
			}
			out = append(out, it)
		}
	} else {
		zips = []string{s.path}
	}
	open := map[string]bool{}
	for _, z := range zips {
		a, err := s.archive(z)
		if err != nil {
			if !s.dir {
				// The export itself is unusable: that ends the listing.
				return nil, err
			}
			report(z, err)
			continue
		}
		open[z] = true
		out = append(out, a.items(z)...)
	}
	s.mu.Lock()
	for p, a := range s.archives {
		if !open[p] {
			a.close()
			delete(s.archives, p)
		}
	}
	s.mu.Unlock()
	return out, nil
}

// archive returns the open archive at p, reopening it when the file
// changed.
func (s *Source) archive(p string) (*archive, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	a := s.archives[p]
	s.mu.Unlock()
	if a != nil && a.size == fi.Size() && a.mtime.Equal(fi.ModTime()) {
		return a, nil
	}
	na, err := openArchive(p, fi, s.opt.Limits, len(s.opt.Password) > 0)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if a != nil {
		a.close()
	}
	s.archives[p] = na
	s.mu.Unlock()
	return na, nil
}

// signature identifies a set of items: equal signatures, same export.
func signature(its []item) string {
	h := sha256.New()
	for _, it := range its {
		fmt.Fprintf(h, "%s\x00%s\x00%d\x00%d\n", it.zip, it.name, it.size, it.stamp)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// refresh rebuilds the index when the export changed and returns its
// refs, newest first. With warn, the problems are told to Warnf again
// even when the index was current.
func (s *Source) refresh(ctx context.Context, warn bool) ([]source.Ref, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var problems []Problem
	report := func(where string, err error) { problems = append(problems, Problem{Where: where, Err: err}) }
	its, err := s.gather(ctx, report)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(its, func(a, b item) int {
		if c := strings.Compare(a.zip, b.zip); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	sig := signature(its)
	s.mu.Lock()
	current := s.index != nil && s.sig == sig
	refs, old := s.order, s.problems
	s.mu.Unlock()
	if current {
		if warn {
			s.warn(old)
		}
		return refs, nil
	}
	index, refs, err := s.build(ctx, its, report)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.sig, s.index, s.order, s.problems = sig, index, refs, problems
	s.mu.Unlock()
	s.warn(problems)
	return refs, nil
}

func (s *Source) warn(ps []Problem) {
	if s.opt.Warnf == nil {
		return
	}
	for _, p := range ps {
		s.opt.Warnf("%v", p)
	}
}

// detailFile is a decoded workout file of the export.
type detailFile struct {
	it, sum *item
	d       *decoded
	fp      string
	rank    int
}

// build reads the SPORT rows and the workout files and joins them.
func (s *Source) build(ctx context.Context, its []item, report func(string, error)) (map[string]*entry, []source.Ref, error) {
	at := map[[2]string]int{}
	for i, it := range its {
		at[[2]string{it.zip, it.name}] = i
	}
	var rows []*SportRow
	rowWhere := map[*SportRow]string{}
	var details []*detailFile
	seen := map[string]bool{}
	for i := range its {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		it := &its[i]
		switch {
		case isSportCSV(it.name):
			data, err := s.read(*it)
			if errors.Is(err, ErrPassword) {
				return nil, nil, fmt.Errorf("zepp-export: %s: %w", s.where(*it), err)
			}
			if err != nil {
				report(s.where(*it), err)
				continue
			}
			rs, rowErrs, err := ParseSportCSV(strings.NewReader(string(data)))
			if err != nil {
				report(s.where(*it), err)
				continue
			}
			for _, e := range rowErrs {
				report(s.where(*it), e)
			}
			for j := range rs {
				rows = append(rows, &rs[j])
				rowWhere[&rs[j]] = fmt.Sprintf("%s line %d", s.where(*it), rs[j].Line)
			}
		case files.IsWorkoutFile(it.name):
			dir, base := path.Split(it.name)
			if dn := files.DetailName(base); dn != "" {
				if _, ok := at[[2]string{it.zip, dir + dn}]; ok {
					continue // read with its detail
				}
			}
			var sum *item
			if sn := files.SummaryName(base); sn != "" {
				if j, ok := at[[2]string{it.zip, dir + sn}]; ok {
					sum = &its[j]
				}
			}
			df, err := s.decodeDetail(it, sum)
			if errors.Is(err, ErrPassword) {
				return nil, nil, fmt.Errorf("zepp-export: %s: %w", s.where(*it), err)
			}
			if err != nil {
				report(s.where(*it), err)
				continue
			}
			if df.d.err != nil {
				report(s.where(*it), df.d.err)
				continue
			}
			seen[df.fp] = true
			details = append(details, df)
		}
	}
	s.mu.Lock()
	for fp := range s.decoded {
		if !seen[fp] {
			delete(s.decoded, fp)
		}
	}
	s.mu.Unlock()
	return s.join(rows, rowWhere, details, report)
}

// decodeDetail reads and hashes a workout file, decoding it only when its
// content is new.
func (s *Source) decodeDetail(it, sum *item) (*detailFile, error) {
	data, summary, err := s.readDetail(*it, sum)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	h.Write(data)
	if summary != nil {
		h.Write([]byte{0})
		h.Write(summary)
	}
	fp := hex.EncodeToString(h.Sum(nil))
	s.mu.Lock()
	d := s.decoded[fp]
	s.mu.Unlock()
	if d == nil {
		d = &decoded{}
		if w, err := files.Decode(it.name, data, summary); err != nil {
			d.err = err
		} else {
			d.start, d.sport, d.summary = w.Start.UTC(), w.Sport, w.Summary
		}
		s.mu.Lock()
		s.decoded[fp] = d
		s.mu.Unlock()
	}
	return &detailFile{it: it, sum: sum, d: d, fp: fp, rank: rank(it.name)}, nil
}

// rank orders formats by how much of a workout they carry.
func rank(name string) int {
	f, _, _ := format.FromName(name)
	switch f {
	case format.FIT:
		return 0
	case format.ZeppJSON:
		return 1
	case format.TCX:
		return 2
	}
	return 3
}

// join pairs rows and files into entries, newest first.
func (s *Source) join(rows []*SportRow, rowWhere map[*SportRow]string, details []*detailFile, report func(string, error)) (map[string]*entry, []source.Ref, error) {
	// One row per start second: a later export repeats the earlier rows.
	byStart := map[int64]*SportRow{}
	for _, r := range rows {
		k := r.Start.Unix()
		if old, dup := byStart[k]; dup {
			if old.Raw != r.Raw {
				report(rowWhere[r], fmt.Errorf("another summary starts at the same second (%s); that one is used", rowWhere[old]))
			}
			continue
		}
		byStart[k] = r
	}
	// The richest file per start second.
	slices.SortStableFunc(details, func(a, b *detailFile) int {
		if c := a.d.start.Compare(b.d.start); c != 0 {
			return c
		}
		return a.rank - b.rank
	})
	var uniq []*detailFile
	for _, d := range details {
		if n := len(uniq); n > 0 && uniq[n-1].d.start.Equal(d.d.start) {
			if uniq[n-1].fp != d.fp {
				report(s.where(*d.it), fmt.Errorf("the same workout as %s, which is used instead", s.where(*uniq[n-1].it)))
			}
			continue
		}
		uniq = append(uniq, d)
	}
	// Each row takes the nearest file within JoinWindow not yet taken.
	starts := make([]int64, 0, len(byStart))
	for k := range byStart {
		starts = append(starts, k)
	}
	slices.Sort(starts)
	taken := make([]bool, len(uniq))
	index := map[string]*entry{}
	for _, k := range starts {
		r := byStart[k]
		best := -1
		var bestGap time.Duration
		for i, f := range uniq {
			if taken[i] {
				continue
			}
			gap := f.d.start.Sub(r.Start).Abs()
			if gap <= JoinWindow && (best < 0 || gap < bestGap) {
				best, bestGap = i, gap
			}
		}
		e := &entry{row: r}
		sport, known := workout.SportFromZepp(r.Type)
		e.ref = source.Ref{ID: strconv.FormatInt(k, 10), Start: r.Start, Sport: sport}
		fp := sha256.New()
		fp.Write([]byte(r.Raw))
		if best >= 0 {
			f := uniq[best]
			if !known {
				e.ref.Sport = f.d.sport // as joinRow keeps it
			}
			taken[best] = true
			e.detail, e.sum = f.it, f.sum
			e.ref.Start = f.d.start
			e.ref.Summary = f.d.summary
			fp.Write([]byte{0})
			fp.Write([]byte(f.fp))
		}
		r.applyTo(&e.ref.Summary)
		e.ref.Fingerprint = hex.EncodeToString(fp.Sum(nil))
		index[e.ref.ID] = e
	}
	for i, f := range uniq {
		if taken[i] {
			continue
		}
		id := strconv.FormatInt(f.d.start.Unix(), 10)
		if _, dup := index[id]; dup {
			// A file a second off a joined one: keep the joined workout.
			report(s.where(*f.it), fmt.Errorf("starts at the same second as workout %s, which is used instead", id))
			continue
		}
		index[id] = &entry{
			detail: f.it, sum: f.sum,
			ref: source.Ref{ID: id, Start: f.d.start, Sport: f.d.sport, Summary: f.d.summary, Fingerprint: f.fp},
		}
	}
	refs := make([]source.Ref, 0, len(index))
	for _, e := range index {
		refs = append(refs, e.ref)
	}
	slices.SortFunc(refs, func(a, b source.Ref) int {
		if c := b.Start.Compare(a.Start); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return index, refs, nil
}
