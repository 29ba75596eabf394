package syncer

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/sink"
	"github.com/bandsync/bandsync/internal/source"
	"github.com/bandsync/bandsync/internal/store"
	"github.com/bandsync/bandsync/internal/workout"
)

var base = time.Date(2024, 3, 1, 7, 0, 0, 0, time.UTC)

// fakeSource holds workouts in memory and lists them newest first.
type fakeSource struct {
	mu       sync.Mutex
	ws       map[string]*workout.Workout
	fps      map[string]string
	listErr  error // yielded after listErrAfter refs
	errAfter int
	fetchErr map[string]error
	fetches  int
}

func newFakeSource(n int) *fakeSource {
	f := &fakeSource{ws: map[string]*workout.Workout{}, fps: map[string]string{}, fetchErr: map[string]error{}}
	for i := range n {
		f.add(strconv.Itoa(1000+i), base.Add(time.Duration(i)*26*time.Hour))
	}
	return f
}

func (f *fakeSource) add(id string, start time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := &workout.Workout{Start: start, Sport: workout.SportRun, Origin: workout.Origin{Source: "fake", ID: id}}
	w.Summary.Elapsed = 30 * time.Minute
	w.Summary.Moving = 29 * time.Minute
	w.Summary.Distance = 5000
	f.ws[id] = w
	f.fps[id] = "v1"
}

func (f *fakeSource) Name() string { return "fake" }

func (f *fakeSource) List(ctx context.Context, since, until time.Time) iter.Seq2[source.Ref, error] {
	return func(yield func(source.Ref, error) bool) {
		f.mu.Lock()
		var refs []source.Ref
		for id, w := range f.ws {
			if (!since.IsZero() && w.Start.Before(since)) || (!until.IsZero() && !w.Start.Before(until)) {
				continue
			}
			refs = append(refs, source.Ref{ID: id, Start: w.Start, Sport: w.Sport, Fingerprint: f.fps[id], Summary: w.Summary})
		}
		listErr, after := f.listErr, f.errAfter
		f.mu.Unlock()
		sort.Slice(refs, func(i, j int) bool { return refs[i].Start.After(refs[j].Start) })
		for i, r := range refs {
			if listErr != nil && i == after {
				yield(source.Ref{}, listErr)
				return
			}
			if ctx.Err() != nil {
				yield(source.Ref{}, ctx.Err())
				return
			}
			if !yield(r, nil) {
				return
			}
		}
	}
}

func (f *fakeSource) Fetch(ctx context.Context, r source.Ref) (*workout.Workout, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fetches++
	if err := f.fetchErr[r.ID]; err != nil {
		return nil, err
	}
	w, ok := f.ws[r.ID]
	if !ok {
		return nil, errclass.Missing(fmt.Errorf("workout %s is gone", r.ID))
	}
	c := *w
	return &c, nil
}

// fakeSink is a Strava-like sink: Put accepts an upload that Confirm later
// finds by key; a key it holds is a duplicate. It records every POST.
type fakeSink struct {
	mu       sync.Mutex
	name     string
	held     map[string]string // key → activity ID
	uploads  map[string]string // upload ID → key
	posts    int
	next     int
	accept   bool // Put answers Accepted (else Created at once)
	putErr   func(key string) error
	limitFor int       // refuse this many Puts with a rate limit
	until    time.Time // when that limit lifts
	lostResp bool      // create, then answer with an unknown outcome
	// createdErr: create, then fail a follow-up (an edit) with this error.
	createdErr error
	confirmErr error // returned beside the confirmations
}

func newFakeSink(name string, accept bool) *fakeSink {
	return &fakeSink{name: name, held: map[string]string{}, uploads: map[string]string{}, accept: accept}
}

var (
	_ sink.Sink      = (*fakeSink)(nil)
	_ sink.Confirmer = (*fakeSink)(nil)
)

func (s *fakeSink) Name() string { return s.name }

func (s *fakeSink) Put(ctx context.Context, w *workout.Workout, key string) (sink.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.held[key]; ok {
		return sink.Result{Outcome: sink.Duplicate, ActivityID: id, MatchedBy: "external_id"}, nil
	}
	if s.limitFor > 0 {
		s.limitFor--
		return sink.Result{}, errclass.Limited(errors.New("rate limit"), s.until)
	}
	if s.putErr != nil {
		if err := s.putErr(key); err != nil {
			return sink.Result{}, err
		}
	}
	s.posts++
	s.next++
	id := strconv.Itoa(9000 + s.next)
	s.held[key] = id
	up := "u" + id
	s.uploads[up] = key
	if s.lostResp {
		return sink.Result{}, errclass.Retry(errors.New("connection reset: outcome unknown"), 0)
	}
	if s.createdErr != nil {
		return sink.Result{Outcome: sink.Created, ActivityID: id}, s.createdErr
	}
	if s.accept {
		return sink.Result{Outcome: sink.Accepted, UploadID: up}, nil
	}
	return sink.Result{Outcome: sink.Created, ActivityID: id}, nil
}

func (s *fakeSink) List(ctx context.Context, win sink.Window) ([]sink.Activity, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []sink.Activity
	for k, id := range s.held {
		out = append(out, sink.Activity{ID: id, ExternalID: k})
	}
	return out, nil
}

func (s *fakeSink) Confirm(ctx context.Context, pending []sink.Pending) ([]sink.Confirmation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]sink.Confirmation, len(pending))
	for i, p := range pending {
		out[i].Pending = p
		if id, ok := s.held[p.Key]; ok {
			out[i].Result = sink.Result{Outcome: sink.Created, ActivityID: id}
			continue
		}
		out[i].Err = errclass.Missing(fmt.Errorf("%s not held", p.Key))
	}
	return out, s.confirmErr
}

// count reports how many activities each key has (the fake holds at most
// one per key by construction, so posts tell duplicates).
func (s *fakeSink) state() (held, posts int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.held), s.posts
}

// crashLedger stops persisting after a given number of writes: the process
// "died" there. Everything after fails, as nothing after a crash is durable.
type crashLedger struct {
	Ledger
	mu      sync.Mutex
	writes  int
	crashAt int // crash after this many writes (0: never)
	crashed bool
}

var errCrashed = errors.New("crashed")

func (c *crashLedger) write(fn func() error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.crashed {
		return errCrashed
	}
	if err := fn(); err != nil {
		return err
	}
	c.writes++
	if c.crashAt > 0 && c.writes >= c.crashAt {
		c.crashed = true
	}
	return nil
}

func (c *crashLedger) UpsertWorkouts(ctx context.Context, refs []store.Ref, sinks ...string) (out []store.Upserted, err error) {
	err = c.write(func() error { out, err = c.Ledger.UpsertWorkouts(ctx, refs, sinks...); return err })
	return out, err
}

func (c *crashLedger) EnsureDelivery(ctx context.Context, wid store.WorkoutID, sk string) (d store.Delivery, err error) {
	err = c.write(func() error { d, err = c.Ledger.EnsureDelivery(ctx, wid, sk); return err })
	return d, err
}

func (c *crashLedger) MarkUploading(ctx context.Context, wid store.WorkoutID, sk, key, up string) error {
	return c.write(func() error { return c.Ledger.MarkUploading(ctx, wid, sk, key, up) })
}

// NoteUploadID counts as a write; after the crash the note is lost.
func (c *crashLedger) NoteUploadID(ctx context.Context, wid store.WorkoutID, sk, key, up string) {
	_ = c.write(func() error { c.Ledger.NoteUploadID(ctx, wid, sk, key, up); return nil })
}

func (c *crashLedger) MarkDone(ctx context.Context, wid store.WorkoutID, sk, id string) error {
	return c.write(func() error { return c.Ledger.MarkDone(ctx, wid, sk, id) })
}

func (c *crashLedger) MarkDuplicate(ctx context.Context, wid store.WorkoutID, sk, id, by string) error {
	return c.write(func() error { return c.Ledger.MarkDuplicate(ctx, wid, sk, id, by) })
}

func (c *crashLedger) MarkFailed(ctx context.Context, wid store.WorkoutID, sk string, cl errclass.Class, msg string, next time.Time) error {
	return c.write(func() error { return c.Ledger.MarkFailed(ctx, wid, sk, cl, msg, next) })
}

func (c *crashLedger) MarkSkipped(ctx context.Context, wid store.WorkoutID, sk, reason string) error {
	return c.write(func() error { return c.Ledger.MarkSkipped(ctx, wid, sk, reason) })
}

func (c *crashLedger) MarkUnsent(ctx context.Context, wid store.WorkoutID, sk string) error {
	return c.write(func() error { return c.Ledger.MarkUnsent(ctx, wid, sk) })
}

func (c *crashLedger) AddCoverage(ctx context.Context, src string, from, to time.Time) error {
	return c.write(func() error { return c.Ledger.AddCoverage(ctx, src, from, to) })
}

func (c *crashLedger) SetMetaTime(ctx context.Context, key string, t time.Time) error {
	return c.write(func() error { return c.Ledger.SetMetaTime(ctx, key, t) })
}

// crashSink "dies" right after its Nth POST reached the sink, before the
// answer is seen.
type crashSink struct {
	*fakeSink
	after int
	led   *crashLedger
	n     int
	muN   sync.Mutex
}

func (c *crashSink) dead() bool {
	c.led.mu.Lock()
	defer c.led.mu.Unlock()
	return c.led.crashed
}

func (c *crashSink) Put(ctx context.Context, w *workout.Workout, key string) (sink.Result, error) {
	if c.dead() {
		return sink.Result{}, errCrashed // a dead process sends nothing
	}
	res, err := c.fakeSink.Put(ctx, w, key)
	c.muN.Lock()
	defer c.muN.Unlock()
	c.n++
	if c.n == c.after {
		c.led.mu.Lock()
		c.led.crashed = true
		c.led.mu.Unlock()
		return sink.Result{}, errCrashed
	}
	return res, err
}

func (c *crashSink) Confirm(ctx context.Context, p []sink.Pending) ([]sink.Confirmation, error) {
	if c.dead() {
		return nil, errCrashed
	}
	return c.fakeSink.Confirm(ctx, p)
}
