package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/geo"
	"github.com/bandsync/bandsync/internal/progress"
	"github.com/bandsync/bandsync/internal/sink"
	"github.com/bandsync/bandsync/internal/source"
	"github.com/bandsync/bandsync/internal/source/files"
	"github.com/bandsync/bandsync/internal/source/gadgetbridge"
	"github.com/bandsync/bandsync/internal/source/zepp"
	"github.com/bandsync/bandsync/internal/source/zeppexport"
	"github.com/bandsync/bandsync/internal/store"
	"github.com/bandsync/bandsync/internal/syncer"
	"github.com/bandsync/bandsync/internal/workout"
)

// SyncOptions are the options of `bandsync sync`.
type SyncOptions struct {
	IO       IOStreams
	Quiet    bool
	From     string
	Path     string
	To       []string
	Since    string
	Until    string
	DryRun   bool
	Watch    bool
	Interval time.Duration
	Wait     bool
	JSON     bool
	// PasswordStdin reads a password-protected export's password.
	PasswordStdin bool
	RetryFailed   bool

	printed  bool     // the result document went out
	warnings *warnLog // what the run warned about, for --json
}

// jsonOnError prints the one JSON document --json promises when the run
// failed before producing its own.
func (opts *SyncOptions) jsonOnError(err error) error {
	if err != nil && opts.JSON && !opts.printed {
		_ = writeJSON(opts.IO.Out, reportJSON(nil, err))
	}
	return err
}

// NewCmdSync builds `bandsync sync`.
func NewCmdSync(f *Factory, runF func(*SyncOptions) error) *cobra.Command {
	opts := &SyncOptions{}
	cmd := &cobra.Command{
		Use:   "sync [--from SOURCE] [--to SINK]... [--since DATE] [--until DATE] [--dry-run] [--watch [--interval D]]",
		Short: "Put every workout of the source on the sinks, exactly once",
		Long: `Put every workout of the source that a sink lacks there, exactly once: the
whole history on the first run (oldest first), then what is new. A workout
already on Strava — uploaded by Zepp's own link, say — is recorded as a
duplicate, not uploaded again. A stopped run (Ctrl-C, a crash, a rate limit)
resumes where it stopped.

SOURCE is zepp (the default), zepp-export, gadgetbridge or files (with --path).
SINK is strava or archive; the default is both, Strava when authorized.

Strava allows an app 200 requests per 15 minutes and 2,000 a day. At the limit
a run stops with exit code 5 and says when it can go on; --wait sleeps until
then instead, as --watch always does.

--watch keeps running: it syncs, waits --interval (default 15m) and syncs
again; it stops cleanly on Ctrl-C or SIGTERM, even in the middle of an upload.`,
		Example: `  bandsync sync
  bandsync sync --dry-run --since 2024-01-01
  bandsync sync --to archive --from files --path ~/exports
  bandsync sync --watch --interval 10m`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.IO, opts.Quiet = f.IO, f.Quiet
			if !cmd.Flags().Changed("interval") {
				opts.Interval = 15 * time.Minute
			} else if !opts.Watch {
				return errclass.Usagef("--interval needs --watch")
			}
			if opts.Watch && opts.DryRun {
				return errclass.Usagef("--watch and --dry-run cannot go together")
			}
			if opts.Interval < time.Minute && opts.Watch && f.Getenv("BANDSYNC_ALLOW_SHORT_INTERVAL") == "" {
				return errclass.Usagef("--interval %s is too short: the least is 1m", opts.Interval)
			}
			if opts.PasswordStdin {
				f.exportPassword = func() (string, error) { return readSecret(f.IO.In, "export password") }
			}
			if runF != nil {
				return runF(opts)
			}
			if f.tuneGC != nil {
				f.tuneGC(f.Getenv)
			}
			return opts.jsonOnError(syncRun(cmd.Context(), f, opts))
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.From, "from", "zepp", "source: zepp, zepp-export, gadgetbridge or files")
	fl.StringVar(&opts.Path, "path", "", "the export, database or folder to read (offline sources)")
	fl.StringArrayVar(&opts.To, "to", nil, "sink: strava or archive (repeatable; default both)")
	fl.StringVar(&opts.Since, "since", "", "only workouts that started on or after this date (YYYY-MM-DD or RFC 3339)")
	fl.StringVar(&opts.Until, "until", "", "only workouts that started before this date")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "list and plan, but send nothing: print what would be sent")
	fl.BoolVar(&opts.Watch, "watch", false, "keep running and sync new workouts every --interval")
	fl.DurationVar(&opts.Interval, "interval", 15*time.Minute, "how often --watch polls the source")
	fl.BoolVar(&opts.Wait, "wait", false, "wait for Strava's rate-limit window instead of stopping (exit 5)")
	fl.BoolVar(&opts.JSON, "json", false, "print the result as one JSON document (with --watch: one per run, a line each; progress as JSON lines on stderr)")
	fl.BoolVar(&opts.RetryFailed, "retry-failed", false, "try the failed workouts again now, even those that would not be retried by themselves")
	fl.BoolVar(&opts.PasswordStdin, "password-stdin", false, "zepp-export: read the export zip's password from standard input")
	return cmd
}

// parseDate reads YYYY-MM-DD (local midnight) or RFC 3339.
func parseDate(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, time.Local); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, errclass.Usagef("--%s %q: use a date like 2024-01-31 or 2024-01-31T08:00:00Z", flag, s)
}

// openSource builds the named source, its positions put in WGS-84 as the
// coords setting says; closeSrc releases what it holds (temporary copies of
// an export).
func (f *Factory) openSource(ctx context.Context, name, path string, tr *progress.Tracker) (src source.Source, closeSrc func(), err error) {
	c, err := f.Config()
	if err != nil {
		return nil, nil, err
	}
	src, closeSrc, err = f.rawSource(ctx, name, path, tr)
	if err != nil {
		return nil, func() {}, err
	}
	cs := coordsSource{Source: src, mode: c.Coords}
	if name == "zepp" || name == "" {
		// Zepp accounts in mainland China keep every track in GCJ-02.
		if zo, err := f.zeppOptions(nil); err == nil {
			if a, err := zepp.Status(ctx, zo); err == nil && strings.HasPrefix(a.Region, "cn") {
				cs.china = true
			}
		}
	}
	return cs, closeSrc, nil
}

func (f *Factory) rawSource(ctx context.Context, name, path string, tr *progress.Tracker) (source.Source, func(), error) {
	noop := func() {}
	switch name {
	case "", "zepp", "gadgetbridge", "zepp-export", "files":
	default:
		return nil, noop, errclass.Usagef("unknown source %q: use zepp, zepp-export, gadgetbridge or files", name)
	}
	if name != "zepp" && name != "" && path == "" {
		return nil, noop, errclass.Usagef("--from %s needs --path: the export, database or folder to read", name)
	}
	warnf := func(format string, args ...any) { tr.Warn(fmt.Sprintf(format, args...)) }
	switch name {
	case "zepp", "":
		zo, err := f.zeppOptions(tr.Warn)
		if err != nil {
			return nil, noop, err
		}
		src, err := zepp.New(zo)
		return src, noop, err
	case "gadgetbridge":
		gb, err := gadgetbridge.Open(ctx, path, gadgetbridge.Options{})
		if err != nil {
			return nil, noop, err
		}
		for _, p := range gb.FITProblems() {
			tr.Warn(p.Error())
		}
		return gb, func() { _ = gb.Close() }, nil
	case "zepp-export":
		opt := zeppexport.Options{Warnf: warnf}
		if f.exportPassword != nil {
			pw, err := f.exportPassword()
			if err != nil {
				return nil, noop, err
			}
			opt.Password = []byte(pw)
		}
		src, err := zeppexport.New(path, opt)
		if err != nil {
			return nil, noop, err
		}
		return src, func() { _ = src.Close() }, nil
	case "files":
		src, err := files.New(path, files.Options{Warnf: warnf})
		return src, noop, err
	}
	return nil, noop, errclass.Usagef("unknown source %q: use zepp, zepp-export, gadgetbridge or files", name)
}

// coordsSource converts fetched workouts' GCJ-02 positions to WGS-84.
type coordsSource struct {
	source.Source
	mode  string
	china bool // the account is in mainland China: every track is GCJ-02
}

func (c coordsSource) Fetch(ctx context.Context, r source.Ref) (*workout.Workout, error) {
	w, err := c.Source.Fetch(ctx, r)
	if err == nil {
		if c.china {
			geo.MarkGCJ02(w, "the Zepp account is in the China region")
		}
		geo.Fix(w, c.mode)
	}
	return w, err
}

// warningsOnly passes on warnings and nothing else.
type warningsOnly struct{ r progress.Reporter }

func (w warningsOnly) Report(e progress.Event) {
	if e.Kind == progress.Warn {
		w.r.Report(e)
	}
}

// newTracker picks the progress printer: JSON lines with --json, bars on a
// terminal, plain lines otherwise, nothing with --quiet.
func newTracker(io IOStreams, quiet, asJSON bool) (*progress.Tracker, func()) {
	r, closer := newPrinter(io, quiet, asJSON)
	return progress.NewTracker(r), closer
}

// withRunLog adds the data dir's progress log to r, so that a dashboard
// in another process (bandsync serve) shows the run live.
func withRunLog(dataDir string, r progress.Reporter) (progress.Reporter, func()) {
	if os.MkdirAll(dataDir, 0o700) != nil {
		return r, func() {}
	}
	l := progress.OpenLog(filepath.Join(dataDir, progress.LogName))
	return progress.Tee{r, l}, func() { l.Close() }
}

func newPrinter(io IOStreams, quiet, asJSON bool) (progress.Reporter, func()) {
	switch {
	case quiet:
		// --quiet drops progress, not what a person should know.
		return warningsOnly{progress.NewLines(io.ErrOut)}, func() {}
	case asJSON:
		return progress.NewJSON(io.ErrOut), func() {}
	case io.ErrTTY:
		b := progress.NewBars(io.ErrOut)
		return b, b.Close
	}
	return progress.NewLines(io.ErrOut), func() {}
}

// warnLog keeps the warnings of a run for its --json document, passing
// every event on.
type warnLog struct {
	next progress.Reporter
	mu   sync.Mutex
	list []string
}

func (w *warnLog) Report(e progress.Event) {
	if e.Kind == progress.Warn {
		w.mu.Lock()
		w.list = append(w.list, e.Message)
		w.mu.Unlock()
	}
	w.next.Report(e)
}

// take returns the warnings so far and forgets them.
func (w *warnLog) take() []string {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.list
	w.list = nil
	return out
}

func syncRun(ctx context.Context, f *Factory, opts *SyncOptions) error {
	since, err := parseDate("since", opts.Since)
	if err != nil {
		return err
	}
	until, err := parseDate("until", opts.Until)
	if err != nil {
		return err
	}
	if !since.IsZero() && !until.IsZero() && !since.Before(until) {
		return errclass.Usagef("--since %s is not before --until %s", opts.Since, opts.Until)
	}
	c, err := f.Config()
	if err != nil {
		return err
	}
	printer, closeTr := newPrinter(opts.IO, opts.Quiet, opts.JSON)
	opts.warnings = &warnLog{next: printer}
	var reporter progress.Reporter = opts.warnings
	if !opts.DryRun {
		var closeLog func()
		reporter, closeLog = withRunLog(c.DataDir, reporter)
		defer closeLog()
	}
	tr := progress.NewTracker(reporter)
	src, closeSrc, err := f.openSource(ctx, opts.From, opts.Path, tr)
	if err != nil {
		closeTr()
		return err
	}
	defer closeSrc()
	sinks, err := f.sinks(ctx, opts.To)
	if err != nil {
		closeTr()
		return err
	}
	st, err := store.Open(ctx, c.DataDir)
	if err != nil {
		closeTr()
		return err
	}
	defer st.Close()
	if opts.DryRun {
		// Plan on a copy: the real ledger must not learn of the listed
		// workouts, or the next real run would not call them new.
		if st, err = st.Scratch(ctx); err != nil {
			closeTr()
			return err
		}
		defer st.Close()
	}
	if !opts.DryRun {
		// Best effort: only the dashboard's "sync now" reads it.
		_ = rememberSource(ctx, st, opts.From, opts.Path)
	}
	if opts.RetryFailed { // on the copy in a dry run
		n, err := st.RetryFailed(ctx, "")
		if err != nil {
			return err
		}
		tr.Warn(fmt.Sprintf("%d failed deliveries reopened", n))
	}
	so := syncer.Options{Since: since, Until: until, DryRun: opts.DryRun, Wait: opts.Wait || opts.Watch, Tracker: tr,
		ListAll: listsWhole(opts.From)}
	s := syncer.New(src, sinks, st, so)
	if opts.Watch {
		err := s.Watch(ctx, opts.Interval, func(rep *syncer.Report, err error) {
			if opts.JSON {
				// One JSON document per run, one per line.
				doc := reportJSON(rep, err)
				doc.Warnings = append(doc.Warnings, opts.warnings.take()...)
				_ = json.NewEncoder(opts.IO.Out).Encode(doc)
				return
			}
			printReport(opts.IO.Out, rep, err, sinks)
		})
		closeTr()
		return err
	}
	rep, err := s.Run(ctx)
	closeTr()
	return finishSync(opts, rep, err, sinks)
}

// finishSync prints a run's outcome and turns it into the command's error
// (and so its exit code).
func finishSync(opts *SyncOptions, rep *syncer.Report, err error, sinks []sink.Sink) error {
	if opts.JSON {
		opts.printed = true
		doc := reportJSON(rep, err)
		doc.Warnings = append(doc.Warnings, opts.warnings.take()...)
		if jerr := writeJSON(opts.IO.Out, doc); jerr != nil && err == nil {
			return jerr
		}
	} else if errclass.ClassOf(err) == errclass.ReAuth {
		// Nothing happened: the error says what to do.
	} else if opts.DryRun {
		printPlan(opts.IO.Out, rep)
	} else {
		printReport(opts.IO.Out, rep, err, sinks)
	}
	var le *syncer.LimitError
	if err != nil && !errors.As(err, &le) {
		return err
	}
	// Exit 5 says nothing failed; with failures, 3 wins and the limit is
	// still told.
	if n := rep.Failed(); n > 0 {
		total := 0
		for _, s := range rep.Sinks {
			total += s.Created + s.Duplicates + s.Skipped + s.Failed
		}
		more := "bandsync status says why; bandsync sync --retry-failed tries them again"
		if le != nil {
			more += "; " + le.Error()
		}
		return &partialError{failed: n, total: total, what: "workouts", more: more}
	}
	if err != nil {
		return err
	}
	if rep.ListErr != nil {
		return fmt.Errorf("listing stopped early (what was listed is synced): %w", rep.ListErr)
	}
	return nil
}

func printPlan(w io.Writer, rep *syncer.Report) {
	fmt.Fprintf(w, "Listed %d workouts (%d new). Would send %d:\n", rep.Listed, rep.New, len(rep.Plan))
	for _, p := range rep.Plan {
		fmt.Fprintf(w, "  %s  %-16s → %s  (%s)\n", p.Start.Local().Format("2006-01-02 15:04"), p.Sport, strings.Join(p.Sinks, ", "), p.Key)
	}
	if rep.ListErr != nil {
		fmt.Fprintf(w, "Listing stopped early: %v\n", rep.ListErr)
	}
}

func printReport(w io.Writer, rep *syncer.Report, err error, sinks []sink.Sink) {
	if rep == nil {
		return
	}
	fmt.Fprintf(w, "Listed %d workouts (%d new, %d changed).\n", rep.Listed, rep.New, rep.Changed)
	for _, sk := range sinks {
		sr := rep.Sinks[sk.Name()]
		if sr == nil {
			continue
		}
		parts := []string{fmt.Sprintf("%d uploaded", sr.Created)}
		if sk.Name() == "archive" {
			parts[0] = fmt.Sprintf("%d written", sr.Created)
		}
		parts = append(parts, fmt.Sprintf("%d already there", sr.Duplicates))
		if sr.Skipped > 0 {
			parts = append(parts, fmt.Sprintf("%d skipped", sr.Skipped))
		}
		parts = append(parts, fmt.Sprintf("%d failed", sr.Failed))
		if sr.Unconfirmed > 0 {
			parts = append(parts, fmt.Sprintf("%d still processing (confirmed next run)", sr.Unconfirmed))
		}
		if sr.Left > 0 {
			parts = append(parts, fmt.Sprintf("%d left", sr.Left))
		}
		fmt.Fprintf(w, "%s: %s\n", sk.Name(), strings.Join(parts, ", "))
		for _, f := range sr.Failures {
			fmt.Fprintf(w, "  failed: %s\n", f)
		}
	}
	for _, c := range rep.ChangedAtSource {
		fmt.Fprintf(w, "changed at the source after it was synced (not uploaded again): %s\n", c)
	}
}

// syncJSON is the --json shape of `bandsync sync`.
type syncJSON struct {
	Listed          int                       `json:"listed"`
	New             int                       `json:"new"`
	Changed         int                       `json:"changed"`
	Sinks           map[string]sinkReportJSON `json:"sinks"`
	ChangedAtSource []string                  `json:"changed_at_source"`
	Plan            []planJSON                `json:"plan,omitempty"`
	ListError       string                    `json:"list_error,omitempty"`
	Warnings        []string                  `json:"warnings"`
	LimitedUntil    *time.Time                `json:"rate_limited_until,omitempty"`
	Left            int                       `json:"left"`
	Error           string                    `json:"error,omitempty"`
}

type sinkReportJSON struct {
	Created     int      `json:"created"`
	Duplicates  int      `json:"duplicates"`
	Skipped     int      `json:"skipped"`
	Failed      int      `json:"failed"`
	Unconfirmed int      `json:"unconfirmed"`
	Left        int      `json:"left"`
	Failures    []string `json:"failures"`
}

type planJSON struct {
	Key   string    `json:"key"`
	Start time.Time `json:"start"`
	Sport string    `json:"sport"`
	Sinks []string  `json:"sinks"`
}

func reportJSON(rep *syncer.Report, err error) syncJSON {
	out := syncJSON{Sinks: map[string]sinkReportJSON{}, ChangedAtSource: []string{}, Warnings: []string{}}
	if rep != nil {
		out.Listed, out.New, out.Changed, out.Left = rep.Listed, rep.New, rep.Changed, rep.Left()
		for k, v := range rep.Sinks {
			out.Sinks[k] = sinkReportJSON{v.Created, v.Duplicates, v.Skipped, v.Failed, v.Unconfirmed, v.Left,
				append([]string{}, v.Failures...)}
		}
		out.ChangedAtSource = append(out.ChangedAtSource, rep.ChangedAtSource...)
		for _, p := range rep.Plan {
			out.Plan = append(out.Plan, planJSON{p.Key, p.Start, p.Sport.String(), p.Sinks})
		}
		sort.Slice(out.Plan, func(i, j int) bool { return out.Plan[i].Start.Before(out.Plan[j].Start) })
		if rep.ListErr != nil {
			out.ListError = rep.ListErr.Error()
		}
		if !rep.LimitedUntil.IsZero() {
			u := rep.LimitedUntil.UTC()
			out.LimitedUntil = &u
		}
	}
	if err != nil {
		out.Error = err.Error()
	}
	return out
}

// listsWhole says whether the named source is listed whole every run
// (syncer.Options.ListAll): every source but the Zepp cloud is local, and
// listing it costs nothing.
func listsWhole(from string) bool { return from != "zepp" && from != "" }

// lastSource is what MetaLastSource holds.
type lastSource struct {
	From string `json:"from"`
	Path string `json:"path,omitempty"` // absolute
}

// rememberSource records the source a sync reads, so that the dashboard's
// "sync now" reads the same one.
func rememberSource(ctx context.Context, st *store.Store, from, path string) error {
	ls := lastSource{From: from}
	if ls.From == "" {
		ls.From = "zepp"
	}
	if path != "" {
		abs, err := filepath.Abs(path)
		if err != nil {
			return err
		}
		ls.Path = abs
	}
	b, err := json.Marshal(ls)
	if err != nil {
		return err
	}
	return st.SetMeta(ctx, store.MetaLastSource, string(b))
}

// rememberedSource is the source the last sync read; the Zepp cloud when
// none did, or what was recorded cannot be read.
func rememberedSource(ctx context.Context, st *store.Store) lastSource {
	var ls lastSource
	if v, ok, err := st.Meta(ctx, store.MetaLastSource); err == nil && ok && json.Unmarshal([]byte(v), &ls) == nil && ls.From != "" {
		return ls
	}
	return lastSource{From: "zepp"}
}
