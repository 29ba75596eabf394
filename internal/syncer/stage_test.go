package syncer

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/sink"
	"github.com/bandsync/bandsync/internal/store"
	"github.com/bandsync/bandsync/internal/workout"
)

// batchSink is a local sink.Batcher in memory: Stage sets workouts aside,
// Flush moves them into held, or fails and drops them. It checks, at every
// Flush, that the ledger never records more workouts done than it holds.
type batchSink struct {
	*fakeSink
	staged   map[string]string
	flushes  int
	flushErr func(n int) error // the error of the n-th Flush (from 1), if any
	onStage  func(n int)       // called after the n-th Stage
	stages   int
	st       *store.Store
	early    int // Flushes that found more done in the ledger than held
}

var _ sink.Batcher = (*batchSink)(nil)

func newBatchSink(st *store.Store) *batchSink {
	return &batchSink{fakeSink: newFakeSink("archive", false), staged: map[string]string{}, st: st}
}

func (b *batchSink) Local() {}

func (b *batchSink) Stage(ctx context.Context, w *workout.Workout, key string) (sink.Result, error) {
	b.mu.Lock()
	if id, ok := b.held[key]; ok {
		b.mu.Unlock()
		return sink.Result{Outcome: sink.Duplicate, ActivityID: id, MatchedBy: "key"}, nil
	}
	b.stages++
	n := b.stages
	b.next++
	id := "f" + strconv.Itoa(b.next)
	b.staged[key] = id
	b.mu.Unlock()
	if b.onStage != nil {
		b.onStage(n)
	}
	return sink.Result{Outcome: sink.Created, ActivityID: id}, nil
}

func (b *batchSink) Flush(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushes++
	if c, err := b.st.Counts(ctx); err == nil && c["archive"].States[store.Done] > len(b.held) {
		b.early++
	}
	staged := b.staged
	b.staged = map[string]string{}
	if b.flushErr != nil {
		if err := b.flushErr(b.flushes); err != nil {
			return err
		}
	}
	for k, id := range staged {
		b.held[k] = id
		b.posts++
	}
	return nil
}

// A Batcher's workouts are flushed many at a time and recorded done only
// once flushed.
func TestBatcherFlushesInGroups(t *testing.T) {
	src := newFakeSource(150)
	st := openStore(t)
	sk := newBatchSink(st)
	o := opts()
	o.Batch = 200
	rep, err := New(src, []sink.Sink{sk}, st, o).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	held, posts := sk.state()
	if held != 150 || posts != 150 || rep.Sinks["archive"].Created != 150 {
		t.Fatalf("held %d, written %d, report %+v; want 150", held, posts, rep.Sinks["archive"])
	}
	if c := counts(t, st, "archive"); c[store.Done] != 150 {
		t.Fatalf("store %v: want 150 done", c)
	}
	if sk.flushes < 3 || sk.flushes > 5 {
		t.Errorf("%d flushes for 150 workouts, want about 150/%d+1", sk.flushes, flushEvery)
	}
	if sk.early != 0 {
		t.Errorf("%d times the ledger had workouts done that were not flushed yet", sk.early)
	}
}

// A Flush that fails (a full disk) fails the workouts it dropped, to be
// retried; the retry writes each exactly once. One that fails for a setup
// reason stops the run with that reason.
func TestBatcherFlushFailure(t *testing.T) {
	src := newFakeSource(30)
	st := openStore(t)
	sk := newBatchSink(st)
	sk.flushErr = func(n int) error {
		if n == 2 {
			return errclass.Retry(errors.New("archive: the disk is full"), 0)
		}
		return nil
	}
	rep, err := New(src, []sink.Sink{sk}, st, opts()).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	held, _ := sk.state()
	sr := rep.Sinks["archive"]
	if held == 30 || sr.Failed != 30-held || sr.Created != held {
		t.Fatalf("held %d, report %+v: want the second flush's workouts failed", held, sr)
	}
	if c, _ := st.Counts(context.Background()); c["archive"].States[store.Failed] != 30-held || c["archive"].Retrying != 30-held {
		t.Fatalf("store %+v: want %d failed that retry by themselves", c["archive"], 30-held)
	}
	o := opts()
	o.Now = func() time.Time { return now.Add(48 * time.Hour) }
	if _, err := New(src, []sink.Sink{sk}, st, o).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if held, posts := sk.state(); held != 30 || posts != 30 {
		t.Fatalf("after the retry: held %d, written %d; want 30 and 30", held, posts)
	}
	if c := counts(t, st, "archive"); c[store.Done] != 30 {
		t.Fatalf("store %v: want 30 done", c)
	}

	src.add("new", now.Add(-time.Hour))
	sk.flushErr = func(int) error { return errclass.Usagef("archive: not allowed") }
	wantUsageStop(t, src, sk, st)
}

// A run told to stop still flushes and records what it staged: the next
// run writes nothing twice.
func TestBatcherStopFlushes(t *testing.T) {
	src := newFakeSource(40)
	st := openStore(t)
	sk := newBatchSink(st)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sk.onStage = func(n int) {
		if n == 10 {
			cancel()
		}
	}
	o := opts()
	o.Batch = 200
	if _, err := New(src, []sink.Sink{sk}, st, o).Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want canceled", err)
	}
	held, _ := sk.state()
	if c := counts(t, st, "archive"); held == 0 || c[store.Done] != held {
		t.Fatalf("stopped run: %d held, ledger %v; want every held workout done", held, c)
	}
	sk.onStage = nil
	if _, err := New(src, []sink.Sink{sk}, st, later(opts())).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if held, posts := sk.state(); held != 40 || posts != 40 {
		t.Fatalf("after the next run: held %d, written %d; want 40 and 40", held, posts)
	}
}
