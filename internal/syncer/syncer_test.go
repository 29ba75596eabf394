package syncer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/sink"
	"github.com/bandsync/bandsync/internal/store"
	"github.com/bandsync/bandsync/internal/workout"
)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// now is after every fake workout, so the relist window holds none of them.
var now = base.Add(400 * 24 * time.Hour)

func opts() Options {
	return Options{Now: func() time.Time { return now }, Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() },
		Batch: 7, ConfirmWait: time.Nanosecond}
}

// later moves a run's clock a day on, so the full relisting is due.
func later(o Options) Options {
	prev := o.Now
	o.Now = func() time.Time { return prev().Add(25 * time.Hour) }
	return o
}

func counts(t *testing.T, st *store.Store, sinkName string) map[store.State]int {
	t.Helper()
	c, err := st.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c[sinkName].States
}

func TestBackfillExactlyOnce(t *testing.T) {
	for _, accept := range []bool{false, true} {
		t.Run(fmt.Sprint("accept=", accept), func(t *testing.T) {
			src := newFakeSource(30)
			sk := newFakeSink("strava", accept)
			st := openStore(t)
			rep, err := New(src, []sink.Sink{sk}, st, opts()).Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			held, posts := sk.state()
			if held != 30 || posts != 30 {
				t.Fatalf("held %d, posts %d; want 30 and 30", held, posts)
			}
			if rep.Listed != 30 || rep.New != 30 || rep.Sinks["strava"].Created != 30 {
				t.Fatalf("report %+v %+v", rep, rep.Sinks["strava"])
			}
			if c := counts(t, st, "strava"); c[store.Done] != 30 {
				t.Fatalf("store: %v", c)
			}
			// A second run sends nothing and fetches nothing.
			fetched := src.fetches
			rep, err = New(src, []sink.Sink{sk}, st, opts()).Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if _, posts := sk.state(); posts != 30 || src.fetches != fetched || rep.New != 0 {
				t.Fatalf("second run posted %d, fetched %d more, new %d", posts-30, src.fetches-fetched, rep.New)
			}
		})
	}
}

func TestDryRunSendsNothing(t *testing.T) {
	src := newFakeSource(5)
	sk := newFakeSink("strava", true)
	st := openStore(t)
	o := opts()
	o.DryRun = true
	rep, err := New(src, []sink.Sink{sk}, st, o).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, posts := sk.state(); posts != 0 || src.fetches != 0 {
		t.Fatalf("dry run posted %d, fetched %d", posts, src.fetches)
	}
	if len(rep.Plan) != 5 || !rep.Plan[0].Start.Before(rep.Plan[4].Start) {
		t.Fatalf("plan %+v: want 5 items oldest first", rep.Plan)
	}
}

func TestAlreadyThereIsDuplicate(t *testing.T) {
	src := newFakeSource(4)
	sk := newFakeSink("strava", true)
	sk.held["fake-1001"] = "777" // posted another way
	st := openStore(t)
	rep, err := New(src, []sink.Sink{sk}, st, opts()).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sinks["strava"].Duplicates != 1 || rep.Sinks["strava"].Created != 3 {
		t.Fatalf("report %+v", rep.Sinks["strava"])
	}
	if c := counts(t, st, "strava"); c[store.Duplicate] != 1 || c[store.Done] != 3 {
		t.Fatalf("store %v", c)
	}
}

func TestRateLimitStopsAndResumes(t *testing.T) {
	src := newFakeSource(10)
	sk := newFakeSink("strava", true)
	sk.limitFor = 1000
	sk.until = now.Add(8 * time.Minute)
	st := openStore(t)
	rep, err := New(src, []sink.Sink{sk}, st, opts()).Run(context.Background())
	var le *LimitError
	if !errors.As(err, &le) || !errors.Is(err, errclass.ErrRateLimited) {
		t.Fatalf("err = %v, want a LimitError", err)
	}
	if !le.Until.Equal(sk.until) || le.Left != 10 || rep.Left() != 10 {
		t.Fatalf("limit %+v, left %d", le, rep.Left())
	}
	if c := counts(t, st, "strava"); c[store.Pending] != 10 {
		t.Fatalf("store %v: a rate-limit wait is not a failure", c)
	}
	// With Wait, the run sleeps until the window opens and finishes.
	sk.limitFor = 3
	o := opts()
	o.Wait = true
	var slept []time.Duration
	var mu sync.Mutex // the workers sleep side by side
	o.Sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		slept = append(slept, d)
		mu.Unlock()
		return nil
	}
	if _, err := New(src, []sink.Sink{sk}, st, o).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if held, _ := sk.state(); held != 10 || len(slept) == 0 || slept[0] != 8*time.Minute {
		t.Fatalf("held %d, slept %v", held, slept)
	}
}

func TestPermanentFailureIsRecordedNotRetried(t *testing.T) {
	src := newFakeSource(3)
	sk := newFakeSink("strava", true)
	sk.putErr = func(key string) error {
		if key == "fake-1001" {
			return errclass.Fatal(errors.New("the file has no samples"))
		}
		return nil
	}
	st := openStore(t)
	rep, err := New(src, []sink.Sink{sk}, st, opts()).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed() != 1 || len(rep.Sinks["strava"].Failures) != 1 {
		t.Fatalf("report %+v", rep.Sinks["strava"])
	}
	sk.putErr = nil
	if _, err := New(src, []sink.Sink{sk}, st, later(opts())).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if held, _ := sk.state(); held != 2 {
		t.Fatalf("a permanent failure was retried without a change at the source: held %d", held)
	}
	// A change at the source reopens it (noticed by the daily full listing).
	src.fps["1001"] = "v2"
	if _, err := New(src, []sink.Sink{sk}, st, later(later(opts()))).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if held, _ := sk.state(); held != 3 {
		t.Fatalf("held %d after the source changed", held)
	}
}

func TestChangedAfterUploadIsReportedNotResent(t *testing.T) {
	src := newFakeSource(2)
	sk := newFakeSink("strava", false)
	st := openStore(t)
	if _, err := New(src, []sink.Sink{sk}, st, opts()).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	src.fps["1000"] = "v2"
	rep, err := New(src, []sink.Sink{sk}, st, later(opts())).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, posts := sk.state(); posts != 2 || len(rep.ChangedAtSource) != 1 {
		t.Fatalf("posts %d, changed %v", posts, rep.ChangedAtSource)
	}
}

func TestDeletedBetweenListAndFetchIsSkipped(t *testing.T) {
	src := newFakeSource(3)
	src.fetchErr["1001"] = errclass.Missing(errors.New("gone"))
	sk := newFakeSink("strava", true)
	st := openStore(t)
	rep, err := New(src, []sink.Sink{sk}, st, opts()).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sinks["strava"].Skipped != 1 || counts(t, st, "strava")[store.Skipped] != 1 {
		t.Fatalf("report %+v", rep.Sinks["strava"])
	}
}

func TestLostAnswerIsReconciledNotResent(t *testing.T) {
	src := newFakeSource(5)
	sk := newFakeSink("strava", true)
	sk.lostResp = true // every POST goes through but its answer is lost
	st := openStore(t)
	if _, err := New(src, []sink.Sink{sk}, st, opts()).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	held, posts := sk.state()
	if held != 5 || posts != 5 {
		t.Fatalf("held %d posts %d: lost answers must be reconciled, not re-sent", held, posts)
	}
	if c := counts(t, st, "strava"); c[store.Done] != 5 {
		t.Fatalf("store %v", c)
	}
}

func TestListingErrorKeepsWhatWasListed(t *testing.T) {
	src := newFakeSource(10)
	src.listErr = errclass.Retry(errors.New("zepp: 502"), 0)
	src.errAfter = 4
	sk := newFakeSink("strava", true)
	st := openStore(t)
	rep, err := New(src, []sink.Sink{sk}, st, opts()).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.ListErr == nil || rep.Listed != 4 {
		t.Fatalf("listed %d, err %v", rep.Listed, rep.ListErr)
	}
	if held, _ := sk.state(); held != 4 {
		t.Fatalf("held %d", held)
	}
	// The next run lists only what is not covered, and finishes.
	src.listErr = nil
	if _, err := New(src, []sink.Sink{sk}, st, opts()).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if held, _ := sk.state(); held != 10 {
		t.Fatalf("held %d after resume", held)
	}
	cov, _ := st.Coverage(context.Background(), "fake")
	if w, ok := store.CompleteBack(cov); !ok || !w.From.Equal(time.Time{}.Truncate(time.Millisecond)) && w.From.After(base) {
		t.Fatalf("coverage %v", cov)
	}
}

func TestReAuthStopsTheRun(t *testing.T) {
	src := newFakeSource(3)
	sk := newFakeSink("strava", true)
	sk.putErr = func(string) error { return errclass.Auth(errors.New("401"), "run bandsync auth strava") }
	st := openStore(t)
	_, err := New(src, []sink.Sink{sk}, st, opts()).Run(context.Background())
	if !errors.Is(err, errclass.ErrReAuth) {
		t.Fatalf("err = %v", err)
	}
	if c := counts(t, st, "strava"); c[store.Pending] != 3 {
		t.Fatalf("store %v: nothing was sent, all stay pending", c)
	}
}

func TestTwoSinksOneFetch(t *testing.T) {
	src := newFakeSource(6)
	a, b := newFakeSink("strava", true), newFakeSink("archive", false)
	st := openStore(t)
	if _, err := New(src, []sink.Sink{a, b}, st, opts()).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	ha, _ := a.state()
	hb, _ := b.state()
	if ha != 6 || hb != 6 || src.fetches != 6 {
		t.Fatalf("strava %d archive %d fetches %d", ha, hb, src.fetches)
	}
}

// TestCrashAtEveryStep crashes the process after each durable write of a
// run (and right after each POST, before its answer is seen), then runs
// again over the same store: every workout ends on the sink exactly once.
func TestCrashAtEveryStep(t *testing.T) {
	const n = 6
	// How many writes does a clean run make?
	clean := &crashLedger{Ledger: openStore(t)}
	if _, err := New(newFakeSource(n), []sink.Sink{newFakeSink("strava", true)}, clean, opts()).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	total := clean.writes
	if total < 3*n {
		t.Fatalf("a clean run made only %d writes", total)
	}
	check := func(t *testing.T, crash func(*crashLedger, *fakeSink) []sink.Sink) {
		src := newFakeSource(n)
		sk := newFakeSink("strava", true)
		st := openStore(t)
		cl := &crashLedger{Ledger: st}
		_, _ = New(src, crash(cl, sk), cl, opts()).Run(context.Background())
		// Restart: the same store and sink, a new process.
		for range 2 {
			if _, err := New(src, []sink.Sink{sk}, st, opts()).Run(context.Background()); err != nil {
				t.Fatalf("recovery run: %v", err)
			}
		}
		held, posts := sk.state()
		if held != n || posts != n {
			t.Fatalf("after the crash: %d held, %d posts; want %d each", held, posts, n)
		}
		if c := counts(t, st, "strava"); c[store.Done]+c[store.Duplicate] != n {
			t.Fatalf("store %v", c)
		}
	}
	for at := 1; at <= total; at++ {
		t.Run(fmt.Sprintf("after-write-%d", at), func(t *testing.T) {
			check(t, func(cl *crashLedger, sk *fakeSink) []sink.Sink {
				cl.crashAt = at
				return []sink.Sink{&crashSink{fakeSink: sk, led: cl}}
			})
		})
	}
	for at := 1; at <= n; at++ {
		t.Run(fmt.Sprintf("after-post-%d", at), func(t *testing.T) {
			check(t, func(cl *crashLedger, sk *fakeSink) []sink.Sink {
				return []sink.Sink{&crashSink{fakeSink: sk, led: cl, after: at}}
			})
		})
	}
}

func TestWatchStopsCleanly(t *testing.T) {
	src := newFakeSource(2)
	sk := newFakeSink("strava", true)
	st := openStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	o := opts()
	runs := 0
	o.Sleep = func(ctx context.Context, d time.Duration) error {
		if runs == 2 {
			src.add("2000", now.Add(-time.Hour)) // a new workout appears
		}
		if runs == 3 {
			cancel()
			return ctx.Err()
		}
		return nil
	}
	err := New(src, []sink.Sink{sk}, st, o).Watch(ctx, time.Minute, func(*Report, error) { runs++ })
	if err != nil {
		t.Fatalf("watch returned %v on a clean stop", err)
	}
	if held, _ := sk.state(); held != 3 {
		t.Fatalf("held %d: the new workout did not arrive", held)
	}
}

func TestListAllIgnoresCoverage(t *testing.T) {
	src := newFakeSource(4)
	sk := newFakeSink("archive", false)
	st := openStore(t)
	o := opts()
	o.ListAll = true
	if _, err := New(src, []sink.Sink{sk}, st, o).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if cov, _ := st.Coverage(context.Background(), "fake"); len(cov) != 0 {
		t.Fatalf("a local source's listing recorded coverage %v", cov)
	}
	src.add("old", base.Add(-24*time.Hour)) // an old file appears
	if _, err := New(src, []sink.Sink{sk}, st, o).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if held, _ := sk.state(); held != 5 {
		t.Fatalf("held %d: the old workout was not listed", held)
	}
}

// Deliveries of another source's workouts (an interrupted Zepp backfill)
// are not the business of a run over this source: they stay pending.
func TestOtherSourcesPendingUntouched(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	other := store.Ref{Source: "zepp", SourceID: "1700000000", Start: base, Sport: 1, Fingerprint: "x"}
	if _, err := st.UpsertWorkouts(ctx, []store.Ref{other}, "strava"); err != nil {
		t.Fatal(err)
	}
	src := newFakeSource(2)
	sk := newFakeSink("strava", true)
	rep, err := New(src, []sink.Sink{sk}, st, opts()).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if src.fetches != 2 || rep.Sinks["strava"].Skipped != 0 {
		t.Fatalf("fetched %d, skipped %d: another source's workout was taken", src.fetches, rep.Sinks["strava"].Skipped)
	}
	if c := counts(t, st, "strava"); c[store.Pending] != 1 || c[store.Done] != 2 {
		t.Fatalf("store %v", c)
	}
}

// An upload that fails on the way (a 503) is not "all done": once the sink
// is seen not to hold it, it is a failure to retry later.
func TestFailedOnTheWayIsCountedAndRetried(t *testing.T) {
	src := newFakeSource(3)
	sk := newFakeSink("strava", true)
	sk.putErr = func(string) error { return errclass.Retry(errors.New("strava: 503 Service Unavailable"), 0) }
	st := openStore(t)
	rep, err := New(src, []sink.Sink{sk}, st, opts()).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed() != 3 || rep.Sinks["strava"].Unconfirmed != 0 {
		t.Fatalf("report %+v: want 3 failed, none unconfirmed", rep.Sinks["strava"])
	}
	c, _ := st.Counts(context.Background())
	if c["strava"].States[store.Failed] != 3 || c["strava"].Retrying != 3 {
		t.Fatalf("store %+v: want 3 failed that retry by themselves", c["strava"])
	}
}

// Created plus an error (a failed edit after the upload) is created.
func TestCreatedDespiteFollowUpError(t *testing.T) {
	src := newFakeSource(2)
	sk := newFakeSink("strava", false)
	sk.createdErr = errclass.Fatal(errors.New("gear g1 does not exist"))
	st := openStore(t)
	rep, err := New(src, []sink.Sink{sk}, st, opts()).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sinks["strava"].Created != 2 || rep.Failed() != 0 {
		t.Fatalf("report %+v", rep.Sinks["strava"])
	}
	if c := counts(t, st, "strava"); c[store.Done] != 2 {
		t.Fatalf("store %v", c)
	}
}

// A trouble confirming (a failed edit, a listing error) does not stop the
// run: the uploads stay in flight and are confirmed later.
func TestConfirmErrorDoesNotStopTheRun(t *testing.T) {
	src := newFakeSource(20)
	sk := newFakeSink("strava", true)
	sk.confirmErr = errclass.Retry(errors.New("strava: 503 on an edit"), 0)
	st := openStore(t)
	rep, err := New(src, []sink.Sink{sk}, st, opts()).Run(context.Background())
	if err != nil {
		t.Fatalf("run stopped: %v", err)
	}
	if held, _ := sk.state(); held != 20 || rep.Sinks["strava"].Created != 20 {
		t.Fatalf("held %d, report %+v", held, rep.Sinks["strava"])
	}
}

// The source's own rate limit on a fetch is not a permanent failure.
func TestSourceRateLimitIsRetried(t *testing.T) {
	src := newFakeSource(1)
	until := now.Add(3 * time.Hour)
	src.fetchErr["1000"] = errclass.Limited(errors.New("zepp: too many requests"), until)
	sk := newFakeSink("strava", true)
	st := openStore(t)
	if _, err := New(src, []sink.Sink{sk}, st, opts()).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	list, _, _ := st.Workouts(context.Background(), store.Filter{})
	d, _ := list[0].Delivery("strava")
	if d.State != store.Failed || d.FailClass != errclass.Retryable || !d.NextRetry.Equal(until) {
		t.Fatalf("delivery %+v: want failed, retryable, next at %v", d, until)
	}
}

// localSink is an archive-like sink: it writes whole or nothing, and a key
// it holds is a duplicate matched by key.
type localSink struct{ *fakeSink }

func (localSink) Local() {}

func (s localSink) Put(ctx context.Context, w *workout.Workout, key string) (sink.Result, error) {
	res, err := s.fakeSink.Put(ctx, w, key)
	if res.Outcome == sink.Duplicate {
		res.MatchedBy = "key"
	}
	return res, err
}

// A local sink's failures are recorded as such, never as "outcome unknown":
// a full disk fails and retries later; a refused folder stops the run with
// its own error, also for a workout that had failed before.
func TestLocalSinkFailures(t *testing.T) {
	src := newFakeSource(3)
	src.fetchErr["1000"] = errclass.Retry(errors.New("zepp: 503"), 0)
	sk := localSink{newFakeSink("archive", false)}
	st := openStore(t)
	if _, err := New(src, []sink.Sink{sk}, st, opts()).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c := counts(t, st, "archive"); c[store.Failed] != 1 || c[store.Done] != 2 {
		t.Fatalf("store %v: want the fetch failure and 2 done", c)
	}

	// The disk fills up: the retried workout fails again, retryably.
	delete(src.fetchErr, "1000")
	sk.putErr = func(string) error { return errclass.Retry(errors.New("archive: the disk is full"), 0) }
	o := opts()
	o.Now = func() time.Time { return now.Add(48 * time.Hour) } // the retry is due
	rep, err := New(src, []sink.Sink{sk}, st, o).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if sr := rep.Sinks["archive"]; sr.Failed != 1 || sr.Unconfirmed != 0 {
		t.Fatalf("report %+v: want 1 failed, none unconfirmed", sr)
	}
	if c, _ := st.Counts(context.Background()); c["archive"].States[store.Failed] != 1 || c["archive"].Retrying != 1 {
		t.Fatalf("store %+v: want 1 failed that retries by itself", c["archive"])
	}

	// The folder may not be written: the run stops with that error.
	sk.putErr = func(string) error { return errclass.Usagef("archive: not allowed") }
	wantUsageStop(t, src, sk, st)
}

// wantUsageStop runs a month later, when every failure is due, and wants
// the run stopped by the sink's usage error, not a ledger error.
func wantUsageStop(t *testing.T, src *fakeSource, sk sink.Sink, st *store.Store) {
	t.Helper()
	o := opts()
	o.Now = func() time.Time { return now.Add(30 * 24 * time.Hour) }
	_, err := New(src, []sink.Sink{sk}, st, o).Run(context.Background())
	if errclass.ClassOf(err) != errclass.Usage || errors.Is(err, errLedger) {
		t.Fatalf("err = %v, want the sink's usage error", err)
	}
}

// A file a stopped run wrote but did not record is the sink's own: done.
func TestLocalSinkOwnFileIsDone(t *testing.T) {
	src := newFakeSource(2)
	sk := localSink{newFakeSink("archive", false)}
	sk.held[workout.Origin{Source: "fake", ID: "1000"}.Key()] = "2024/own.fit"
	st := openStore(t)
	rep, err := New(src, []sink.Sink{sk}, st, opts()).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c := counts(t, st, "archive"); c[store.Done] != 2 {
		t.Fatalf("store %v: want 2 done", c)
	}
	if sr := rep.Sinks["archive"]; sr.Duplicates != 1 || sr.Created != 1 {
		t.Fatalf("report %+v: want 1 written, 1 already there", sr)
	}
}

// flakyConfirm fails its first confirmation.
type flakyConfirm struct {
	*fakeSink
	calls int
}

func (f *flakyConfirm) Confirm(ctx context.Context, p []sink.Pending) ([]sink.Confirmation, error) {
	f.calls++
	if f.calls == 1 {
		return nil, errclass.Retry(errors.New("strava: 503"), 0)
	}
	return f.fakeSink.Confirm(ctx, p)
}

// An upload an earlier run left, found missing only between batches, is
// sent by a later batch of the same run: it is not counted as left.
func TestFoundUnsentBetweenBatchesIsNotLeft(t *testing.T) {
	ctx := context.Background()
	src := newFakeSource(30)
	sk := &flakyConfirm{fakeSink: newFakeSink("strava", false)}
	st := openStore(t)
	o := opts()
	o.DryRun = true // records the listing
	if _, err := New(src, []sink.Sink{sk}, st, o).Run(ctx); err != nil {
		t.Fatal(err)
	}
	due, err := st.Pending(ctx, "strava", store.PendingFilter{Order: store.OldestFirst})
	if err != nil || len(due) != 30 {
		t.Fatal(len(due), err)
	}
	d := due[20] // in the third batch of 7
	if err := st.MarkUploading(ctx, d.Workout.ID, "strava", d.Workout.Key(), ""); err != nil {
		t.Fatal(err)
	}
	rep, err := New(src, []sink.Sink{sk}, st, later(opts())).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c := counts(t, st, "strava"); c[store.Done] != 30 {
		t.Fatalf("store %v: want 30 done", c)
	}
	if sr := rep.Sinks["strava"]; sr.Left != 0 || sr.Created != 30 {
		t.Fatalf("report %+v: want 30 created, none left", sr)
	}
}

// encodingSink encodes each workout it is given through workout.EncodeOnce,
// as Strava's upload and the archive encode FIT, and counts the encodings
// made in all.
type encodingSink struct {
	*fakeSink
	encodings *atomic.Int64
}

func (e encodingSink) Put(ctx context.Context, w *workout.Workout, key string) (sink.Result, error) {
	err := workout.EncodeOnce(ctx, io.Discard, w, "fit", func(out io.Writer) error {
		e.encodings.Add(1)
		_, err := io.WriteString(out, w.Origin.ID)
		return err
	})
	if err != nil {
		return sink.Result{}, err
	}
	return e.fakeSink.Put(ctx, w, key)
}

// Two sinks that write a workout the same way share one encoding of it.
func TestTwoSinksOneEncoding(t *testing.T) {
	src := newFakeSource(6)
	var n atomic.Int64
	a := encodingSink{newFakeSink("strava", true), &n}
	b := encodingSink{newFakeSink("archive", false), &n}
	if _, err := New(src, []sink.Sink{a, b}, openStore(t), opts()).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ha, _ := a.state(); ha != 6 || n.Load() != 6 {
		t.Fatalf("%d held, %d encodings; want 6 workouts encoded once each", ha, n.Load())
	}
}

// matchingSink answers Match from what it holds, as Strava does from its
// listing.
type matchingSink struct{ *fakeSink }

func (m matchingSink) Match(ctx context.Context, w *workout.Workout, key string) (sink.Result, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if id, ok := m.held[key]; ok {
		return sink.Result{Outcome: sink.Duplicate, ActivityID: id, MatchedBy: "external_id"}, true, nil
	}
	return sink.Result{}, false, nil
}

// intentLedger counts the intents to upload recorded per workout.
type intentLedger struct {
	Ledger
	mu      sync.Mutex
	intents map[store.WorkoutID]int
}

func (l *intentLedger) MarkUploading(ctx context.Context, wid store.WorkoutID, sk, key, up string) error {
	if up == "" {
		l.mu.Lock()
		l.intents[wid]++
		l.mu.Unlock()
	}
	return l.Ledger.MarkUploading(ctx, wid, sk, key, up)
}

// A workout the sink already holds is recorded as a duplicate without an
// intent to upload first, so no crash can leave it uploading.
func TestHeldWorkoutNeedsNoIntent(t *testing.T) {
	src := newFakeSource(4)
	sk := matchingSink{newFakeSink("strava", true)}
	sk.held["fake-1001"] = "777" // posted another way
	st := openStore(t)
	led := &intentLedger{Ledger: st, intents: map[store.WorkoutID]int{}}
	rep, err := New(src, []sink.Sink{sk}, led, opts()).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if sr := rep.Sinks["strava"]; sr.Duplicates != 1 || sr.Created != 3 {
		t.Fatalf("report %+v", sr)
	}
	ws, _, err := st.Workouts(context.Background(), store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		want := 1
		if w.Workout.Key() == "fake-1001" {
			want = 0
		}
		if got := led.intents[w.Workout.ID]; got != want {
			t.Errorf("%s: %d intents to upload recorded, want %d", w.Workout.Key(), got, want)
		}
	}
}
