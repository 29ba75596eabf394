// Package syncer is bandsync's engine: given a source and sinks, it puts
// every workout a sink lacks there exactly once, and survives a crash at any
// instant.
//
// A run has four steps, each durable in the ledger before the next begins:
//
//  1. reconcile: uploads an earlier run began (or a sink accepted and was
//     still processing) are settled with the sink before anything is sent;
//  2. list: the source's workouts in the wanted window are recorded, with a
//     delivery per sink; windows listed completely are recorded as coverage,
//     so a stopped backfill resumes where it stopped;
//  3. plan: the deliveries due, oldest first;
//  4. apply: fetch each workout once, and for each sink record the intent to
//     send (uploading), send, and record the outcome; accepted uploads are
//     confirmed in bulk.
//
// The engine never prints: it reports into a progress.Tracker. It uses
// providers only through the source.Source and sink.Sink interfaces.
package syncer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/progress"
	"github.com/bandsync/bandsync/internal/sink"
	"github.com/bandsync/bandsync/internal/source"
	"github.com/bandsync/bandsync/internal/store"
	"github.com/bandsync/bandsync/internal/workout"
)

// Ledger is what the engine needs of the store (store.Store implements it).
type Ledger interface {
	UpsertWorkouts(ctx context.Context, refs []store.Ref, sinks ...string) ([]store.Upserted, error)
	EnsureDelivery(ctx context.Context, wid store.WorkoutID, sink string) (store.Delivery, error)
	Pending(ctx context.Context, sink string, f store.PendingFilter) ([]store.Due, error)
	DueStats(ctx context.Context, sinks []string, f store.PendingFilter) (store.DueStats, error)
	Uploading(ctx context.Context, sink string) ([]store.Due, error)
	MarkUploading(ctx context.Context, wid store.WorkoutID, sink, key, uploadID string) error
	NoteUploadID(ctx context.Context, wid store.WorkoutID, sink, key, uploadID string)
	MarkDone(ctx context.Context, wid store.WorkoutID, sink, activityID string) error
	MarkDuplicate(ctx context.Context, wid store.WorkoutID, sink, activityID, matchedBy string) error
	MarkFailed(ctx context.Context, wid store.WorkoutID, sink string, class errclass.Class, msg string, nextRetry time.Time) error
	MarkSkipped(ctx context.Context, wid store.WorkoutID, sink, reason string) error
	MarkUnsent(ctx context.Context, wid store.WorkoutID, sink string) error
	AddCoverage(ctx context.Context, source string, from, to time.Time) error
	Coverage(ctx context.Context, source string) ([]store.Window, error)
	SetMetaTime(ctx context.Context, key string, t time.Time) error
	MetaTime(ctx context.Context, key string) (time.Time, bool, error)
	DeleteMeta(ctx context.Context, key string) error
}

var _ Ledger = (*store.Store)(nil)

// Options tune a run. Zero values take the defaults noted.
type Options struct {
	// Since and Until bound the workouts' start times: [Since, Until).
	Since, Until time.Time
	// DryRun lists and plans but sends nothing (Report.Plan says what
	// would be sent).
	DryRun bool
	// Wait makes a run wait for a rate-limit window to open instead of
	// stopping there.
	Wait bool
	// Workers is how many workouts are fetched and sent at once (default 4).
	Workers int
	// Batch is how many workouts are sent between two bulk confirmations
	// (default 150: with the activities that came another way among them,
	// one 200-activity page of Strava's list confirms a batch).
	Batch int
	// Relist is how far back every run lists again even when that time was
	// listed completely before: bands sync late, so new workouts can appear
	// in the recent past (default 14 days).
	Relist time.Duration
	// ListAll lists the whole window every run, ignoring coverage: for
	// local sources (a folder, an export), where listing costs nothing and
	// coverage recorded for one path says nothing about another.
	ListAll bool
	// FullRelist is how often the whole window is listed again, ignoring
	// coverage, so that workouts edited at the source long after they were
	// recorded are noticed (default 24 h). A backfill that never finished
	// listing resumes from its coverage instead.
	FullRelist time.Duration
	// ConfirmWait bounds how long a run waits at its end for accepted
	// uploads to finish processing (default 30 s); what is still processing
	// is confirmed by the next run.
	ConfirmWait time.Duration
	// StopGrace is how long an upload already under way may take to finish
	// after the run is told to stop (default 60 s), so its outcome is
	// recorded rather than left to reconcile.
	StopGrace time.Duration
	// Tracker receives progress (nil: none).
	Tracker *progress.Tracker
	// Now and Sleep are the clock (defaults: time.Now, a ctx-aware sleep).
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

func (o *Options) defaults() {
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.Batch <= 0 {
		o.Batch = 150
	}
	if o.Relist <= 0 {
		o.Relist = 14 * 24 * time.Hour
	}
	if o.FullRelist <= 0 {
		o.FullRelist = 24 * time.Hour
	}
	if o.ConfirmWait <= 0 {
		o.ConfirmWait = 30 * time.Second
	}
	if o.StopGrace <= 0 {
		o.StopGrace = 60 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Syncer moves the workouts of one source to sinks.
type Syncer struct {
	src   source.Source
	sinks []sink.Sink
	led   Ledger
	opt   Options
	run   *runState
}

// runState is what one Run remembers about the uploads it sent.
type runState struct {
	mu sync.Mutex
	// inflight holds the keys sent in this run whose outcome is not
	// recorded yet: "" when the sink accepted them, else the error that
	// left their outcome unknown.
	inflight map[string]string
	// at is where sending has got to, and more whether batches are to
	// come: a workout found unsent is sent in this run only if it lies
	// beyond at while more batches come.
	at   store.Cursor
	more bool
	// staging holds what Batcher sinks have staged (see stage).
	staging staging
}

// reached records where sending has got to.
func (r *runState) reached(at store.Cursor, more bool) {
	r.mu.Lock()
	r.at, r.more = at, more
	r.mu.Unlock()
}

// leaves reports whether a workout that is due again will be left for the
// next run.
func (r *runState) leaves(rec store.Record) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.more {
		return true
	}
	return store.CursorOf(rec).Compare(r.at) <= 0
}

func (r *runState) set(key, why string) {
	r.mu.Lock()
	r.inflight[key] = why
	r.mu.Unlock()
}

// has says whether key was sent in this run and is still in flight.
func (r *runState) has(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.inflight[key]
	return ok
}

// take forgets key and says whether it was in flight, and why.
func (r *runState) take(key string) (why string, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	why, ok = r.inflight[key]
	delete(r.inflight, key)
	return why, ok
}

// New returns a Syncer.
func New(src source.Source, sinks []sink.Sink, led Ledger, opt Options) *Syncer {
	opt.defaults()
	return &Syncer{src: src, sinks: sinks, led: led, opt: opt}
}

// Report says what a run did.
type Report struct {
	// Listed counts the workouts the source listed; New and Changed those
	// first seen or whose data changed at the source.
	Listed, New, Changed int
	// ListErr is why listing stopped early (nil: it finished). What was
	// listed before is still synced.
	ListErr error
	// Sinks holds per-sink counts, by sink name.
	Sinks map[string]*SinkReport
	// ChangedAtSource names workouts already delivered whose data changed
	// at the source since: reported, not uploaded again.
	ChangedAtSource []string
	// Plan is what a dry run would send, oldest first.
	Plan []PlanItem
	// LimitedUntil is when the rate-limit window that stopped the run
	// opens (zero: not stopped by a limit).
	LimitedUntil time.Time
	// LimitedSink names the sink whose limit stopped the run.
	LimitedSink string
}

// SinkReport counts what happened on one sink in a run.
type SinkReport struct {
	Created    int // sent and confirmed
	Duplicates int // already there (another way, or the sink recognised it)
	Skipped    int
	Failed     int
	// Unconfirmed were sent and are still processing: the next run
	// confirms them.
	Unconfirmed int
	// Left are due but were not attempted (a rate limit or a stop).
	Left int
	// Failures describe this run's failures, one line each.
	Failures []string
}

// PlanItem is one workout a run would send.
type PlanItem struct {
	Key   string
	Start time.Time
	Sport workout.Sport
	Sinks []string
}

func (r *Report) sink(name string) *SinkReport {
	if r.Sinks == nil {
		r.Sinks = map[string]*SinkReport{}
	}
	sr := r.Sinks[name]
	if sr == nil {
		sr = &SinkReport{}
		r.Sinks[name] = sr
	}
	return sr
}

// failed counts a failed delivery of the workout lbl and says why.
func (sr *SinkReport) failed(lbl, why string) {
	sr.Failed++
	sr.Failures = append(sr.Failures, lbl+": "+why)
}

// Failed is the number of deliveries that failed in the run.
func (r *Report) Failed() int {
	n := 0
	for _, s := range r.Sinks {
		n += s.Failed
	}
	return n
}

// Left is the number of deliveries left for a later run.
func (r *Report) Left() int {
	n := 0
	for _, s := range r.Sinks {
		n += s.Left
	}
	return n
}

// LimitError is returned when a rate limit stopped a run that may not wait.
// It is classified errclass.RateLimited.
type LimitError struct {
	Sink  string
	Until time.Time
	Left  int
}

func (e *LimitError) Error() string {
	if e.Until.IsZero() {
		return fmt.Sprintf("%s's rate limit is spent: %d workouts left; run again later", e.Sink, e.Left)
	}
	when := e.Until.Local().Format("15:04")
	if y, m, d := e.Until.Local().Date(); time.Date(y, m, d, 0, 0, 0, 0, time.Local) != midnight(time.Now()) {
		when = e.Until.Local().Format("Mon 2 Jan 15:04")
	}
	return fmt.Sprintf("%s's rate limit is spent: %d workouts left; resumes at %s", e.Sink, e.Left, when)
}

func midnight(t time.Time) time.Time {
	y, m, d := t.Local().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.Local)
}

// Is makes errors.Is(err, errclass.ErrRateLimited) true.
func (e *LimitError) Is(target error) bool { return target == errclass.ErrRateLimited }

// Run syncs once. It returns the report and an error that stopped the run:
// credentials refused (errclass.ReAuth), a rate limit when Options.Wait is
// false (*LimitError), the ledger failing, or ctx. Failures of single
// workouts are in the report, not the error; a listing that stopped early
// is Report.ListErr.
func (s *Syncer) Run(ctx context.Context) (*Report, error) {
	rep := &Report{}
	s.run = &runState{inflight: map[string]string{}, staging: staging{staged: map[string][]stagedPut{}}}
	for _, sk := range s.sinks {
		rep.sink(sk.Name())
	}
	if !s.opt.DryRun {
		if err := s.reconcileAll(ctx, rep, true); err != nil {
			return rep, err
		}
	}
	if err := s.list(ctx, rep); err != nil {
		return rep, err
	}
	if s.opt.DryRun {
		jobs, _, err := s.plan(ctx, store.Cursor{}, 0)
		if err != nil {
			return rep, err
		}
		for _, j := range jobs {
			rep.Plan = append(rep.Plan, PlanItem{Key: j.rec.Key(), Start: j.rec.Start, Sport: j.rec.Sport, Sinks: j.sinkNames()})
		}
		return rep, nil
	}
	if err := s.apply(ctx, rep); err != nil {
		return rep, err
	}
	if rep.LimitedSink != "" && !s.opt.Wait {
		if !rep.LimitedUntil.IsZero() {
			_ = s.led.SetMetaTime(ctx, store.MetaRateLimitOpens(rep.LimitedSink), rep.LimitedUntil)
		}
		return rep, &LimitError{Sink: rep.LimitedSink, Until: rep.LimitedUntil, Left: rep.Left()}
	}
	return rep, nil
}

// job is one workout to fetch and the sinks it goes to.
type job struct {
	rec  store.Record
	dues map[string]store.Delivery // by sink name
}

func (j job) sinkNames() []string {
	names := make([]string, 0, len(j.dues))
	for n := range j.dues {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// plan returns the due deliveries grouped by workout, oldest first: the
// first limit workouts after the cursor (every one when limit is 0), and
// whether more come after them.
func (s *Syncer) plan(ctx context.Context, after store.Cursor, limit int) (jobs []job, more bool, err error) {
	byID := map[store.WorkoutID]*job{}
	f := s.dueFilter()
	f.After = after
	if limit > 0 {
		f.Limit = limit + 1
	}
	for _, sk := range s.sinks {
		due, err := s.led.Pending(ctx, sk.Name(), f)
		if err != nil {
			return nil, false, fmt.Errorf("plan: %w", err)
		}
		for _, d := range due {
			j := byID[d.Workout.ID]
			if j == nil {
				j = &job{rec: d.Workout, dues: map[string]store.Delivery{}}
				byID[d.Workout.ID] = j
			}
			j.dues[sk.Name()] = d.Delivery
		}
	}
	jobs = make([]job, 0, len(byID))
	for _, j := range byID {
		jobs = append(jobs, *j)
	}
	slices.SortFunc(jobs, func(a, b job) int { return store.CursorOf(a.rec).Compare(store.CursorOf(b.rec)) })
	// Each sink's page holds its first limit+1; past the limit-th workout
	// of the union a sink's list may be cut short, so the rest waits for
	// the next page.
	if limit > 0 && len(jobs) > limit {
		jobs, more = jobs[:limit], true
	}
	return jobs, more, nil
}

// dueFilter selects the deliveries this run works on.
func (s *Syncer) dueFilter() store.PendingFilter {
	return store.PendingFilter{Source: s.src.Name(), Since: s.opt.Since, Until: s.opt.Until, Order: store.OldestFirst}
}

// label names a workout for a person: "2023-10-29 08:45 run".
func label(r store.Record) string {
	t := r.Start
	if r.Zone.Known {
		t = t.In(r.Zone.Location())
	}
	return t.Format("2006-01-02 15:04") + " " + r.Sport.String()
}

// sourceRef rebuilds what Fetch needs from the ledger's record.
func sourceRef(r store.Record) source.Ref {
	return source.Ref{ID: r.SourceID, Start: r.Start, Sport: r.Sport, Fingerprint: r.Fingerprint, Summary: r.Summary}
}

// lockedReport guards a Report shared by workers.
type lockedReport struct {
	mu  sync.Mutex
	rep *Report
}

func (l *lockedReport) do(fn func(r *Report)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fn(l.rep)
}

// stopErr reports whether err must stop the whole run.
func stopErr(err error) bool {
	switch errclass.ClassOf(err) {
	case errclass.ReAuth, errclass.Canceled:
		return true
	}
	return errors.Is(err, errLedger)
}

// errLedger marks ledger failures: without a ledger nothing is safe.
var errLedger = errors.New("ledger")

func ledgerErr(err error) error {
	if err == nil {
		return nil
	}
	if errclass.ClassOf(err) == errclass.Canceled {
		return err
	}
	return fmt.Errorf("%w: %w", errLedger, err)
}
