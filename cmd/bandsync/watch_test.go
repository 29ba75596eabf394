//go:build unix

package main

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	stravaemu "github.com/bandsync/bandsync/internal/emulator/strava"
	zeppemu "github.com/bandsync/bandsync/internal/emulator/zepp"
	"github.com/bandsync/bandsync/internal/format/zeppjson"
	"github.com/bandsync/bandsync/internal/store"
	"github.com/bandsync/bandsync/internal/workout"
)

// lockedBuffer collects a running process's output for the test to read.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// watcher is a running `bandsync sync --watch`.
type watcher struct {
	e        *e2e
	out, err lockedBuffer
	pid      int
	// done is closed when the process has exited; waitErr is then its
	// Wait error.
	done    chan struct{}
	waitErr error
}

// code returns the exit code of a watcher that has exited.
func (w *watcher) code() int {
	<-w.done
	return exitCode(w.e.t, w.waitErr)
}

// startWatch starts `bandsync sync --watch --interval interval --quiet`.
// Intervals under a minute need BANDSYNC_ALLOW_SHORT_INTERVAL.
func (e *e2e) startWatch(interval time.Duration) *watcher {
	e.t.Helper()
	w := &watcher{e: e, done: make(chan struct{})}
	cmd := e.command("sync", "--watch", "--interval", interval.String(), "--quiet")
	cmd.Env = append(cmd.Env, "BANDSYNC_ALLOW_SHORT_INTERVAL=1")
	cmd.Stdout, cmd.Stderr = &w.out, &w.err
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	w.pid = cmd.Process.Pid
	go func() { w.waitErr = cmd.Wait(); close(w.done) }()
	e.t.Cleanup(func() {
		_ = cmd.Process.Kill() // when the test failed before stopping it
		<-w.done
	})
	return w
}

// stop sends SIGTERM and returns the exit code and how long the exit took;
// it fails the test when the process is still running after limit.
func (w *watcher) stop(limit time.Duration) (int, time.Duration) {
	t := w.e.t
	t.Helper()
	sent := time.Now()
	if err := syscall.Kill(w.pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-w.done:
		return w.code(), time.Since(sent)
	case <-time.After(limit):
		t.Fatalf("bandsync sync --watch still running %s after SIGTERM\nstdout:\n%s\nstderr:\n%s", limit, w.out.String(), w.err.String())
		return -1, 0
	}
}

// checkRunning fails the test when the watcher ended by itself.
func (w *watcher) checkRunning() {
	t := w.e.t
	t.Helper()
	select {
	case <-w.done:
		t.Fatalf("bandsync sync --watch exited by itself (%d)\nstdout:\n%s\nstderr:\n%s", w.code(), w.out.String(), w.err.String())
	default:
	}
}

// waitAll waits until the Strava emulator holds every workout, and fails
// the test if any is there twice or the deadline passes first.
func (w *watcher) waitAll(limit time.Duration) time.Duration {
	t := w.e.t
	t.Helper()
	began := time.Now()
	for {
		tl := w.e.tally()
		missing := 0
		for i, n := range tl.byWorkout {
			if n > 1 {
				t.Fatalf("workout %d is on Strava %d times", i, n)
			}
			if n == 0 {
				missing++
			}
		}
		if missing == 0 {
			return time.Since(began)
		}
		w.checkRunning()
		if time.Since(began) > limit {
			t.Fatalf("%d of %d workouts still not on Strava after %s\nstdout:\n%s\nstderr:\n%s",
				missing, len(tl.byWorkout), limit, w.out.String(), w.err.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// addRecent puts n workouts that started in the last days on the Zepp
// account, as a band syncing new workouts would. (Generated workouts start
// in mid-2025, in history bandsync has listed completely; a watching sync
// lists only the recent past again, as bands sync late but not years late.)
func (e *e2e) addRecent(n int, seed int64) {
	e.t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	for i := range n {
		// Hours apart from each other and from earlier additions, so that
		// none looks like another (bandsync matches starts within minutes).
		k := len(e.workouts)
		w := zeppemu.GenerateOne(seed, i)
		shiftWorkout(&w, now.Add(-time.Duration(2+k*7)*time.Hour).Sub(w.Start))
		sum, det, err := zeppjson.Encode(&w)
		if err != nil {
			e.t.Fatal(err)
		}
		if _, _, err := e.zepp.AddRaw(e2eEmail, sum, det); err != nil {
			e.t.Fatal(err)
		}
		e.workouts = append(e.workouts, w)
	}
}

// shiftWorkout moves every instant of w by d.
func shiftWorkout(w *workout.Workout, d time.Duration) {
	w.Start = w.Start.Add(d)
	for i := range w.Samples {
		w.Samples[i].Time = w.Samples[i].Time.Add(d)
	}
	for i := range w.Pauses {
		w.Pauses[i].Start, w.Pauses[i].End = w.Pauses[i].Start.Add(d), w.Pauses[i].End.Add(d)
	}
	for i := range w.Laps {
		w.Laps[i].Start = w.Laps[i].Start.Add(d)
	}
	for i := range w.Lengths {
		w.Lengths[i].Start = w.Lengths[i].Start.Add(d)
	}
}

// checkStopped checks the ledger a cleanly stopped bandsync left: it opens,
// and every Strava upload it began has a known end or an upload ID that
// Strava knows (accepted, confirmed by the next run). An upload left with
// no upload ID would make the next run wait an hour for it (lostAfter).
// It returns how many uploads are awaiting confirmation.
func (e *e2e) checkStopped() (inFlight int) {
	e.t.Helper()
	for start, d := range e.ledger() {
		if d.State != store.Uploading {
			continue
		}
		inFlight++
		id, err := strconv.ParseInt(d.UploadID, 10, 64)
		if err != nil {
			e.t.Errorf("the workout of %s is left uploading with upload ID %q after a clean stop", time.Unix(start, 0).UTC(), d.UploadID)
			continue
		}
		if _, ok := e.strava.Upload(id); !ok {
			e.t.Errorf("the workout of %s is left uploading as upload %d, which Strava does not know", time.Unix(start, 0).UTC(), id)
		}
	}
	return inFlight
}

// TestWatchNewWorkoutsAndSIGTERM runs `bandsync sync --watch`: the
// backlog reaches Strava, workouts added on the Zepp account later arrive
// within one interval, SIGTERM ends it with exit 0, and the ledger it
// leaves needs nothing more.
func TestWatchNewWorkoutsAndSIGTERM(t *testing.T) {
	t.Parallel()
	const interval = 2 * time.Second
	// runMargin bounds one sync run against the emulators: the Zepp
	// client's politeness pacing (2 requests a second) dominates it.
	const runMargin = 8 * time.Second
	e := newE2E(t, e2eOptions{Workouts: 12, Seed: 21, ZeppLinkEvery: 6, ProcessingDelay: 50 * time.Millisecond})
	w := e.startWatch(interval)
	took := w.waitAll(time.Minute)
	t.Logf("backlog of %d on Strava after %s", len(e.workouts), took.Round(time.Millisecond))

	// New workouts at the source are on Strava within one interval (and
	// the run that finds them).
	for round, seed := range []int64{101, 102} {
		e.addRecent(2, seed)
		took := w.waitAll(interval + runMargin)
		t.Logf("round %d: new workouts on Strava %s after they appeared on Zepp", round+1, took.Round(time.Millisecond))
	}
	uploads := e.strava.Uploads()

	code, took := w.stop(10 * time.Second)
	t.Logf("SIGTERM: exit %d after %s", code, took.Round(time.Millisecond))
	if code != 0 {
		t.Fatalf("sync --watch exited %d after SIGTERM, want 0\nstdout:\n%s\nstderr:\n%s", code, w.out.String(), w.err.String())
	}
	if missing := e.tally().check(t); len(missing) > 0 {
		t.Errorf("missing on Strava: %v", missing)
	}
	if n := e.checkStopped(); n > 0 {
		t.Logf("%d uploads accepted, to be confirmed by the next run", n)
	}

	// A plain sync afterwards has nothing to send.
	before := e.strava.Count(stravaemu.RouteUpload)
	if code, out, errs := e.run(time.Minute, "", "sync", "--quiet"); code != 0 {
		t.Fatalf("sync after the watch: exit %d\n%s%s", code, out, errs)
	}
	if got := e.strava.Count(stravaemu.RouteUpload); got != before {
		t.Errorf("sync after the watch sent %d uploads, want none", got-before)
	}
	if got := e.strava.Uploads(); got != uploads {
		t.Errorf("Strava received %d uploads after the watch stopped", got-uploads)
	}
	tl := e.tally()
	tl.check(t)
	if got := e.strava.Uploads(); got != tl.uploaded {
		t.Errorf("Strava received %d uploads for %d uploaded activities: something was sent twice", got, tl.uploaded)
	}
	e.checkLedger()
}

// TestWatchSIGTERMMidUpload stops a watching backfill with SIGTERM just
// after its first upload reached Strava: it must exit 0 having recorded
// the outcome of every upload it began, and a plain sync then completes
// the backfill with every workout on Strava exactly once.
func TestWatchSIGTERMMidUpload(t *testing.T) {
	t.Parallel()
	const workouts = 60
	e := newE2E(t, e2eOptions{Workouts: workouts, Seed: 31, ZeppLinkEvery: 10, ProcessingDelay: 300 * time.Millisecond})
	w := e.startWatch(time.Minute)
	began := time.Now()
	for e.strava.Count(stravaemu.RouteUpload) == 0 {
		w.checkRunning()
		if time.Since(began) > time.Minute {
			t.Fatalf("no upload within a minute\nstderr:\n%s", w.err.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
	code, took := w.stop(15 * time.Second)
	t.Logf("first upload after %s; SIGTERM: exit %d after %s, %d uploads received by then",
		time.Since(began).Round(time.Millisecond)-took, code, took.Round(time.Millisecond), e.strava.Uploads())
	if code != 0 {
		t.Fatalf("sync --watch exited %d after SIGTERM, want 0\nstdout:\n%s\nstderr:\n%s", code, w.out.String(), w.err.String())
	}
	// Uploads already under way finish (one per worker); no new one starts.
	if got, most := e.strava.Uploads(), 8; got > most {
		t.Errorf("%d uploads by the time SIGTERM took effect, want at most %d: the stop did not stop the backfill", got, most)
	}
	time.Sleep(2 * e.processingDelay) // let Strava finish what it received
	mid := e.tally()
	mid.check(t)
	if got := e.strava.Uploads(); got != mid.uploaded {
		t.Errorf("Strava received %d uploads for %d uploaded activities", got, mid.uploaded)
	}
	e.checkStopped()

	ctx := context.Background()
	st, err := store.OpenReadOnly(ctx, e.dataDir)
	if err != nil {
		t.Fatalf("the ledger after SIGTERM: %v", err)
	}
	counts, err := st.Counts(ctx)
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ledger after SIGTERM: %v", fmt.Sprint(counts["strava"].States))

	if code, out, errs := e.run(2*time.Minute, "", "sync", "--quiet"); code != 0 {
		t.Fatalf("sync after the stop: exit %d\n%s%s", code, out, errs)
	}
	tl := e.tally()
	if missing := tl.check(t); len(missing) > 0 {
		t.Errorf("missing on Strava after the completing run: %v", missing)
	}
	if got := e.strava.Uploads(); got != tl.uploaded {
		t.Errorf("Strava received %d uploads for %d uploaded activities: something was sent twice", got, tl.uploaded)
	}
	e.checkLedger()
	t.Logf("complete after %s", time.Since(began).Round(time.Millisecond))
}
