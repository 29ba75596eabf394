package gadgetbridge

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/format/fit"
	"github.com/bandsync/bandsync/internal/source"
	"github.com/bandsync/bandsync/internal/workout"
)

// fitEntry is one auto-exported FIT file (Gadgetbridge names them
// "<ISO start>-<kind>.fit"; the start is read from the file itself).
type fitEntry struct {
	rel     string
	f       linked
	id      string
	start   time.Time
	sport   workout.Sport
	summary workout.Summary
	matched bool // a database row starts at the same second
	err     error
}

// fitIndex knows every FIT file of the export: a few dozen bytes each,
// the one thing List keeps per file.
type fitIndex struct {
	entries []*fitEntry
	bySec   map[int64]*fitEntry
}

// indexFITs finds and dates the FIT files. A file that does not decode is
// still listed, and fails at Fetch naming itself.
func (s *Source) indexFITs(ctx context.Context) (*fitIndex, error) {
	s.mu.Lock()
	old := s.fits
	s.mu.Unlock()
	cache := map[string]*fitEntry{}
	if old != nil {
		for _, e := range old.entries {
			cache[e.f.name+"\x00"+fmt.Sprint(e.f.size)+"\x00"+e.f.stamp] = e
		}
	}
	ix := &fitIndex{bySec: map[int64]*fitEntry{}}
	err := s.files.fitFiles(func(rel string, f linked) bool {
		if ctx.Err() != nil {
			return false
		}
		key := f.name + "\x00" + fmt.Sprint(f.size) + "\x00" + f.stamp
		e, ok := cache[key]
		if !ok {
			e = &fitEntry{rel: rel, f: f, id: fitID(rel)}
			b, err := readLinked(f, maxLinked)
			if err == nil {
				var w *workout.Workout
				if w, err = fit.Decode(bytes.NewReader(b)); err == nil {
					e.start, e.sport, e.summary = w.Start.UTC(), w.Sport, w.Summary
				}
			}
			if err != nil {
				e.err = fmt.Errorf("FIT %s: %w", f.name, err)
			}
		}
		e2 := *e
		e2.matched = false
		ix.entries = append(ix.entries, &e2)
		if e2.err == nil {
			ix.bySec[e2.start.Unix()] = &e2
		}
		return true
	})
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.fits = ix
	s.mu.Unlock()
	return ix, nil
}

func (s *Source) currentFITs() *fitIndex {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fits
}

// fitID is "fit-" and the file's name without extension, made safe, with
// a short hash of its path when it lies in a subfolder.
func fitID(rel string) string {
	base := strings.TrimSuffix(path.Base(rel), path.Ext(rel))
	id := "fit-" + base
	if d := path.Dir(rel); d != "." {
		h := sha256.Sum256([]byte(d))
		id += "-" + hex.EncodeToString(h[:3])
	}
	return id
}

// forStart returns the FIT file that starts within a second of ms.
func (ix *fitIndex) forStart(ms int64) *fitEntry {
	if ix == nil {
		return nil
	}
	sec := ms / 1000
	for _, d := range []int64{0, -1, 1} {
		if e := ix.bySec[sec+d]; e != nil {
			return e
		}
	}
	return nil
}

// match marks the FIT files that belong to a database row: they add
// detail to that workout rather than being workouts of their own.
func (ix *fitIndex) match(ctx context.Context, db *sql.DB, dbPath string) error {
	if len(ix.bySec) == 0 {
		return nil
	}
	rows, err := db.QueryContext(ctx, "SELECT START_TIME FROM BASE_ACTIVITY_SUMMARY")
	if err != nil {
		return dbError(dbPath, err)
	}
	defer rows.Close()
	for rows.Next() {
		var ms int64
		if err := rows.Scan(&ms); err != nil {
			return dbError(dbPath, err)
		}
		if e := ix.forStart(ms); e != nil {
			e.matched = true
		}
	}
	return rows.Err()
}

// unmatchedRefs lists the FIT files no row claims, in listing order.
// Files that could not be dated are left out here and reported by the
// caller's dry run through FITProblems.
func (ix *fitIndex) unmatchedRefs(since, until time.Time) []source.Ref {
	var refs []source.Ref
	for _, e := range ix.entries {
		if e.matched || e.err != nil {
			continue
		}
		if !since.IsZero() && e.start.Before(since) || !until.IsZero() && !e.start.Before(until) {
			continue
		}
		h := sha256.Sum256([]byte(fmt.Sprint(e.f.size, "\x00", e.f.stamp)))
		refs = append(refs, source.Ref{ID: e.id, Start: e.start, Sport: e.sport, Summary: e.summary,
			Fingerprint: hex.EncodeToString(h[:16])})
	}
	slices.SortFunc(refs, func(a, b source.Ref) int {
		if c := b.Start.Compare(a.Start); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return refs
}

// FITProblems lists the FIT files of the last listing that could not be
// read, for a dry run to show.
func (s *Source) FITProblems() []error {
	ix := s.currentFITs()
	if ix == nil {
		return nil
	}
	var errs []error
	for _, e := range ix.entries {
		if e.err != nil {
			errs = append(errs, e.err)
		}
	}
	return errs
}

func (s *Source) fetchFIT(ctx context.Context, ref source.Ref) (*workout.Workout, error) {
	ix := s.currentFITs()
	if ix == nil {
		var err error
		if ix, err = s.indexFITs(ctx); err != nil {
			return nil, err
		}
	}
	for _, e := range ix.entries {
		if e.id != ref.ID {
			continue
		}
		if e.err != nil {
			return nil, e.err
		}
		b, err := readLinked(e.f, maxLinked)
		if err != nil {
			return nil, errclass.Missing(err)
		}
		w, err := fit.Decode(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("FIT %s: %w", e.f.name, err)
		}
		w.Start = w.Start.UTC()
		return w, nil
	}
	return nil, errclass.Missing(fmt.Errorf("gadgetbridge: FIT file for %s is gone", ref.ID))
}
