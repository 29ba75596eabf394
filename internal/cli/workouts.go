package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/bandsync/bandsync/internal/store"
)

// WorkoutsOptions are the options of `bandsync workouts`.
type WorkoutsOptions struct {
	IO       IOStreams
	JSON     bool
	Since    string
	ZeppLink bool
	Limit    int
}

// NewCmdWorkouts builds `bandsync workouts`.
func NewCmdWorkouts(f *Factory) *cobra.Command {
	opts := &WorkoutsOptions{}
	cmd := &cobra.Command{
		Use:   "workouts [--since DATE] [--zepp-link] [--json]",
		Short: "List known workouts with sport, start, distance, times and each sink's state",
		Long: `List the workouts bandsync knows, newest first, with sport, start, distance,
moving and elapsed time, and each sink's state and link.

--zepp-link lists the Strava activities that Zepp's own Strava link (or another
uploader) had already posted, which bandsync recorded as duplicates instead of
uploading. Strava's API cannot delete activities: delete those you want
replaced on Strava's website, then run bandsync sync again to upload the
faithful version (real device, pauses, laps).`,
		Example: "  bandsync workouts --since 2024-01-01\n  bandsync workouts --zepp-link\n  bandsync workouts --json | jq '.[0]'",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.IO = f.IO
			return workoutsRun(cmd.Context(), f, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print one JSON document")
	cmd.Flags().StringVar(&opts.Since, "since", "", "only workouts that started on or after this date")
	cmd.Flags().BoolVar(&opts.ZeppLink, "zepp-link", false, "list the activities Zepp's own link already posted (recorded as duplicates)")
	cmd.Flags().IntVar(&opts.Limit, "limit", 0, "show at most this many (0: all)")
	return cmd
}

// workoutJSON is one element of `bandsync workouts --json`.
type workoutJSON struct {
	Key        string         `json:"key"`
	Source     string         `json:"source"`
	SourceID   string         `json:"source_id"`
	Sport      string         `json:"sport"`
	Start      time.Time      `json:"start"`
	DistanceM  float64        `json:"distance_m"`
	MovingS    float64        `json:"moving_s"`
	ElapsedS   float64        `json:"elapsed_s"`
	Deliveries []deliveryJSON `json:"sinks"`
}

type deliveryJSON struct {
	Sink            string `json:"sink"`
	State           string `json:"state"`
	ActivityID      string `json:"activity_id,omitempty"`
	URL             string `json:"url,omitempty"`
	MatchedBy       string `json:"matched_by,omitempty"`
	Reason          string `json:"reason,omitempty"`
	FailClass       string `json:"fail_class,omitempty"`
	Message         string `json:"message,omitempty"`
	ChangedAtSource bool   `json:"changed_at_source,omitempty"`
}

func workoutsRun(ctx context.Context, f *Factory, opts *WorkoutsOptions) error {
	since, err := parseDate("since", opts.Since)
	if err != nil {
		return err
	}
	out := []workoutJSON{}
	st, ok, err := f.openReadOnly(ctx)
	if err != nil {
		return err
	}
	if ok {
		defer st.Close()
		flt := store.Filter{Since: since, Order: store.NewestFirst, Limit: opts.Limit}
		if opts.ZeppLink {
			flt.State, flt.Sink = store.Duplicate, "strava"
		}
		list, _, err := st.Workouts(ctx, flt)
		if err != nil {
			return err
		}
		for _, ws := range list {
			wj := workoutJSON{Key: ws.Workout.Key(), Source: ws.Workout.Source, SourceID: ws.Workout.SourceID,
				Sport: ws.Workout.Sport.String(), Start: ws.Workout.Start.UTC(), DistanceM: ws.Workout.Summary.Distance,
				MovingS: ws.Workout.Summary.Moving.Seconds(), ElapsedS: ws.Workout.Summary.Elapsed.Seconds(), Deliveries: []deliveryJSON{}}
			keep := !opts.ZeppLink
			for _, d := range ws.Deliveries {
				dj := deliveryJSON{Sink: d.Sink, State: string(d.State), ActivityID: d.ActivityID, MatchedBy: d.MatchedBy,
					Reason: d.SkipReason, Message: d.FailMessage, ChangedAtSource: d.ChangedAtSource}
				if d.State == store.Failed {
					dj.FailClass = d.FailClass.String()
				}
				if d.Sink == "strava" && d.ActivityID != "" {
					dj.URL = f.stravaActivityURL(d.ActivityID)
					if d.State == store.Duplicate && d.MatchedBy == "start-time" {
						keep = true
					}
				}
				wj.Deliveries = append(wj.Deliveries, dj)
			}
			if keep {
				out = append(out, wj)
			}
		}
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, out)
	}
	return printWorkouts(opts.IO.Out, out, opts.ZeppLink)
}

// stravaActivityURL links an activity on Strava (or on the configured
// stand-in).
func (f *Factory) stravaActivityURL(id string) string {
	base := "https://www.strava.com"
	if c, err := f.Config(); err == nil && c.Strava.URL != "" {
		base = strings.TrimRight(c.Strava.URL, "/")
	} else if err == nil && isDemoDir(c.DataDir) {
		return "" // the emulated Strava is gone; strava.com has other people's activities
	}
	return base + "/activities/" + id
}

func printWorkouts(w io.Writer, list []workoutJSON, zeppLink bool) error {
	if len(list) == 0 {
		if zeppLink {
			fmt.Fprintln(w, "No activities posted by Zepp's own link were found on Strava.")
		} else {
			fmt.Fprintln(w, "No workouts known yet: run bandsync sync.")
		}
		return nil
	}
	if zeppLink {
		fmt.Fprintf(w, "%d workouts were already on Strava, posted another way (Zepp's link). Delete those you want replaced on Strava, then run bandsync sync:\n", len(list))
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "START\tSPORT\tDISTANCE\tMOVING\tELAPSED\tKEY\tSINKS")
	for _, wj := range list {
		var sinks []string
		for _, d := range wj.Deliveries {
			s := d.Sink + ": " + d.State
			if d.URL != "" {
				s += " " + d.URL
			} else if d.ActivityID != "" {
				s += " " + d.ActivityID
			}
			sinks = append(sinks, s)
		}
		dist := "-"
		if wj.DistanceM > 0 {
			dist = fmt.Sprintf("%.2f km", wj.DistanceM/1000)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", wj.Start.Local().Format("2006-01-02 15:04 MST"), wj.Sport, dist,
			clock(wj.MovingS), clock(wj.ElapsedS), wj.Key, strings.Join(sinks, "; "))
	}
	return tw.Flush()
}
