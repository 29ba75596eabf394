//go:build unix

package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the ledger's driver, for the time-travel step

	stravaemu "github.com/bandsync/bandsync/internal/emulator/strava"
	zeppemu "github.com/bandsync/bandsync/internal/emulator/zepp"
	stravaapi "github.com/bandsync/bandsync/internal/sink/strava/api"
	"github.com/bandsync/bandsync/internal/store"
	"github.com/bandsync/bandsync/internal/workout"
)

// This file and watch_test.go run the real bandsync binary (built once per
// test with go build) against the Zepp and Strava emulators served from the
// test process, and judge the outcome on the Strava emulator itself.

var killSeed = flag.Uint64("kill-seed", 2024, "seed of TestKill9ExactlyOnce's kill moments")

// e2eAccount is the emulated Zepp account the end-to-end tests log in to.
const (
	e2eEmail    = "runner@bandsync.example"
	e2ePassword = "demo-password"
)

// e2e is one end-to-end set-up: a built binary, both emulators and a data
// directory, with the environment that points bandsync at them.
type e2e struct {
	t       *testing.T
	bin     string
	zepp    *zeppemu.Server
	strava  *stravaemu.Server
	dataDir string
	env     []string
	// workouts are the generated workouts on the Zepp account, by seed.
	workouts []workout.Workout
	// zeppLink holds the IDs of the activities seeded as posted by Zepp's
	// own Strava link.
	zeppLink map[int64]bool
	// processingDelay is how long the Strava emulator processes an upload.
	processingDelay time.Duration
}

// e2eOptions describe the world an end-to-end test starts in.
type e2eOptions struct {
	Workouts        int
	Seed            int64
	ZeppLinkEvery   int // every so many workouts are already on Strava (0: none)
	ProcessingDelay time.Duration
}

// newE2E builds the binary, starts the emulators and authorizes bandsync
// with both through the binary's own `auth` commands.
func newE2E(t *testing.T, o e2eOptions) *e2e {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test of the built binary: skipped with -short")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the binary with")
	}
	tmp := t.TempDir()
	e := &e2e{t: t, bin: filepath.Join(tmp, "bandsync"), dataDir: filepath.Join(tmp, "data"), zeppLink: map[int64]bool{}, processingDelay: o.ProcessingDelay}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, gobin, "build", "-o", e.bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	e.zepp = zeppemu.New(zeppemu.Options{})
	e.zepp.AddAccount(zeppemu.Account{Email: e2eEmail, Password: e2ePassword, Country: "DE", Region: "eu-central-1"})
	if err := e.zepp.AddGenerated(e2eEmail, o.Workouts, o.Seed); err != nil {
		t.Fatal(err)
	}
	zurl, stop, err := e.zepp.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stop() })
	e.workouts = zeppemu.Generate(o.Workouts, o.Seed)

	big := stravaapi.Pair{Quarter: 1 << 30, Day: 1 << 30}
	e.strava = stravaemu.New(stravaemu.Options{ProcessingDelay: o.ProcessingDelay, Limits: stravaemu.Limits{Overall: big, Read: big}})
	if o.ZeppLinkEvery > 0 {
		for i := range o.Workouts {
			if i%o.ZeppLinkEvery == o.ZeppLinkEvery/2 {
				w := zeppemu.GenerateOne(o.Seed, i)
				e.zeppLink[e.strava.AddZeppLink(&w)] = true
			}
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: e.strava, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	e.env = append(os.Environ(),
		"BANDSYNC_DATA_DIR="+e.dataDir,
		"BANDSYNC_TOKEN_STORE=file",
		"BANDSYNC_ZEPP_URL="+zurl,
		"BANDSYNC_STRAVA_URL=http://"+ln.Addr().String(),
		"BANDSYNC_STRAVA_CLIENT_ID=12345",
		"BANDSYNC_STRAVA_CLIENT_SECRET=emulator-secret",
		"XDG_CONFIG_HOME="+filepath.Join(tmp, "config"),
		"XDG_DATA_HOME="+filepath.Join(tmp, "xdg-data"),
		"BROWSER=", // never open a real browser
	)
	e.authorize()
	return e
}

// command returns the binary with args in the test's environment.
func (e *e2e) command(args ...string) *exec.Cmd {
	cmd := exec.Command(e.bin, args...)
	cmd.Env = e.env
	return cmd
}

// run runs the binary to its end (at most limit) and returns its exit code
// and output.
func (e *e2e) run(limit time.Duration, stdin string, args ...string) (code int, stdout, stderr string) {
	e.t.Helper()
	cmd := e.command(args...)
	var out, errb bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), &out, &errb
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	return e.wait(cmd, limit), out.String(), errb.String()
}

// wait waits for cmd to exit, killing it after limit (a failure).
func (e *e2e) wait(cmd *exec.Cmd, limit time.Duration) int {
	e.t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return exitCode(e.t, err)
	case <-time.After(limit):
		_ = cmd.Process.Kill()
		<-done
		e.t.Fatalf("%s did not exit within %s", strings.Join(cmd.Args, " "), limit)
		return -1
	}
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return -int(ws.Signal())
		}
		return ee.ExitCode()
	}
	t.Fatalf("wait: %v", err)
	return -1
}

// authorize logs in to Zepp with the password on standard input, and
// authorizes Strava as a person would: bandsync prints the URL, the
// "browser" (this test) opens it and follows the redirects to bandsync's
// callback.
func (e *e2e) authorize() {
	t := e.t
	if code, _, errs := e.run(time.Minute, e2ePassword+"\n", "auth", "zepp", "--email", e2eEmail, "--password-stdin"); code != 0 {
		t.Fatalf("auth zepp: exit %d\n%s", code, errs)
	}
	cmd := e.command("auth", "strava", "--no-browser")
	var out bytes.Buffer
	cmd.Stdout = &out
	pr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	const prompt = "Open this URL to authorize: "
	var authURL, seen string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		seen += sc.Text() + "\n"
		if u, ok := strings.CutPrefix(sc.Text(), prompt); ok {
			authURL = strings.TrimSpace(u)
			break
		}
	}
	if authURL == "" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("auth strava printed no URL:\n%s", seen)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Get(authURL)
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("open the authorization URL: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if code := e.wait(cmd, time.Minute); code != 0 || resp.StatusCode != http.StatusOK {
		t.Fatalf("auth strava: exit %d, callback page %d\n%s", code, resp.StatusCode, out.String())
	}
}

// tally is what the Strava emulator holds, per generated workout.
type tally struct {
	// byWorkout counts the activities standing for each workout (by index
	// into e.workouts).
	byWorkout []int
	uploaded  int // activities bandsync uploaded (with its external_id)
	zeppLink  int // seeded activities
	stray     []string
}

// tally matches every activity on the Strava emulator to a generated
// workout by start time (the generator spaces workouts about a day apart),
// independently of bandsync's ledger.
func (e *e2e) tally() tally {
	byStart := map[int64]int{}
	for i, w := range e.workouts {
		byStart[w.Start.Unix()] = i
	}
	tl := tally{byWorkout: make([]int, len(e.workouts))}
	for _, a := range e.strava.Activities() {
		i, ok := byStart[a.StartDate.Unix()]
		if !ok {
			tl.stray = append(tl.stray, fmt.Sprintf("activity %d starts at %s, which no workout does", a.ID, a.StartDate))
			continue
		}
		tl.byWorkout[i]++
		switch {
		case e.zeppLink[a.ID]:
			tl.zeppLink++
		case a.ExternalID != nil && strings.HasPrefix(*a.ExternalID, "zepp-"):
			tl.uploaded++
		default:
			tl.stray = append(tl.stray, fmt.Sprintf("activity %d of %s came neither from bandsync nor Zepp's link", a.ID, a.StartDate))
		}
	}
	return tl
}

// missing returns the indexes of the workouts Strava lacks; it fails the
// test for any workout Strava holds more than once.
func (tl tally) check(t *testing.T) (missing []int) {
	t.Helper()
	for i, n := range tl.byWorkout {
		switch {
		case n == 0:
			missing = append(missing, i)
		case n > 1:
			t.Errorf("workout %d is on Strava %d times", i, n)
		}
	}
	for _, s := range tl.stray {
		t.Error(s)
	}
	return missing
}

// ledger opens the store read-only and returns the Strava deliveries by
// workout start (Unix seconds).
func (e *e2e) ledger() map[int64]store.Delivery {
	e.t.Helper()
	ctx := context.Background()
	st, err := store.OpenReadOnly(ctx, e.dataDir)
	if err != nil {
		e.t.Fatalf("open the ledger after the runs: %v", err)
	}
	defer st.Close()
	list, _, err := st.Workouts(ctx, store.Filter{})
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[int64]store.Delivery{}
	for _, ws := range list {
		d, ok := ws.Delivery("strava")
		if !ok {
			e.t.Errorf("workout %s has no Strava delivery", ws.Workout.Key())
			continue
		}
		out[ws.Workout.Start.Unix()] = d
	}
	return out
}

// checkLedger checks that the ledger agrees with the emulator: every
// workout done (uploaded by bandsync, as the activity that carries its key)
// or duplicate (of the seeded activity), and nothing else.
func (e *e2e) checkLedger() {
	t := e.t
	t.Helper()
	dels := e.ledger()
	if len(dels) != len(e.workouts) {
		t.Errorf("the ledger knows %d workouts, the Zepp account holds %d", len(dels), len(e.workouts))
	}
	acts := map[string]stravaapi.DetailedActivity{}
	for _, a := range e.strava.Activities() {
		acts[stravaapi.FormatID(a.ID)] = a
	}
	var done, dup int
	for i, w := range e.workouts {
		d, ok := dels[w.Start.Unix()]
		if !ok {
			t.Errorf("workout %d (%s) is not in the ledger", i, w.Start)
			continue
		}
		a, onStrava := acts[d.ActivityID]
		switch d.State {
		case store.Done:
			done++
			if !onStrava || a.ExternalID == nil || *a.ExternalID != d.Key+".fit" {
				t.Errorf("workout %d: ledger says done as activity %q, which Strava does not hold under %s.fit", i, d.ActivityID, d.Key)
			}
		case store.Duplicate:
			dup++
			if !onStrava || !e.zeppLink[a.ID] {
				t.Errorf("workout %d: ledger says duplicate of %q, which is not the Zepp-link activity", i, d.ActivityID)
			}
		default:
			t.Errorf("workout %d: Strava delivery is %s (upload ID %q, since %s)", i, d.State, d.UploadID, d.UploadingSince)
		}
	}
	if done+dup != len(e.workouts) || dup != len(e.zeppLink) {
		t.Errorf("ledger: %d done + %d duplicate, want %d in all with %d duplicates", done, dup, len(e.workouts), len(e.zeppLink))
	}
}

// backdateLostUploads moves the start of every Strava upload recorded
// as begun but with no upload ID back by d, as if d had passed since, and
// returns how many it moved. The binary reads the real clock, so this is how
// the test lets the time pass after which the Strava sink calls an upload
// whose answer was lost absent (strava.Options.LostAfter, 10 minutes). Run
// it only while no bandsync is running.
func (e *e2e) backdateLostUploads(d time.Duration) int64 {
	e.t.Helper()
	ctx := context.Background()
	st, err := store.OpenReadOnly(ctx, e.dataDir)
	if err != nil {
		e.t.Fatal(err)
	}
	path := st.Path()
	st.Close()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	res, err := db.ExecContext(ctx, `UPDATE deliveries SET uploading_since_ms = uploading_since_ms - ?
		WHERE sink = 'strava' AND state = 'uploading' AND upload_id IS NULL`, d.Milliseconds())
	if err != nil {
		e.t.Fatalf("backdate the lost uploads: %v", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// afterUploads fires extra after the emulator holds n uploads (polling it
// every millisecond); never, if that does not happen.
func afterUploads(s *stravaemu.Server, n int, extra time.Duration) <-chan time.Time {
	c := make(chan time.Time, 1)
	go func() {
		for s.Uploads() < n {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(extra)
		c <- time.Now()
	}()
	return c
}

// TestKill9ExactlyOnce kills `bandsync sync` with SIGKILL at seeded random
// moments, then lets it run to completion: every workout must end up on the
// Strava emulator exactly once, as bandsync's upload or as the activity
// Zepp's own link posted, and the ledger must agree.
//
// A kill between recording an upload's intent (uploading) and Strava
// receiving the POST leaves a delivery uploading with no upload ID: bandsync
// cannot tell it from an upload whose answer was lost, so the Strava sink
// waits LostAfter (10 minutes) before it calls it absent and sends it again.
// The first complete run therefore leaves those workouts missing — never
// twice — and the test checks exactly that; it then lets that time pass in
// the ledger (backdateLostUploads) and a last run must deliver them.
func TestKill9ExactlyOnce(t *testing.T) {
	t.Parallel()
	const (
		workouts = 150
		kills    = 24
	)
	e := newE2E(t, e2eOptions{Workouts: workouts, Seed: 11, ZeppLinkEvery: 8, ProcessingDelay: 50 * time.Millisecond})
	rng := rand.New(rand.NewPCG(*killSeed, 6))
	t.Logf("kill moments from -kill-seed %d", *killSeed)
	began := time.Now()

	for k := 1; k <= kills; k++ {
		// A run takes a fraction of a second, so a moment drawn from a
		// clock alone mostly lands after it ended. One kill in three comes
		// at a random time in the first 300 ms (logging in, listing, the
		// first uploads); the others once Strava has received 1 to 3 more
		// uploads, plus up to 5 ms: in the thick of uploading, recording
		// and confirming.
		var moment string
		var at func() <-chan time.Time
		if rng.IntN(3) == 0 {
			delay := time.Duration(5+rng.IntN(300)) * time.Millisecond
			moment = fmt.Sprintf("at %d ms", delay.Milliseconds())
			at = func() <-chan time.Time { return time.After(delay) }
		} else {
			more, extra := 1+rng.IntN(3), time.Duration(rng.IntN(6))*time.Millisecond
			target := e.strava.Uploads() + more
			moment = fmt.Sprintf("%d uploads on + %d ms", more, extra.Milliseconds())
			at = func() <-chan time.Time { return afterUploads(e.strava, target, extra) }
		}
		cmd := e.command("sync", "--quiet")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			// It finished before its moment; it must have succeeded (a
			// stale lock or a damaged ledger would fail it).
			if code := exitCode(t, err); code != 0 {
				t.Fatalf("run %d ended by itself before its moment (%s) with exit %d", k, moment, code)
			}
			t.Logf("run %d ended by itself before its moment (%s)", k, moment)
		case <-at():
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			if code := exitCode(t, <-done); code != -int(syscall.SIGKILL) && code != 0 {
				t.Fatalf("run %d: exit %d, want killed", k, code)
			}
		}
		t.Logf("kill %2d %s: Strava holds %d activities from %d uploads", k, moment, len(e.strava.Activities()), e.strava.Uploads())
	}
	afterKills := time.Since(began)

	// Run to completion with the real clock.
	completeRun := func(what string) {
		t.Helper()
		for attempt := 1; ; attempt++ {
			code, out, errs := e.run(2*time.Minute, "", "sync", "--quiet")
			t.Logf("%s, run %d: exit %d\n%s%s", what, attempt, code, out, errs)
			if code == 0 {
				return
			}
			if attempt == 3 {
				t.Fatalf("%s: sync did not complete in %d runs", what, attempt)
			}
		}
	}
	completeRun("after the kills")
	tl := e.tally()
	missing := tl.check(t)
	t.Logf("%d kills in %s, complete after %s: %d uploaded, %d by Zepp's link, %d waiting out LostAfter",
		kills, afterKills.Round(time.Millisecond), time.Since(began).Round(time.Millisecond), tl.uploaded, tl.zeppLink, len(missing))
	if got := e.strava.Uploads(); got != tl.uploaded {
		t.Errorf("Strava received %d uploads for %d uploaded activities: something was sent twice", got, tl.uploaded)
	}
	// Every workout Strava lacks must be one of those lost-answer uploads.
	dels := e.ledger()
	for _, i := range missing {
		d := dels[e.workouts[i].Start.Unix()]
		if d.State != store.Uploading || d.UploadID != "" {
			t.Errorf("workout %d is not on Strava, and its delivery is %s (upload ID %q), not an upload waiting to be called lost", i, d.State, d.UploadID)
		}
	}
	// status tells them apart from the accepted uploads, and when they
	// are looked for again.
	code, out, errs := e.run(time.Minute, "", "status", "--json")
	var st struct {
		Sinks map[string]struct {
			Uploading         int        `json:"uploading"`
			Unanswered        int        `json:"unanswered"`
			UnansweredRecheck *time.Time `json:"unanswered_recheck"`
		} `json:"sinks"`
	}
	if err := json.Unmarshal([]byte(out), &st); code != 0 || err != nil {
		t.Fatalf("status --json: exit %d, %v\n%s%s", code, err, out, errs)
	}
	if s := st.Sinks["strava"]; s.Unanswered != len(missing) || s.Uploading < len(missing) ||
		(len(missing) > 0) != (s.UnansweredRecheck != nil && s.UnansweredRecheck.After(time.Now())) {
		t.Errorf("status: %d uploading, %d unanswered, recheck %v; want %d unanswered, rechecked later", s.Uploading, s.Unanswered, s.UnansweredRecheck, len(missing))
	}
	if t.Failed() {
		return
	}

	// Let LostAfter pass: the lost uploads are then checked again, found
	// absent and sent once.
	if n := e.backdateLostUploads(61 * time.Minute); n != int64(len(missing)) {
		t.Errorf("backdated %d lost uploads, want %d (those Strava lacks)", n, len(missing))
	}
	completeRun("after LostAfter")
	tl = e.tally()
	if missing := tl.check(t); len(missing) > 0 {
		t.Errorf("still missing on Strava after LostAfter: workouts %v", missing)
	}
	if got := e.strava.Uploads(); got != tl.uploaded {
		t.Errorf("Strava received %d uploads for %d uploaded activities: something was sent twice", got, tl.uploaded)
	}
	if tl.uploaded+tl.zeppLink != workouts || tl.zeppLink != len(e.zeppLink) {
		t.Errorf("Strava holds %d uploaded + %d Zepp-link activities, want %d in all", tl.uploaded, tl.zeppLink, workouts)
	}
	e.checkLedger()
	t.Logf("done after %s", time.Since(began).Round(time.Millisecond))
}
