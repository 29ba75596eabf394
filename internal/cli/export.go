package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/format"
	"github.com/bandsync/bandsync/internal/format/fit"
	"github.com/bandsync/bandsync/internal/format/gpx"
	"github.com/bandsync/bandsync/internal/progress"
	"github.com/bandsync/bandsync/internal/workout"
)

// ExportOptions are the options of `bandsync export`.
type ExportOptions struct {
	IO     IOStreams
	Quiet  bool
	Format string
	Out    string
	From   string
	Path   string
	Since  string
	Until  string
	IDs    []string
}

// NewCmdExport builds `bandsync export`.
func NewCmdExport(f *Factory) *cobra.Command {
	opts := &ExportOptions{}
	cmd := &cobra.Command{
		Use:   "export --format fit|gpx|tcx --out DIR [--from SOURCE] [--since DATE] [ID...]",
		Short: "Write workouts from the source as FIT, GPX or TCX files",
		Long: `Write workouts as files: every workout of the source (the Zepp cloud by
default) in the date range, or just the ones named by ID (a workout key such
as zepp-1698569116_run.411.huami.com, or the source's own ID). Files are named
by local start time, sport and key, so running it again rewrites the same
files. Nothing is uploaded and the sync state is not changed.

` + gpx.PauseNote,
		Example: `  bandsync export --format fit --out ~/band-history
  bandsync export --format gpx --out gpx --since 2024-01-01 --until 2024-07-01`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO, opts.Quiet, opts.IDs = f.IO, f.Quiet, args
			if opts.Out == "" {
				return errclass.Usagef("--out DIR is required")
			}
			return exportRun(cmd.Context(), f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Format, "format", "fit", "file format: fit, gpx or tcx")
	fl.StringVar(&opts.Out, "out", "", "folder to write into (created if missing)")
	fl.StringVar(&opts.From, "from", "zepp", "source: zepp, zepp-export, gadgetbridge or files")
	fl.StringVar(&opts.Path, "path", "", "the export, database or folder to read (offline sources)")
	fl.StringVar(&opts.Since, "since", "", "only workouts that started on or after this date")
	fl.StringVar(&opts.Until, "until", "", "only workouts that started before this date")
	return cmd
}

func exportRun(ctx context.Context, f *Factory, opts *ExportOptions) error {
	fm, err := format.ParseFormat(opts.Format)
	if err != nil {
		return usageErr(err)
	}
	since, err := parseDate("since", opts.Since)
	if err != nil {
		return err
	}
	until, err := parseDate("until", opts.Until)
	if err != nil {
		return err
	}
	c, err := f.Config()
	if err != nil {
		return err
	}
	tr, closeTr := newTracker(opts.IO, opts.Quiet, false)
	defer closeTr()
	src, closeSrc, err := f.openSource(ctx, opts.From, opts.Path, tr)
	if err != nil {
		return err
	}
	defer closeSrc()
	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", opts.Out, err)
	}
	want := map[string]bool{}
	for _, id := range opts.IDs {
		want[id] = true
	}
	enc := format.Options{FIT: fit.EncodeOptions{LegacyZeppIdentity: c.Strava.LegacyIdentity}}
	tr.Start(progress.Fetching, -1)
	written, failed, skipped := 0, 0, 0
	for ref, err := range src.List(ctx, since, until) {
		if err != nil {
			tr.End(progress.Fetching)
			return fmt.Errorf("list %s: %w", src.Name(), err)
		}
		key := workout.Origin{Source: src.Name(), ID: ref.ID}.Key()
		if len(want) > 0 && !want[key] && !want[ref.ID] {
			continue
		}
		tr.Grow(progress.Fetching, 1)
		w, err := src.Fetch(ctx, ref)
		if err == nil {
			name := exportName(w, key, fm)
			err = format.WriteFile(filepath.Join(opts.Out, name), w, enc)
			if errors.Is(err, gpx.ErrNoPosition) {
				skipped++
				tr.Done(progress.Fetching, key, "skipped: no GPS track, and GPX holds only tracks")
				continue
			}
		}
		if err != nil {
			if errclass.ClassOf(err) == errclass.ReAuth || ctx.Err() != nil {
				tr.End(progress.Fetching)
				return err
			}
			failed++
			tr.Done(progress.Fetching, key, "failed: "+err.Error())
			continue
		}
		written++
		tr.Done(progress.Fetching, key, "written")
	}
	tr.End(progress.Fetching)
	fmt.Fprintf(opts.IO.Out, "Wrote %d %s files to %s", written, strings.ToUpper(string(fm)), opts.Out)
	if skipped > 0 {
		fmt.Fprintf(opts.IO.Out, " (%d without GPS skipped: use fit or tcx for those)", skipped)
	}
	fmt.Fprintln(opts.IO.Out, ".")
	if failed > 0 {
		more := "the lines above say why"
		if opts.Quiet {
			more = "run it again without --quiet to see why"
		}
		return &partialError{failed: failed, total: failed + written + skipped, what: "workouts", more: more}
	}
	return nil
}

// exportName is "2023-10-29T0845_run_KEY.fit", the start in the workout's
// own zone when known.
func exportName(w *workout.Workout, key string, fm format.Format) string {
	return w.LocalStart().Format("2006-01-02T1504") + "_" + w.Sport.String() + "_" + key + "." + string(fm)
}
