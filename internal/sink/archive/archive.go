// Package archive is the archive sink: a folder of workout files, FIT by
// default, GPX and TCX on request, one set per workout.
//
// Layout: DIR/YYYY/YYYY-MM-DDTHHMM_SPORT_KEY.EXT, for example
// 2023/2023-10-29T0845_run_zepp-1698569116.fit. The date and time are the
// workout's local start time when its zone is known (what a person expects
// to see) and UTC otherwise; the year folder follows the same date. SPORT
// is workout.Sport's stable name and KEY the idempotency key, so the key is
// read back from the name alone: Put finds an existing key by listing
// names, and List reports it as ExternalID. The activity ID is the path of
// the workout's first file relative to DIR, with forward slashes.
//
// Files are written to a temporary file in the same folder (mode 0644 less
// the umask), synced and renamed into place, so a crash or a full disk
// never leaves a partial workout file; when a workout gets several formats
// they appear together, and should a crash fall between two renames (or a
// format be added to the configuration), the next Put of the workout writes
// the formats it lacks. GPX needs positions, so a workout without GPS gets
// only its other formats.
//
// Stage and Flush (sink.Batcher) write many workouts with one wait for the
// disk instead of one each, which is most of what a file costs: Stage
// leaves the files in temporary files, not yet synced; Flush syncs them all
// at once (one syncfs on Linux, else each file), renames them into place
// and syncs their folders. Temporary files that a stopped process left are
// removed by the next scan once an hour old.
//
// List decodes the files whose name puts them near the window. What it
// read is kept, keyed by path, size and modification time, in memory and in
// DIR/.bandsync-index.json, so only new or changed files are decoded again,
// also by the next process: decoding costs 1 to 4 ms per workout file
// (3 to 4 s for a five-year archive of 1 000 workouts), against 13 ms for
// the same List from the index (BenchmarkList). The index is only a cache: deleting
// it costs one slow List, and a stale entry is never used. One process
// should write an archive at a time (the syncer's lock sees to that).
package archive

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/bandsync/bandsync/internal/atomicfile"
	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/format/fit"
	"github.com/bandsync/bandsync/internal/format/gpx"
	"github.com/bandsync/bandsync/internal/format/tcx"
	"github.com/bandsync/bandsync/internal/sink"
	"github.com/bandsync/bandsync/internal/workout"
)

// Format is a file format the archive writes.
type Format string

// Formats.
const (
	FIT Format = "fit"
	GPX Format = "gpx"
	TCX Format = "tcx"
)

// codec encodes and decodes one format.
type codec struct {
	encode func(ctx context.Context, w io.Writer, wo *workout.Workout, opt *Options) error
	decode func(r io.Reader) (*workout.Workout, error)
	// needsGPS marks formats that cannot hold a workout without positions.
	needsGPS bool
}

var codecs = map[Format]codec{
	FIT: {
		encode: func(ctx context.Context, w io.Writer, wo *workout.Workout, opt *Options) error {
			return fit.EncodeContext(ctx, w, wo, opt.FIT)
		},
		decode: fit.Decode,
	},
	GPX: {
		encode:   func(_ context.Context, w io.Writer, wo *workout.Workout, _ *Options) error { return gpx.Encode(w, wo) },
		decode:   gpx.Decode,
		needsGPS: true,
	},
	TCX: {
		encode: func(_ context.Context, w io.Writer, wo *workout.Workout, _ *Options) error { return tcx.Encode(w, wo) },
		decode: tcx.Decode,
	},
}

// decodePreference is the order in which List picks the file it decodes:
// FIT holds the device's own totals and pauses, TCX laps with totals, GPX
// only a track.
var decodePreference = []Format{FIT, TCX, GPX}

// ParseFormat reads a format name such as "fit".
func ParseFormat(s string) (Format, error) {
	f := Format(strings.ToLower(strings.TrimPrefix(s, ".")))
	if _, ok := codecs[f]; !ok {
		names := make([]string, 0, len(codecs))
		for n := range codecs {
			names = append(names, string(n))
		}
		sort.Strings(names)
		return "", errclass.Usagef("archive format %q: use %s", s, strings.Join(names, ", "))
	}
	return f, nil
}

// Options configure an Archive.
type Options struct {
	// Dir is the archive folder; it is created on the first Put.
	Dir string
	// Formats are written for every workout, in this order; the first one
	// a workout can be written in names its activity ID. Empty means FIT.
	Formats []Format
	// FIT tunes the FIT encoder.
	FIT fit.EncodeOptions
}

// Archive is a folder of workout files. It is safe for concurrent use.
type Archive struct {
	opt Options

	mu    sync.Mutex // serialises Put, guards cache and keys
	cache map[string]cached
	// keys is the last scan's primary file (see primary) by key, kept up
	// to date by Put, so a Put does not list the whole archive again; nil
	// until the first scan.
	keys map[string]string
	// staged are the workouts Stage wrote to temporary files, by key,
	// waiting for Flush.
	staged  map[string]staged
	indexed bool // cache loaded from the index file
	dirty   bool // cache differs from the index file

	// wrap, when set, wraps each file writer (tests inject failures).
	wrap func(io.Writer) io.Writer
}

var (
	_ sink.Sink    = (*Archive)(nil)
	_ sink.Local   = (*Archive)(nil)
	_ sink.Batcher = (*Archive)(nil)
)

// staged is a workout's files written by Stage, not yet in place.
type staged struct {
	dir    string   // the year folder
	temps  []string // written, not synced
	finals []string // where Flush puts them
	id     string
}

// Local implements sink.Local: Put writes whole files or none.
func (a *Archive) Local() {}

// cached is what List read from one file; it is also an index entry.
type cached struct {
	Size     int64         `json:"size"`
	MTime    time.Time     `json:"mtime"`
	OK       bool          `json:"ok"` // false: the file did not decode
	Start    time.Time     `json:"start"`
	Elapsed  time.Duration `json:"elapsed_ns"`
	Moving   time.Duration `json:"moving_ns"`
	Distance float64       `json:"distance_m"`
	Device   string        `json:"device,omitempty"`
	Name     string        `json:"name,omitempty"`
}

// indexName is the index file in the archive folder; the leading dot keeps
// it out of file managers' default view and out of scans.
const indexName = ".bandsync-index.json"

const indexVersion = 1

type index struct {
	Version int               `json:"version"`
	Files   map[string]cached `json:"files"`
}

// New returns the archive in opt.Dir.
func New(opt Options) (*Archive, error) {
	if opt.Dir == "" {
		return nil, errclass.Usagef("archive: no folder given")
	}
	if len(opt.Formats) == 0 {
		opt.Formats = []Format{FIT}
	}
	seen := map[Format]bool{}
	var formats []Format
	for _, f := range opt.Formats {
		f, err := ParseFormat(string(f))
		if err != nil {
			return nil, err
		}
		if !seen[f] {
			seen[f] = true
			formats = append(formats, f)
		}
	}
	opt.Formats = formats
	opt.Dir = filepath.Clean(opt.Dir)
	return &Archive{opt: opt, cache: map[string]cached{}, staged: map[string]staged{}}, nil
}

// Name implements sink.Sink.
func (a *Archive) Name() string { return "archive" }

// Dir is the archive folder.
func (a *Archive) Dir() string { return a.opt.Dir }

var validKey = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]{0,159}$`)

// fileName is the name, without extension, of w's files, and its year folder.
func fileName(w *workout.Workout, key string) (dir, base string) {
	t := w.Start.UTC()
	if w.Zone.Known {
		t = w.LocalStart()
	}
	return t.Format("2006"), t.Format("2006-01-02T1504") + "_" + w.Sport.String() + "_" + key
}

// nameRE parses a file name: local start, sport, key, extension.
var nameRE = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2}T\d{4})_([a-z0-9-]+)_([A-Za-z0-9_-][A-Za-z0-9._-]*)\.([a-z]+)$`)

// file is one workout file found in the archive.
type file struct {
	rel      string // slash-separated, relative to Dir
	format   Format
	sport    string
	nameTime time.Time // the start in the name, read as UTC
}

// Put implements sink.Sink. A key that already has files is a Duplicate of
// them, whatever their date: nothing is written. The files are on disk
// when Put returns.
func (a *Archive) Put(ctx context.Context, w *workout.Workout, key string) (sink.Result, error) {
	return a.put(ctx, w, key, false)
}

// Stage implements sink.Batcher: it is Put, except that the files wait
// in temporary files, not yet synced, until Flush.
func (a *Archive) Stage(ctx context.Context, w *workout.Workout, key string) (sink.Result, error) {
	return a.put(ctx, w, key, true)
}

func (a *Archive) put(ctx context.Context, w *workout.Workout, key string, stage bool) (sink.Result, error) {
	if err := ctx.Err(); err != nil {
		return sink.Result{}, err
	}
	if w == nil || w.Start.IsZero() {
		return sink.Result{}, errclass.Fatal(errors.New("archive: workout without a start time"))
	}
	if !validKey.MatchString(key) {
		return sink.Result{}, errclass.Fatal(fmt.Errorf("archive: key %q cannot be part of a file name", key))
	}
	formats := a.formatsFor(w)
	if len(formats) == 0 {
		return sink.Result{}, errclass.Fatal(fmt.Errorf("archive: the workout has no GPS positions and the archive writes only %v; add fit to its formats", a.opt.Formats))
	}

	a.mu.Lock()
	defer a.mu.Unlock()
	if st, ok := a.staged[key]; ok {
		return sink.Result{Outcome: sink.Duplicate, ActivityID: st.id, MatchedBy: "key"}, nil
	}
	held, err := a.held(ctx, key)
	if err != nil {
		return sink.Result{}, err
	}
	if held != "" {
		if err := a.complete(ctx, w, held, formats); err != nil {
			return sink.Result{}, err
		}
		return sink.Result{Outcome: sink.Duplicate, ActivityID: held, MatchedBy: "key"}, nil
	}

	year, base := fileName(w, key)
	dir := filepath.Join(a.opt.Dir, year)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return sink.Result{}, diskError("create folder", a.opt.Dir, err)
	}
	st := staged{dir: dir, id: path.Join(year, base+"."+string(formats[0]))}
	defer func() { removeAll(st.temps) }() // a no-op once renamed or staged
	for _, f := range formats {
		if err := ctx.Err(); err != nil {
			return sink.Result{}, err
		}
		tmp, err := a.writeTemp(ctx, dir, base+"."+string(f), w, f, !stage)
		if err != nil {
			return sink.Result{}, err
		}
		st.temps = append(st.temps, tmp)
		st.finals = append(st.finals, filepath.Join(dir, base+"."+string(f)))
	}
	if err := ctx.Err(); err != nil {
		return sink.Result{}, err
	}
	if stage {
		a.staged[key] = st
		st.temps = nil // Flush's now
		return sink.Result{Outcome: sink.Created, ActivityID: st.id}, nil
	}
	// All formats are on disk; make them appear together.
	if err := place(st); err != nil {
		return sink.Result{}, diskError("write", a.opt.Dir, err)
	}
	atomicfile.SyncDir(dir)
	a.keys[key] = st.id
	return sink.Result{Outcome: sink.Created, ActivityID: st.id}, nil
}

// place renames a workout's temporary files into place; should one rename
// fail, it takes back those done.
func place(st staged) error {
	for i, tmp := range st.temps {
		if err := os.Rename(tmp, st.finals[i]); err != nil {
			removeAll(st.finals[:i])
			return err
		}
	}
	return nil
}

func removeAll(paths []string) {
	for _, p := range paths {
		os.Remove(p)
	}
}

// Flush implements sink.Batcher: it syncs the files of every staged
// workout with one wait for the disk, renames them into place and syncs
// their folders. On error, the workouts not yet in place are dropped (their
// next Put or Stage writes them; one that made it finds its files).
func (a *Archive) Flush(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.staged) == 0 {
		return nil
	}
	all := a.staged
	a.staged = map[string]staged{}
	var temps []string
	for _, st := range all {
		temps = append(temps, st.temps...)
	}
	if err := atomicfile.SyncFiles(a.opt.Dir, temps); err != nil {
		removeAll(temps)
		return diskError("write", a.opt.Dir, err)
	}
	dirs := map[string]bool{}
	var err error
	for key, st := range all {
		if err == nil {
			err = place(st)
		}
		if err != nil {
			removeAll(st.temps)
			continue
		}
		a.keys[key] = st.id
		dirs[st.dir] = true
	}
	for d := range dirs {
		atomicfile.SyncDir(d)
	}
	if err != nil {
		return diskError("write", a.opt.Dir, err)
	}
	return nil
}

// complete writes the formats a held workout lacks beside its file held:
// a run stopped between two renames, or a format added to the
// configuration since. Called with a.mu held.
func (a *Archive) complete(ctx context.Context, w *workout.Workout, held string, formats []Format) error {
	rel := filepath.FromSlash(held)
	dir := filepath.Join(a.opt.Dir, filepath.Dir(rel))
	base := strings.TrimSuffix(filepath.Base(rel), filepath.Ext(rel))
	for _, f := range formats {
		final := filepath.Join(dir, base+"."+string(f))
		if _, err := os.Lstat(final); !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		tmp, err := a.writeTemp(ctx, dir, base+"."+string(f), w, f, true)
		if err != nil {
			return err
		}
		if err := os.Rename(tmp, final); err != nil {
			os.Remove(tmp)
			return diskError("write", a.opt.Dir, err)
		}
		atomicfile.SyncDir(dir)
	}
	return nil
}

func (a *Archive) formatsFor(w *workout.Workout) []Format {
	gps := w.HasGPS()
	var out []Format
	for _, f := range a.opt.Formats {
		if codecs[f].needsGPS && !gps {
			continue
		}
		out = append(out, f)
	}
	return out
}

// writeTemp encodes w as format f into a temporary file next to name,
// mode 0644 less the umask, synced if sync, and returns its path; on
// error nothing is left behind.
func (a *Archive) writeTemp(ctx context.Context, dir, name string, w *workout.Workout, f Format, sync bool) (string, error) {
	var encErr error
	tmp, err := atomicfile.Temp(dir, name, 0o644, sync, func(out io.Writer) error {
		if a.wrap != nil {
			out = a.wrap(out)
		}
		encErr = codecs[f].encode(ctx, out, w, &a.opt)
		return encErr
	})
	switch {
	case err == nil:
		return tmp, nil
	case encErr != nil && errclass.HintOf(diskError("write", a.opt.Dir, encErr)) == "":
		return "", errclass.Fatal(fmt.Errorf("archive: encode %s as %s: %w", name, strings.ToUpper(string(f)), encErr))
	}
	return "", diskError("write", a.opt.Dir, err)
}

// diskError explains a file-system failure in terms of the archive folder
// and what to do. A full disk is retryable (nothing is wrong with the
// workout); a folder bandsync may not write is a setup problem.
func diskError(op, dir string, err error) error {
	switch {
	case errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT):
		return &errclass.Error{
			Class: errclass.Retryable,
			Err:   fmt.Errorf("archive: %s in %s: the disk is full: %w", op, dir, err),
			Hint:  "free some space on the disk holding " + dir + ", then run bandsync sync again",
		}
	case errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS):
		return &errclass.Error{
			Class: errclass.Usage,
			Err:   fmt.Errorf("archive: %s in %s: not allowed: %w", op, dir, err),
			Hint:  "make " + dir + " writable by this user, or point the archive at another folder in the config file",
		}
	case errors.Is(err, syscall.ENOTDIR) || errors.Is(err, fs.ErrExist):
		return &errclass.Error{
			Class: errclass.Usage,
			Err:   fmt.Errorf("archive: %s in %s: something in the way is a file, not a folder: %w", op, dir, err),
			Hint:  "move the file in the way of " + dir + " elsewhere, or point the archive at another folder in the config file",
		}
	}
	return errclass.New(errclass.ClassOf(err), fmt.Errorf("archive: %s in %s: %w", op, dir, err))
}

// held returns the activity ID of key's files, or "" when the archive has
// none. It scans the archive on its first call and then trusts what it saw
// and what Put wrote since, checking only that the file is still there:
// one process writes an archive at a time, and a person who deletes a
// workout's files gets it written again. Called with a.mu held.
func (a *Archive) held(ctx context.Context, key string) (string, error) {
	if a.keys != nil {
		id, ok := a.keys[key]
		if !ok {
			return "", nil
		}
		if _, err := os.Lstat(filepath.Join(a.opt.Dir, filepath.FromSlash(id))); err == nil {
			return id, nil
		}
	}
	if _, err := a.scan(ctx); err != nil {
		return "", err
	}
	return a.keys[key], nil
}

// scan lists the archive's workout files by key and remembers them in
// a.keys. Called with a.mu held. A missing folder is an
// empty archive.
func (a *Archive) scan(ctx context.Context) (map[string][]file, error) {
	groups := map[string][]file{}
	years, err := os.ReadDir(a.opt.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		a.keys = map[string]string{}
		return groups, nil
	}
	if err != nil {
		return nil, diskError("read", a.opt.Dir, err)
	}
	for _, y := range years {
		if !y.IsDir() || !isYear(y.Name()) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		entries, err := os.ReadDir(filepath.Join(a.opt.Dir, y.Name()))
		if err != nil {
			return nil, diskError("read", a.opt.Dir, err)
		}
		for _, e := range entries {
			if atomicfile.IsTemp(e.Name()) {
				a.removeStale(filepath.Join(a.opt.Dir, y.Name(), e.Name()))
				continue
			}
			m := nameRE.FindStringSubmatch(e.Name())
			if m == nil || !e.Type().IsRegular() {
				continue // temporary files start with a dot and never match
			}
			f := Format(m[4])
			if _, ok := codecs[f]; !ok {
				continue
			}
			t, err := time.Parse("2006-01-02T1504", m[1])
			if err != nil {
				continue
			}
			groups[m[3]] = append(groups[m[3]], file{rel: y.Name() + "/" + e.Name(), format: f, sport: m[2], nameTime: t})
		}
	}
	a.keys = make(map[string]string, len(groups))
	for key, files := range groups {
		a.keys[key] = a.primary(files).rel
	}
	return groups, nil
}

// staleAfter is the age at which a temporary file is taken for one a
// stopped process left: any other writer renames or removes its own
// within seconds.
const staleAfter = time.Hour

// removeStale removes the temporary file p if it is stale.
func (a *Archive) removeStale(p string) {
	if fi, err := os.Lstat(p); err == nil && fi.Mode().IsRegular() && time.Since(fi.ModTime()) > staleAfter {
		os.Remove(p)
	}
}

func isYear(s string) bool {
	if len(s) != 4 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// primary is the file that names a key's activity: the first configured
// format present, else the first by decode preference.
func (a *Archive) primary(files []file) file {
	for _, order := range [][]Format{a.opt.Formats, decodePreference} {
		for _, f := range order {
			for _, fl := range files {
				if fl.format == f {
					return fl
				}
			}
		}
	}
	return files[0]
}

// decodeSource is the file List reads a key's numbers from.
func decodeSource(files []file) file {
	for _, f := range decodePreference {
		for _, fl := range files {
			if fl.format == f {
				return fl
			}
		}
	}
	return files[0]
}

// zoneSlack covers every UTC offset (−12 h to +14 h) between the local
// time in a name and the real start.
const zoneSlack = 15 * time.Hour

// List implements sink.Sink. Files that do not decode are left out (Put
// still sees their keys, so nothing is written twice).
func (a *Archive) List(ctx context.Context, win sink.Window) ([]sink.Activity, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	groups, err := a.scan(ctx)
	if err != nil {
		return nil, err
	}
	a.loadIndex()
	defer a.saveIndex(groups)
	var out []sink.Activity
	for key, files := range groups {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		src := decodeSource(files)
		if !win.After.IsZero() && src.nameTime.Before(win.After.Add(-zoneSlack)) ||
			!win.Before.IsZero() && !src.nameTime.Before(win.Before.Add(zoneSlack)) {
			continue
		}
		act, ok := a.activity(src)
		if !ok {
			continue
		}
		if !win.After.IsZero() && act.Start.Before(win.After) || !win.Before.IsZero() && !act.Start.Before(win.Before) {
			continue
		}
		act.ID = a.primary(files).rel
		act.ExternalID = key
		out = append(out, act)
	}
	slices.SortFunc(out, func(x, y sink.Activity) int {
		if c := x.Start.Compare(y.Start); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	return out, nil
}

// activity reads what List reports about one file, from the cache when
// the file has not changed. Called with a.mu held.
func (a *Archive) activity(f file) (sink.Activity, bool) {
	p := filepath.Join(a.opt.Dir, filepath.FromSlash(f.rel))
	fi, err := os.Stat(p)
	if err != nil {
		return sink.Activity{}, false
	}
	c, ok := a.cache[f.rel]
	if !ok || c.Size != fi.Size() || !c.MTime.Equal(fi.ModTime()) {
		c = cached{Size: fi.Size(), MTime: fi.ModTime()}
		if wo, err := decodeFile(p, f.format); err == nil {
			c.OK = true
			c.Start, c.Elapsed, c.Moving, c.Distance = wo.Start.UTC(), wo.Elapsed(), wo.Moving(), wo.Distance()
			c.Device, c.Name = gpx.DeviceName(wo.Device), wo.Name
		}
		a.cache[f.rel] = c
		a.dirty = true
	}
	return sink.Activity{
		Start: c.Start.UTC(), Elapsed: c.Elapsed, Moving: c.Moving, Distance: c.Distance,
		SportType: f.sport, DeviceName: c.Device, Name: c.Name,
	}, c.OK
}

// loadIndex fills the cache from the index file once. A missing or
// unreadable index is an empty one.
func (a *Archive) loadIndex() {
	if a.indexed {
		return
	}
	a.indexed = true
	b, err := os.ReadFile(filepath.Join(a.opt.Dir, indexName))
	if err != nil {
		return
	}
	var ix index
	if json.Unmarshal(b, &ix) != nil || ix.Version != indexVersion {
		return
	}
	for rel, c := range ix.Files {
		if _, ok := a.cache[rel]; !ok {
			a.cache[rel] = c
		}
	}
}

// saveIndex writes the cache, minus files no longer in the archive, when
// List decoded something. Failing to write it only costs time later.
func (a *Archive) saveIndex(groups map[string][]file) {
	if !a.dirty {
		return
	}
	present := map[string]bool{}
	for _, files := range groups {
		for _, f := range files {
			present[f.rel] = true
		}
	}
	ix := index{Version: indexVersion, Files: map[string]cached{}}
	for rel, c := range a.cache {
		if present[rel] {
			ix.Files[rel] = c
		} else {
			delete(a.cache, rel)
		}
	}
	b, err := json.Marshal(ix)
	if err != nil {
		return
	}
	if atomicfile.WriteBytes(filepath.Join(a.opt.Dir, indexName), b, 0o644) == nil {
		a.dirty = false
	}
}

func decodeFile(p string, f Format) (*workout.Workout, error) {
	fh, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return codecs[f].decode(bufio.NewReaderSize(fh, 64<<10))
}
