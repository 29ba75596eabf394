package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/format"
	"github.com/bandsync/bandsync/internal/format/gpx"
)

// ConvertOptions are the options of `bandsync convert`.
type ConvertOptions struct {
	IO             IOStreams
	Quiet          bool
	Args           []string
	To             string // batch form: target format
	OutDir         string // batch form: target folder
	LegacyIdentity bool
}

// NewCmdConvert builds `bandsync convert`. runF replaces the run function in
// tests.
func NewCmdConvert(f *Factory, runF func(*ConvertOptions) error) *cobra.Command {
	opts := &ConvertOptions{}
	cmd := &cobra.Command{
		Use:   "convert IN OUT | convert --to fit|gpx|tcx --out DIR FILE...",
		Short: "Convert workout files between Zepp JSON, FIT, GPX and TCX",
		Long: `Convert workout files. The format is chosen by extension: Zepp cloud detail
JSON (.json; a summary file named like the detail with _summary instead of
_detail is read from beside it), .fit, .gpx and .tcx, each optionally .gz.

The batch form converts many files into a folder, one workout in memory at a
time; a file that cannot be read is reported and the rest go on.

` + gpx.PauseNote + ` TCX keeps pauses as gaps between
tracks. FIT keeps everything: pauses, laps, pool lengths, calories, device.`,
		Example: `  bandsync convert run_1698569116_detail.json run.fit
  bandsync convert --to gpx --out gpx/ exports/*.fit
  bandsync convert ride.tcx.gz ride.fit`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO, opts.Quiet, opts.Args = f.IO, f.Quiet, args
			if opts.To == "" && opts.OutDir == "" && len(args) != 2 {
				return errclass.Usagef("give IN and OUT, or --to FORMAT --out DIR and files")
			}
			if (opts.To == "") != (opts.OutDir == "") {
				return errclass.Usagef("the batch form needs both --to and --out")
			}
			if opts.To != "" && len(args) == 0 {
				return errclass.Usagef("no files to convert")
			}
			if c, err := f.Config(); err == nil && c.Strava.LegacyIdentity {
				opts.LegacyIdentity = true
			}
			if runF != nil {
				return runF(opts)
			}
			return convertRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.To, "to", "", "batch form: format to write (fit, gpx or tcx)")
	cmd.Flags().StringVar(&opts.OutDir, "out", "", "batch form: folder to write into (created if missing)")
	cmd.Flags().BoolVar(&opts.LegacyIdentity, "legacy-identity", false, `FIT: name the device "Huami Amazfit Pace" as Zepp's own Strava link does`)
	return cmd
}

func convertRun(opts *ConvertOptions) error {
	enc := format.Options{}
	enc.FIT.LegacyZeppIdentity = opts.LegacyIdentity
	if opts.To == "" {
		in, out := opts.Args[0], opts.Args[1]
		if _, _, err := format.FromName(out); err != nil {
			return usageErr(err)
		}
		w, err := format.ReadFile(in)
		if err != nil {
			return err
		}
		if err := format.WriteFile(out, w, enc); err != nil {
			return err
		}
		if !opts.Quiet {
			fmt.Fprintf(opts.IO.ErrOut, "wrote %s (%s, %s)\n", out, w.Sport, w.Start.Format("2006-01-02 15:04 UTC"))
		}
		return nil
	}

	to, err := format.ParseFormat(opts.To)
	if err != nil {
		return usageErr(err)
	}
	if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
		return fmt.Errorf("create output folder: %w", err)
	}
	failed, done := 0, 0
	seen := map[string]string{}
	for _, in := range opts.Args {
		if isZeppSummaryName(in) {
			// Read together with its detail file; on its own it has no track.
			if !opts.Quiet {
				fmt.Fprintf(opts.IO.ErrOut, "skip %s: a Zepp summary is read with its _detail file\n", in)
			}
			continue
		}
		out := filepath.Join(opts.OutDir, outputName(in, to))
		if prev, dup := seen[out]; dup {
			failed++
			fmt.Fprintf(opts.IO.ErrOut, "error: %s and %s would both be written to %s; convert them separately\n", prev, in, out)
			continue
		}
		seen[out] = in
		w, err := format.ReadFile(in)
		if err == nil {
			err = format.WriteFile(out, w, enc)
		}
		if err != nil {
			failed++
			fmt.Fprintf(opts.IO.ErrOut, "error: %v\n", err)
			continue
		}
		done++
		if !opts.Quiet {
			fmt.Fprintf(opts.IO.ErrOut, "wrote %s\n", out)
		}
	}
	switch {
	case failed > 0 && done == 0:
		return fmt.Errorf("no file could be converted (the errors above say why)")
	case failed > 0:
		return &partialError{failed: failed, total: failed + done, what: "files", more: "the errors above say why"}
	}
	return nil
}

func isZeppSummaryName(name string) bool {
	b := strings.ToLower(filepath.Base(name))
	b = strings.TrimSuffix(b, ".gz")
	return strings.HasSuffix(b, "_summary.json") || strings.HasSuffix(b, ".summary.json")
}

// outputName is in's base name without its extensions (and a Zepp _detail
// suffix) plus the target format's extension.
func outputName(in string, to format.Format) string {
	b := filepath.Base(in)
	b = strings.TrimSuffix(b, filepath.Ext(b))
	if strings.HasSuffix(strings.ToLower(in), ".gz") {
		b = strings.TrimSuffix(b, filepath.Ext(b))
	}
	for _, s := range []string{"_detail", ".detail"} {
		b = strings.TrimSuffix(b, s)
	}
	return b + "." + string(to)
}
