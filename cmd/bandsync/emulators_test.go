package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	stravaemu "github.com/bandsync/bandsync/internal/emulator/strava"
	zeppemu "github.com/bandsync/bandsync/internal/emulator/zepp"
	stravaapi "github.com/bandsync/bandsync/internal/sink/strava/api"
)

// The emulated accounts the scripts log in to.
const (
	scriptEmail    = "runner@bandsync.example"
	scriptPassword = "demo-password"
)

// cmdEmulators starts the Zepp and Strava emulators inside the test process
// for one script and points bandsync at them:
//
//	emulators [-workouts N] [-zepp-link K] [-seed S]
//
// N generated workouts are on the Zepp account; every K-th was already
// posted to Strava by "Zepp's own link". The script's environment gets
// BANDSYNC_ZEPP_URL, BANDSYNC_STRAVA_URL and the Strava app's credentials.
func cmdEmulators(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! emulators")
	}
	fs := flag.NewFlagSet("emulators", flag.ContinueOnError)
	n := fs.Int("workouts", 10, "")
	every := fs.Int("zepp-link", 0, "")
	seed := fs.Int64("seed", 7, "")
	if err := fs.Parse(args); err != nil {
		ts.Fatalf("emulators: %v", err)
	}
	z := zeppemu.New(zeppemu.Options{})
	z.AddAccount(zeppemu.Account{Email: scriptEmail, Password: scriptPassword, Country: "DE", Region: "eu-central-1"})
	if err := z.AddGenerated(scriptEmail, *n, *seed); err != nil {
		ts.Fatalf("emulators: %v", err)
	}
	zurl, stop, err := z.Start("127.0.0.1:0")
	ts.Check(err)
	ts.Defer(func() { _ = stop() })

	big := stravaapi.Pair{Quarter: 1 << 30, Day: 1 << 30}
	s := stravaemu.New(stravaemu.Options{ProcessingDelay: 50 * time.Millisecond, Limits: stravaemu.Limits{Overall: big, Read: big}})
	for i := range *n {
		if *every > 0 && i%*every == 0 {
			w := zeppemu.GenerateOne(*seed, i)
			s.AddZeppLink(&w)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	ts.Defer(func() { _ = srv.Close() })

	running.Store(ts, &emulators{zepp: z, strava: s})
	ts.Defer(func() { running.Delete(ts) })
	ts.Setenv("BANDSYNC_ZEPP_URL", zurl)
	ts.Setenv("BANDSYNC_STRAVA_URL", "http://"+ln.Addr().String())
	ts.Setenv("BANDSYNC_STRAVA_CLIENT_ID", "12345")
	ts.Setenv("BANDSYNC_STRAVA_CLIENT_SECRET", "emulator-secret")
	ts.Setenv("ZEPP_EMAIL", scriptEmail)
}

// emulators are one script's running emulators.
type emulators struct {
	zepp   *zeppemu.Server
	strava *stravaemu.Server
}

var running sync.Map // *testscript.TestScript → *emulators

func emulatorsOf(ts *testscript.TestScript) *emulators {
	e, ok := running.Load(ts)
	if !ok {
		ts.Fatalf("no emulators running: call emulators first")
	}
	return e.(*emulators)
}

// cmdEmulate changes the running emulators as the world might:
//
//	emulate strava-revoke           the athlete removes the app on strava.com
//	emulate strava-expire           every access token expires
//	emulate zepp-add N SEED         N more workouts appear on the Zepp account
//	emulate zepp-encrypt-oldest     the oldest workout's detail comes back encrypted
func cmdEmulate(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: emulate strava-revoke|strava-expire|zepp-add N SEED|zepp-encrypt-oldest")
	}
	e := emulatorsOf(ts)
	switch args[0] {
	case "strava-revoke":
		e.strava.Revoke()
	case "strava-expire":
		e.strava.ExpireAccessTokens()
	case "zepp-add":
		if len(args) != 3 {
			ts.Fatalf("usage: emulate zepp-add N SEED")
		}
		n, err := strconv.Atoi(args[1])
		ts.Check(err)
		seed, err := strconv.ParseInt(args[2], 10, 64)
		ts.Check(err)
		ts.Check(e.zepp.AddGenerated(scriptEmail, n, seed))
	case "zepp-encrypt-oldest":
		ws, err := e.zepp.Workouts(scriptEmail)
		ts.Check(err)
		if len(ws) == 0 {
			ts.Fatalf("emulate: no workouts")
		}
		oldest := ws[len(ws)-1] // newest first
		ts.Check(e.zepp.Encrypt(scriptEmail, oldest.TrackID, oldest.Source))
	default:
		ts.Fatalf("emulate: unknown change %q", args[0])
	}
}

// cmdMode checks a file's permission bits: mode FILE 0600.
func cmdMode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: mode FILE PERM")
	}
	fi, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	want, err := strconv.ParseUint(args[1], 8, 32)
	ts.Check(err)
	if got := uint64(fi.Mode().Perm()); (got == want) == neg {
		ts.Fatalf("%s has mode %04o, want %s%04o", args[0], got, map[bool]string{true: "not ", false: ""}[neg], want)
	}
}

// fakeBrowser is a "browser" for the OAuth flow: it opens the URL and
// follows redirects, as a person clicking "Authorize" would.
//
//	fake-browser URL
//	fake-browser -tamper-state URL   (answers the callback with another state)
func fakeBrowser() int {
	args := os.Args[1:]
	tamper := len(args) > 0 && args[0] == "-tamper-state"
	if tamper {
		args = args[1:]
	}
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: fake-browser [-tamper-state] URL")
		return 2
	}
	client := &http.Client{Timeout: 30 * time.Second}
	if tamper {
		client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if strings.HasPrefix(req.URL.Host, "127.0.0.1") && req.URL.Path == "/callback" {
				q := req.URL.Query()
				q.Set("state", "forged-"+q.Get("state"))
				req.URL.RawQuery = q.Encode()
			}
			return nil
		}
	}
	resp, err := client.Get(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake-browser:", err)
		return 1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	fmt.Printf("%d %s\n", resp.StatusCode, strings.TrimSpace(string(body)))
	return 0
}

// httpGet prints the status of a GET without following redirects:
// http-get URL.
func httpGet() int {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: http-get URL")
		return 2
	}
	client := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "http-get:", err)
		return 1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	fmt.Printf("%d %s %s\n", resp.StatusCode, resp.Header.Get("Location"), strings.TrimSpace(string(body)))
	return 0
}
