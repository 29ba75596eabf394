package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/format"
	"github.com/bandsync/bandsync/internal/plot"
	"github.com/bandsync/bandsync/internal/progress"
	"github.com/bandsync/bandsync/internal/sink/strava"
	"github.com/bandsync/bandsync/internal/source"
	"github.com/bandsync/bandsync/internal/store"
	"github.com/bandsync/bandsync/internal/syncer"
	"github.com/bandsync/bandsync/internal/web"
	"github.com/bandsync/bandsync/internal/web/compare"
	"github.com/bandsync/bandsync/internal/workout"
)

// ServeOptions are the options of `bandsync serve`.
type ServeOptions struct {
	IO            IOStreams
	Addr          string
	AllowRemote   bool
	PasswordStdin bool
	Tiles         string
}

// NewCmdServe builds `bandsync serve`.
func NewCmdServe(f *Factory) *cobra.Command {
	opts := &ServeOptions{}
	cmd := &cobra.Command{
		Use:   "serve [--addr 127.0.0.1:8270]",
		Short: "The local dashboard: sync state of every workout, and the band beside Strava in charts",
		Long: `Serve the local dashboard: history coverage by month, every workout's state on
each sink, and for one workout the band's data and Strava's streams overlaid
(heart rate, pace, elevation, cadence, pauses shaded) with each difference
explained. Strava's streams are fetched once per activity and kept.

It listens on 127.0.0.1 only. Another address is refused unless
--allow-remote is given with a password (--password-stdin); put TLS in
front of it then, as the password travels with every request.`,
		Example: "  bandsync serve\n  bandsync serve --addr 127.0.0.1:9000",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.IO = f.IO
			return serveRun(cmd.Context(), f, opts, nil)
		},
	}
	cmd.Flags().StringVar(&opts.Addr, "addr", web.DefaultAddr, "address to listen on")
	cmd.Flags().BoolVar(&opts.AllowRemote, "allow-remote", false, "allow a non-loopback address (needs --password-stdin)")
	cmd.Flags().BoolVar(&opts.PasswordStdin, "password-stdin", false, "read the dashboard's password from standard input")
	cmd.Flags().StringVar(&opts.Tiles, "tiles", "", "map tile URL template (https://…/{z}/{x}/{y}.png); empty: no map tiles, no other server contacted")
	return cmd
}

// serveRun serves the dashboard until ctx ends; ready, when set, is told
// the URL once it listens.
func serveRun(ctx context.Context, f *Factory, opts *ServeOptions, ready func(url string)) error {
	c, err := f.Config()
	if err != nil {
		return err
	}
	wo := web.Options{TileURL: opts.Tiles, AllowRemote: opts.AllowRemote, StravaURL: c.Strava.URL}
	if opts.PasswordStdin {
		if wo.Password, err = readSecret(opts.IO.In, "dashboard password"); err != nil {
			return err
		}
	}
	if err := web.CheckAddr(opts.Addr, wo.AllowRemote, wo.Password); err != nil {
		return usageErr(err)
	}
	// The dashboard reads the store without its lock, so a sync (the
	// background service) can run beside it; "sync now" and keeping
	// Strava's streams take the lock only while they write.
	st, ok, err := f.openReadOnly(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return errclass.Usagef("nothing synced yet: run bandsync sync (or bandsync demo --serve) first")
	}
	defer st.Close()
	// Every sync, this dashboard's or another process's (the service, a
	// sync in a terminal), writes its progress to the data dir's log; the
	// feed follows that file.
	feed := web.NewFeed()
	logPath := filepath.Join(c.DataDir, progress.LogName)
	tailCtx, stopTail := context.WithCancel(ctx)
	defer stopTail()
	go progress.Tail(tailCtx, logPath, feed, tailEvery)
	wo.Store, wo.Feed = st, feed
	wo.Cache = &streamCache{f: f, ro: st, mem: map[string][]byte{}}
	wo.SyncNow = func(ctx context.Context) error {
		rw, err := store.Open(ctx, c.DataDir)
		if err != nil {
			return err
		}
		defer rw.Close()
		plog := progress.OpenLog(logPath)
		defer plog.Close()
		return f.syncInto(ctx, rw, plog)
	}
	wo.RetryFailed = func(ctx context.Context) (int, error) {
		rw, err := store.Open(ctx, c.DataDir)
		if err != nil {
			return 0, err
		}
		defer rw.Close()
		return rw.RetryFailed(ctx, "")
	}
	wo.Band = &bandData{f: f}
	if sk, err := f.stravaSink(ctx); err == nil {
		wo.Strava = stravaStreams{sk}
	}
	srv, err := web.New(wo)
	if err != nil {
		return err
	}
	ln, err := srv.Listen(opts.Addr)
	if err != nil {
		return err
	}
	url := "http://" + ln.Addr().String() + "/"
	fmt.Fprintf(opts.IO.Out, "Dashboard: %s (Ctrl-C to stop)\n", url)
	if ready != nil {
		ready(url)
	}
	return srv.Serve(ctx, ln)
}

// tailEvery is how often the dashboard looks for new progress.
const tailEvery = 300 * time.Millisecond

// syncInto runs one sync into st, reporting to r, of the source the last
// sync read (the Zepp cloud when none did).
func (f *Factory) syncInto(ctx context.Context, st *store.Store, r progress.Reporter) error {
	tr := progress.NewTracker(r)
	ls := rememberedSource(ctx, st)
	src, closeSrc, err := f.openSource(ctx, ls.From, ls.Path, tr)
	if err != nil {
		return err
	}
	defer closeSrc()
	sinks, err := f.sinks(ctx, nil)
	if err != nil {
		return err
	}
	_, err = syncer.New(src, sinks, st, syncer.Options{Tracker: tr, ListAll: listsWhole(ls.From)}).Run(ctx)
	return err
}

// streamCache keeps Strava's answers in the store when no sync holds it,
// and in memory meanwhile.
type streamCache struct {
	f   *Factory
	ro  *store.Store
	mu  sync.Mutex
	mem map[string][]byte
}

func (c *streamCache) Streams(ctx context.Context, sink, id string) ([]byte, time.Time, error) {
	c.mu.Lock()
	b, ok := c.mem[sink+"/"+id]
	c.mu.Unlock()
	if ok {
		return b, time.Now(), nil
	}
	return c.ro.Streams(ctx, sink, id)
}

func (c *streamCache) PutStreams(ctx context.Context, sink, id string, data []byte) error {
	c.mu.Lock()
	c.mem[sink+"/"+id] = data
	c.mu.Unlock()
	cfg, err := c.f.Config()
	if err != nil {
		return err
	}
	rw, err := store.Open(ctx, cfg.DataDir)
	if errors.Is(err, store.ErrLocked) {
		return nil // a sync runs: kept in memory for now
	}
	if err != nil {
		return err
	}
	defer rw.Close()
	return rw.PutStreams(ctx, sink, id, data)
}

// bandData gives the dashboard the band's recording of a workout: the
// archive's file when there is one, else the source's.
type bandData struct {
	f   *Factory
	mu  sync.Mutex
	src source.Source
}

func (b *bandData) Workout(ctx context.Context, rec store.Record) (*workout.Workout, error) {
	c, err := b.f.Config()
	if err != nil {
		return nil, err
	}
	dir := c.Archive.Path
	if dir == "" {
		dir = filepath.Join(c.DataDir, "archive")
	}
	// Archive files are named by the workout's key.
	pattern := filepath.Join(dir, "*", "*_"+rec.Key()+".*")
	if matches, _ := filepath.Glob(pattern); len(matches) > 0 {
		for _, m := range matches {
			if w, err := format.ReadFile(m); err == nil {
				return w, nil
			}
		}
	}
	if rec.Source != "zepp" {
		return nil, fmt.Errorf("%s is not in the archive", rec.Key())
	}
	b.mu.Lock()
	if b.src == nil {
		src, _, err := b.f.openSource(ctx, rec.Source, "", progress.NewTracker(progress.Discard{}))
		if err != nil {
			b.mu.Unlock()
			return nil, err
		}
		b.src = src
	}
	src := b.src
	b.mu.Unlock()
	return src.Fetch(ctx, source.Ref{ID: rec.SourceID, Start: rec.Start, Sport: rec.Sport, Fingerprint: rec.Fingerprint, Summary: rec.Summary})
}

// stravaStreams gives the dashboard Strava's view of an activity.
type stravaStreams struct{ sk *strava.Sink }

func (s stravaStreams) Streams(ctx context.Context, id string) (web.Streams, error) {
	set, err := s.sk.Streams(ctx, id)
	if err != nil {
		return web.Streams{}, err
	}
	act, err := s.sk.Activity(ctx, id)
	if err != nil {
		return web.Streams{}, err
	}
	sb, err := json.Marshal(set)
	if err != nil {
		return web.Streams{}, err
	}
	ab, err := json.Marshal(act)
	if err != nil {
		return web.Streams{}, err
	}
	return compare.FromStrava(sb, ab)
}

// NewCmdPlot builds `bandsync plot`.
func NewCmdPlot(f *Factory) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "plot ID --out FILE.png|svg",
		Short: "Draw the band-vs-Strava comparison of one workout as a PNG or SVG file",
		Long: `Draw one workout's heart rate, pace, elevation and cadence as the band recorded
them, beside Strava's streams of the same activity, pauses shaded. ID is the
workout's key (bandsync workouts shows it) or its source ID. Strava's streams
come from the dashboard's cache, or are fetched once.`,
		Example: "  bandsync plot zepp-1698569116_run.411.huami.com --out run.png",
		Args:    exactArgs(1, "one workout ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return plotRun(cmd.Context(), f, args[0], out)
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "the file to write: .png or .svg")
	return cmd
}

func plotRun(ctx context.Context, f *Factory, id, out string) error {
	kind := strings.TrimPrefix(strings.ToLower(filepath.Ext(out)), ".")
	if out == "" || (kind != plot.PNG && kind != plot.SVG) {
		return errclass.Usagef("--out must name a .png or .svg file")
	}
	st, ok, err := f.openReadOnly(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return errclass.Usagef("nothing synced yet: run bandsync sync first")
	}
	defer st.Close()
	list, _, err := st.Workouts(ctx, store.Filter{Search: id, Limit: 50})
	if err != nil {
		return err
	}
	var ws *store.WorkoutStatus
	for i := range list {
		if list[i].Workout.Key() == id || list[i].Workout.SourceID == id {
			ws = &list[i]
			break
		}
	}
	if ws == nil {
		return errclass.Usagef("no workout %q: bandsync workouts lists the keys", id)
	}
	band, err := (&bandData{f: f}).Workout(ctx, ws.Workout)
	if err != nil {
		return fmt.Errorf("the band's data of %s: %w", id, err)
	}
	var strv compare.Streams
	if d, ok := ws.Delivery("strava"); ok && d.ActivityID != "" {
		if raw, _, err := st.Streams(ctx, "strava", d.ActivityID); err == nil {
			_ = json.Unmarshal(raw, &strv)
		} else if sk, err := f.stravaSink(ctx); err == nil {
			if s, err := (stravaStreams{sk}).Streams(ctx, d.ActivityID); err == nil {
				strv = s
			} else {
				fmt.Fprintf(f.IO.ErrOut, "note: Strava's streams are not available (%v); drawing the band alone\n", err)
			}
		}
	}
	fh, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := plot.Compare(band, strv, fh, kind); err != nil {
		fh.Close()
		os.Remove(out)
		return err
	}
	if err := fh.Close(); err != nil {
		return err
	}
	fmt.Fprintf(f.IO.Out, "wrote %s\n", out)
	return nil
}
