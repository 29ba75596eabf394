package cli

import (
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/bandsync/bandsync/internal/config"
	stravaemu "github.com/bandsync/bandsync/internal/emulator/strava"
	zeppemu "github.com/bandsync/bandsync/internal/emulator/zepp"
	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/progress"
	"github.com/bandsync/bandsync/internal/sink"
	stravaapi "github.com/bandsync/bandsync/internal/sink/strava/api"
	"github.com/bandsync/bandsync/internal/store"
	"github.com/bandsync/bandsync/internal/syncer"
)

// DemoOptions are the options of `bandsync demo`.
type DemoOptions struct {
	IO       IOStreams
	Quiet    bool
	Workouts int
	Serve    bool
	Seed     int64
	JSON     bool
	// ProcessingDelay is how long the emulated Strava takes to process an
	// upload (default 100 ms; benchmarks use ~0).
	ProcessingDelay time.Duration
	// EmulatorDir is where the emulated Strava keeps uploaded files
	// (default: in the data dir). The sync benchmark keeps them apart, so
	// that bandsync's flushes of its own file system do not also write the
	// emulator's files.
	EmulatorDir string
}

// NewCmdDemo builds `bandsync demo`.
func NewCmdDemo(f *Factory) *cobra.Command {
	opts := &DemoOptions{}
	cmd := &cobra.Command{
		Use:   "demo [--workouts N] [--serve]",
		Short: "See bandsync work with no account: emulated Zepp and Strava on this machine",
		Long: `Run the whole of bandsync against built-in emulators of the Zepp cloud and
Strava on 127.0.0.1 — no account, no network. It logs in to the emulated Zepp
account and authorizes with the emulated Strava through the real login and
OAuth code, backfills N varied workouts (every sport, pauses, indoor ones
without GPS, several time zones, three real recorded workouts, and some that
"Zepp's own Strava link" already posted) to Strava and the archive with
progress, then prints what happened and checks it: every workout on Strava
exactly once, and Strava's moving time equal to the band's.

It uses a fresh temporary data directory unless --data-dir is given.`,
		Example: "  bandsync demo\n  bandsync demo --workouts 10000 --quiet",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.IO, opts.Quiet = f.IO, f.Quiet
			if opts.Workouts < 1 {
				return errclass.Usagef("--workouts must be at least 1")
			}
			return demoRun(cmd.Context(), f, opts)
		},
	}
	cmd.Flags().IntVar(&opts.Workouts, "workouts", 120, "how many workouts the emulated band has")
	cmd.Flags().BoolVar(&opts.Serve, "serve", false, "open the dashboard on the demo's data afterwards")
	cmd.Flags().Int64Var(&opts.Seed, "seed", 1, "seed of the generated workouts")
	return cmd
}

const (
	demoEmail    = "runner@bandsync.example"
	demoPassword = "demo-password"
	// demoZeppLinkEvery: every so many workouts, "Zepp's own link" posted
	// the workout to Strava before bandsync ran.
	demoZeppLinkEvery = 12
)

// demoEnv is a running demo: emulators and a data dir.
type demoEnv struct {
	zepp     *zeppemu.Server
	strava   *stravaemu.Server
	zeppURL  string
	strURL   string
	dataDir  string
	cleanup  []func()
	zeppLink int // activities seeded as Zepp's link
}

func (d *demoEnv) close() {
	for i := len(d.cleanup) - 1; i >= 0; i-- {
		d.cleanup[i]()
	}
}

// startDemo starts both emulators with the demo account and workouts.
func startDemo(f *Factory, opts *DemoOptions) (*demoEnv, error) {
	d := &demoEnv{}
	if f.dataDir != "" {
		dir, err := filepath.Abs(f.dataDir)
		if err != nil {
			return nil, err
		}
		if err := checkDemoDir(dir); err != nil {
			return nil, err
		}
		if isDemoDir(dir) {
			// An earlier demo's accounts and emulators are gone: start afresh.
			if err := os.RemoveAll(dir); err != nil {
				return nil, err
			}
		}
		d.dataDir = dir
	} else {
		dir, err := os.MkdirTemp("", "bandsync-demo-")
		if err != nil {
			return nil, fmt.Errorf("create the demo's data dir: %w", err)
		}
		d.dataDir = dir
		if !opts.Serve {
			d.cleanup = append(d.cleanup, func() { os.RemoveAll(dir) })
		}
	}
	if err := os.MkdirAll(d.dataDir, 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(d.dataDir, demoMarker), []byte("written by bandsync demo: this data dir belongs to emulated accounts\n"), 0o600); err != nil {
		return nil, err
	}
	d.zepp = zeppemu.New(zeppemu.Options{})
	d.zepp.AddAccount(zeppemu.Account{Email: demoEmail, Password: demoPassword, Country: "DE", Region: "eu-central-1"})
	n := opts.Workouts
	if n >= 20 {
		if err := d.zepp.AddFixtures(demoEmail); err != nil {
			return nil, err
		}
		n -= len(zeppemu.Fixtures())
	}
	if err := d.zepp.AddGenerated(demoEmail, n, opts.Seed); err != nil {
		return nil, err
	}
	url, stop, err := d.zepp.Start("127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start the Zepp emulator: %w", err)
	}
	d.zeppURL = url
	d.cleanup = append(d.cleanup, func() { _ = stop() })

	big := stravaapi.Pair{Quarter: 1 << 30, Day: 1 << 30}
	files := opts.EmulatorDir
	if files == "" {
		files = filepath.Join(d.dataDir, "strava-emulator")
	}
	if err := os.MkdirAll(files, 0o700); err != nil {
		return nil, err
	}
	delay := opts.ProcessingDelay
	if delay <= 0 {
		delay = 100 * time.Millisecond
	}
	d.strava = stravaemu.New(stravaemu.Options{ProcessingDelay: delay,
		Limits: stravaemu.Limits{Overall: big, Read: big}, FileDir: files})
	for i := range n {
		if i%demoZeppLinkEvery == demoZeppLinkEvery/2 {
			w := zeppemu.GenerateOne(opts.Seed, i)
			d.strava.AddZeppLink(&w)
			d.zeppLink++
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start the Strava emulator: %w", err)
	}
	srv := &http.Server{Handler: d.strava, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	d.strURL = "http://" + ln.Addr().String()
	d.cleanup = append(d.cleanup, func() { _ = srv.Close(); _ = d.strava.Close() })
	return d, nil
}

// demoMarker marks a data dir as a demo's: its tokens belong to emulated
// accounts and must never reach Strava or Zepp.
const demoMarker = ".bandsync-demo"

// isDemoDir reports whether dir holds a demo's data.
func isDemoDir(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, demoMarker))
	return err == nil
}

// checkDemoDir refuses to run the demo in a data dir that holds real data:
// the demo would replace its tokens with the emulators'.
func checkDemoDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 || isDemoDir(dir) {
		return nil // missing, empty, or a demo's
	}
	return errclass.Usagef("%s is not empty and not a demo's data dir: the demo would replace its tokens and mix emulated workouts into it; give a new or empty folder (or leave --data-dir out)", dir)
}

// demoFactory is a Factory whose configuration points at the emulators.
func demoFactory(f *Factory, d *demoEnv) *Factory {
	c := config.Default()
	c.DataDir = d.dataDir
	c.TokenStore = "file"
	c.Strava.URL = d.strURL
	c.Strava.ClientID, c.Strava.ClientSecret = "12345", "emulator-secret" // the emulator's registered app
	c.Zepp.URL = d.zeppURL
	return &Factory{IO: f.IO, Getenv: func(string) string { return "" }, Quiet: f.Quiet, cfg: &c, dataDir: d.dataDir, local: true}
}

func demoRun(ctx context.Context, f *Factory, opts *DemoOptions) error {
	d, err := startDemo(f, opts)
	if err != nil {
		return err
	}
	defer d.close()
	df := demoFactory(f, d)
	out := opts.IO.Out
	fmt.Fprintf(out, "bandsync demo: Zepp emulator at %s, Strava emulator at %s, data in %s\n", d.zeppURL, d.strURL, d.dataDir)

	// Log in to Zepp and authorize Strava through the real code paths.
	if err := authZeppRun(ctx, df, &AuthZeppOptions{IO: IOStreams{In: strings.NewReader(demoPassword + "\n"), Out: out, ErrOut: opts.IO.ErrOut},
		Email: demoEmail, PasswordStdin: true}); err != nil {
		return fmt.Errorf("demo: Zepp login: %w", err)
	}
	authOut := io.Discard
	if !opts.Quiet {
		authOut = opts.IO.ErrOut
	}
	if err := authStravaRun(ctx, df, &AuthStravaOptions{IO: IOStreams{In: strings.NewReader(""), Out: out, ErrOut: authOut},
		OpenBrowser: clickAuthorize, Timeout: time.Minute}); err != nil {
		return fmt.Errorf("demo: Strava authorization: %w", err)
	}

	// Backfill.
	printer, closePrinter := newPrinter(opts.IO, opts.Quiet, false)
	reporter, closeLog := withRunLog(d.dataDir, printer)
	tr := progress.NewTracker(reporter)
	closeTr := func() { closeLog(); closePrinter() }
	src, _, err := df.openSource(ctx, "zepp", "", tr)
	if err != nil {
		closeTr()
		return err
	}
	sinks, err := df.sinks(ctx, nil)
	if err != nil {
		closeTr()
		return err
	}
	st, err := store.Open(ctx, d.dataDir)
	if err != nil {
		closeTr()
		return err
	}
	defer st.Close()
	start := time.Now()
	rep, err := syncer.New(src, sinks, st, syncer.Options{Wait: true, Tracker: tr, ConfirmWait: 2 * time.Minute}).Run(ctx)
	closeTr()
	elapsed := time.Since(start)
	if err != nil {
		return fmt.Errorf("demo: sync: %w", err)
	}
	printReport(out, rep, nil, sinks)
	if err := demoCheck(ctx, out, d, st, rep, sinks, elapsed); err != nil || !opts.Serve {
		return err
	}
	st.Close()
	fmt.Fprintf(out, "\nThe emulators keep running while the dashboard is open; the demo's data stays in %s.\n", d.dataDir)
	return serveRun(ctx, df, &ServeOptions{IO: opts.IO, Addr: "127.0.0.1:0"}, nil)
}

// clickAuthorize is the person clicking "Authorize" on the Strava
// emulator's page.
func clickAuthorize(u string) error {
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

// demoCheck prints the outcome and checks it: every workout on Strava
// exactly once, Strava's moving time equal to the band's.
func demoCheck(ctx context.Context, out io.Writer, d *demoEnv, st *store.Store, rep *syncer.Report, sinks []sink.Sink, took time.Duration) error {
	list, total, err := st.Workouts(ctx, store.Filter{})
	if err != nil {
		return err
	}
	acts := d.strava.Activities()
	byExt := map[string][]stravaapi.DetailedActivity{}
	byID := map[string]stravaapi.DetailedActivity{}
	for _, a := range acts {
		byID[stravaapi.FormatID(a.ID)] = a
		if a.ExternalID != nil {
			k := strings.TrimSuffix(*a.ExternalID, ".fit")
			byExt[k] = append(byExt[k], a)
		}
	}
	var problems []string
	onStrava := map[string]int{} // activity ID → workouts pointing at it
	type cmp struct {
		when         time.Time
		sport        string
		pauses       int
		band, strava time.Duration
		elapsed      time.Duration
		device       string
	}
	var cmps []cmp
	for _, ws := range list {
		key := ws.Workout.Key()
		del, ok := ws.Delivery("strava")
		if !ok {
			problems = append(problems, key+": no Strava delivery")
			continue
		}
		switch del.State {
		case store.Done:
			if n := len(byExt[key]); n != 1 {
				problems = append(problems, fmt.Sprintf("%s is on Strava %d times", key, n))
				continue
			}
			a := byExt[key][0]
			onStrava[stravaapi.FormatID(a.ID)]++
			band := ws.Workout.Summary.Moving
			got := time.Duration(a.MovingTime) * time.Second
			if diff := math.Abs((got - band).Seconds()); diff > 1.5 {
				problems = append(problems, fmt.Sprintf("%s: Strava's moving time %s, the band's %s", key, got, band))
			}
			paused := ws.Workout.Summary.Elapsed - band
			cmps = append(cmps, cmp{ws.Workout.Start, ws.Workout.Sport.String(), int(paused.Seconds()), band, got, ws.Workout.Summary.Elapsed, a.DeviceName})
		case store.Duplicate:
			if _, ok := byID[del.ActivityID]; !ok {
				problems = append(problems, fmt.Sprintf("%s: duplicate of activity %s, which Strava does not have", key, del.ActivityID))
			}
			onStrava[del.ActivityID]++
			if n := len(byExt[key]); n != 0 {
				problems = append(problems, fmt.Sprintf("%s was already on Strava, yet bandsync uploaded it", key))
			}
		default:
			problems = append(problems, fmt.Sprintf("%s: Strava delivery is %s", key, del.State))
		}
	}
	for id, n := range onStrava {
		if n > 1 {
			problems = append(problems, fmt.Sprintf("activity %s stands for %d workouts", id, n))
		}
	}
	if len(acts) != total {
		problems = append(problems, fmt.Sprintf("Strava holds %d activities for %d workouts", len(acts), total))
	}
	uploads := d.strava.Uploads()
	api := d.strava.APIRequests()
	counts := d.strava.Counts()
	puts := 0
	for route, n := range counts {
		if strings.HasPrefix(route, "PUT ") {
			puts += n
		}
	}
	sr := rep.Sinks["strava"]
	fmt.Fprintf(out, "\nOutcome: %d workouts; Strava: %d uploaded, %d already there (%d posted by Zepp's own link), %d skipped, %d failed.\n",
		total, sr.Created, sr.Duplicates, d.zeppLink, sr.Skipped, sr.Failed)
	if a := rep.Sinks["archive"]; a != nil {
		fmt.Fprintf(out, "Archive: %d files written in %s.\n", a.Created, filepath.Join(d.dataDir, "archive"))
	}
	if uploads > 0 {
		fmt.Fprintf(out, "Strava API requests: %d for %d uploads = %.3f per upload (%d of them edits: sport fixes and muting workouts older than 7 days; %.3f without those).\n",
			api, uploads, float64(api)/float64(uploads), puts, float64(api-puts)/float64(uploads))
	}
	fmt.Fprintf(out, "Took %s (%.1f ms per workout).\n", took.Round(time.Millisecond), float64(took.Microseconds())/1000/float64(max(total, 1)))
	sort.Slice(cmps, func(i, j int) bool { return cmps[i].pauses > cmps[j].pauses })
	if len(cmps) > 0 {
		fmt.Fprintln(out, "\nBand vs Strava, the workouts with the most pause time:")
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "START\tSPORT\tELAPSED\tBAND MOVING\tSTRAVA MOVING\tSTRAVA DEVICE")
		for _, c := range cmps[:min(5, len(cmps))] {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.when.Format("2006-01-02 15:04Z"), c.sport, clock(c.elapsed.Seconds()),
				clock(c.band.Seconds()), clock(c.strava.Seconds()), c.device)
		}
		tw.Flush()
	}
	if len(problems) > 0 {
		for _, p := range problems[:min(20, len(problems))] {
			fmt.Fprintln(out, "  problem:", p)
		}
		return fmt.Errorf("demo check failed: %d problems", len(problems))
	}
	fmt.Fprintln(out, "\nCheck passed: every workout is on Strava exactly once, and Strava's moving time equals the band's.")
	return nil
}
