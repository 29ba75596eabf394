package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/format"
	"github.com/bandsync/bandsync/internal/progress"
	"github.com/bandsync/bandsync/internal/source/files"
	"github.com/bandsync/bandsync/internal/store"
	"github.com/bandsync/bandsync/internal/syncer"
)

// NewCmdUpload builds `bandsync upload`.
func NewCmdUpload(f *Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "upload FILE...",
		Short: "Put workout files on Strava, with the same deduplication as sync",
		Long: `Put workout files (FIT, GPX, TCX or Zepp cloud JSON, optionally .gz) on Strava
through the same path as sync: a file already there — uploaded before, by
bandsync or another way such as Zepp's own link — is recorded as a duplicate,
not uploaded again. The files are identified by their start time, as
sync --from files identifies them, so the two never upload the same workout
twice.`,
		Example: "  bandsync upload run.fit ride.tcx.gz\n  bandsync upload exports/*.gpx",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return errclass.Usagef("name at least one FILE")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := &SyncOptions{IO: f.IO, JSON: asJSON}
			return opts.jsonOnError(uploadRun(cmd.Context(), f, args, opts))
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as one JSON document")
	return cmd
}

func uploadRun(ctx context.Context, f *Factory, paths []string, opts *SyncOptions) error {
	asJSON := opts.JSON
	c, err := f.Config()
	if err != nil {
		return err
	}
	// The files source reads a folder: gather the named files (and a Zepp
	// detail's summary beside it) in a private one.
	dir, err := os.MkdirTemp("", "bandsync-upload-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for i, p := range paths {
		if _, _, err := format.FromName(p); err != nil {
			return usageErr(err)
		}
		sub := filepath.Join(dir, fmt.Sprint(i))
		if err := os.Mkdir(sub, 0o700); err != nil {
			return err
		}
		if err := copyFile(p, filepath.Join(sub, filepath.Base(p))); err != nil {
			return err
		}
		if s := files.SummaryName(p); s != "" {
			if _, err := os.Stat(s); err == nil {
				if err := copyFile(s, filepath.Join(sub, filepath.Base(s))); err != nil {
					return err
				}
			}
		}
	}
	printer, closeTr := newPrinter(f.IO, f.Quiet, asJSON)
	defer closeTr()
	opts.warnings = &warnLog{next: printer}
	tr := progress.NewTracker(opts.warnings)
	src, closeSrc, err := f.openSource(ctx, "files", dir, tr)
	if err != nil {
		return err
	}
	defer closeSrc()
	sinks, err := f.sinks(ctx, []string{"strava"})
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, c.DataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	rep, err := syncer.New(src, sinks, st, syncer.Options{Tracker: tr, ListAll: true}).Run(ctx)
	closeTr()
	return finishSync(opts, rep, err, sinks)
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	if fi, err := in.Stat(); err == nil && fi.IsDir() {
		return errclass.Usagef("%s is a directory: use bandsync sync --from files --path %s", from, from)
	}
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("read %s: %w", from, err)
	}
	return out.Close()
}
