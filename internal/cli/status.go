package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bandsync/bandsync/internal/sink/strava"
	"github.com/bandsync/bandsync/internal/store"
)

// statusJSON is the --json shape of `bandsync status`.
type statusJSON struct {
	Workouts  int                       `json:"workouts"`
	Sinks     map[string]sinkStatusJSON `json:"sinks"`
	Sources   map[string]sourceJSON     `json:"sources"`
	LastWatch *time.Time                `json:"last_watch,omitempty"`
	NextWatch *time.Time                `json:"next_watch,omitempty"`
}

type sinkStatusJSON struct {
	Done            int            `json:"done"`
	Duplicate       int            `json:"duplicate"`
	Skipped         int            `json:"skipped"`
	Failed          int            `json:"failed"`
	Pending         int            `json:"pending"`
	Uploading       int            `json:"uploading"`
	Retrying        int            `json:"retrying"`
	ChangedAtSource int            `json:"changed_at_source"`
	FailedBy        map[string]int `json:"failed_by"`
	SkippedBy       map[string]int `json:"skipped_by"`
	RateLimitOpens  *time.Time     `json:"rate_limit_opens,omitempty"`
	// Unanswered of the uploading were begun when a run stopped before
	// the sink answered; from UnansweredRecheck on, those the sink lacks
	// are sent again.
	Unanswered        int        `json:"unanswered"`
	UnansweredRecheck *time.Time `json:"unanswered_recheck,omitempty"`
}

type sourceJSON struct {
	CompleteBackTo    *time.Time `json:"complete_back_to,omitempty"`
	CompleteFromStart bool       `json:"complete_from_start"`
	ListedUntil       *time.Time `json:"listed_until,omitempty"`
}

var knownSources = []string{"zepp", "zepp-export", "gadgetbridge", "files"}

// NewCmdStatus builds `bandsync status`.
func NewCmdStatus(f *Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show how every sink stands: done, duplicate, skipped, failed, pending",
		Long: `Show, per sink, how many workouts are done, duplicate (already there another
way, e.g. Zepp's own Strava link), skipped (and why), failed (with class and
message) and pending; how far back the history has been listed; and when
Strava's rate-limit window opens. It reads the store without locking it, so
it works while a sync runs.`,
		Example: "  bandsync status\n  bandsync status --json | jq .sinks.strava",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := gatherStatus(cmd.Context(), f)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(f.IO.Out, st)
			}
			return printStatus(cmd.Context(), f, f.IO.Out, st)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	return cmd
}

// openReadOnly opens the store for reading; ok is false when nothing has
// been synced yet.
func (f *Factory) openReadOnly(ctx context.Context) (st *store.Store, ok bool, err error) {
	c, err := f.Config()
	if err != nil {
		return nil, false, err
	}
	st, err = store.OpenReadOnly(ctx, c.DataDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return st, true, nil
}

func gatherStatus(ctx context.Context, f *Factory) (statusJSON, error) {
	out := statusJSON{Sinks: map[string]sinkStatusJSON{}, Sources: map[string]sourceJSON{}}
	st, ok, err := f.openReadOnly(ctx)
	if err != nil || !ok {
		return out, err
	}
	defer st.Close()
	counts, err := st.Counts(ctx)
	if err != nil {
		return out, err
	}
	for name, c := range counts {
		s := sinkStatusJSON{
			Done: c.States[store.Done], Duplicate: c.States[store.Duplicate], Skipped: c.States[store.Skipped],
			Failed: c.States[store.Failed], Pending: c.States[store.Pending], Uploading: c.States[store.Uploading],
			Retrying: c.Retrying, ChangedAtSource: c.ChangedAtSource, FailedBy: c.FailedBy, SkippedBy: c.SkippedBy,
		}
		if s.FailedBy == nil {
			s.FailedBy = map[string]int{}
		}
		if s.SkippedBy == nil {
			s.SkippedBy = map[string]int{}
		}
		if c.Unanswered > 0 {
			s.Unanswered = c.Unanswered
			if name == "strava" {
				t := c.UnansweredSince.Add(strava.DefaultLostAfter).UTC()
				s.UnansweredRecheck = &t
			}
		}
		if t, ok, err := st.MetaTime(ctx, store.MetaRateLimitOpens(name)); err == nil && ok && t.After(time.Now()) {
			u := t.UTC()
			s.RateLimitOpens = &u
		}
		out.Sinks[name] = s
	}
	_, total, err := st.Workouts(ctx, store.Filter{Limit: 1})
	if err != nil {
		return out, err
	}
	out.Workouts = total
	for _, src := range knownSources {
		cov, err := st.Coverage(ctx, src)
		if err != nil {
			return out, err
		}
		w, ok := store.CompleteBack(cov)
		if !ok {
			continue
		}
		sj := sourceJSON{}
		to := w.To.UTC()
		sj.ListedUntil = &to
		if w.From.Year() <= 1 {
			sj.CompleteFromStart = true
		} else {
			from := w.From.UTC()
			sj.CompleteBackTo = &from
		}
		out.Sources[src] = sj
	}
	if t, ok, err := st.MetaTime(ctx, store.MetaLastWatch); err == nil && ok {
		u := t.UTC()
		out.LastWatch = &u
	}
	if t, ok, err := st.MetaTime(ctx, store.MetaNextWatch); err == nil && ok {
		u := t.UTC()
		out.NextWatch = &u
	}
	return out, nil
}

func printStatus(ctx context.Context, f *Factory, w io.Writer, st statusJSON) error {
	if len(st.Sinks) == 0 && st.Workouts == 0 {
		fmt.Fprintln(w, "Nothing synced yet: run bandsync sync (or bandsync demo to see it work).")
		return nil
	}
	fmt.Fprintf(w, "%d workouts known.\n", st.Workouts)
	names := make([]string, 0, len(st.Sources))
	for n := range st.Sources {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := st.Sources[n]
		switch {
		case s.CompleteFromStart:
			fmt.Fprintf(w, "%s: whole history listed\n", n)
		case s.CompleteBackTo != nil:
			fmt.Fprintf(w, "%s: history complete back to %s\n", n, s.CompleteBackTo.Local().Format("2006-01"))
		}
	}
	sinks := make([]string, 0, len(st.Sinks))
	for n := range st.Sinks {
		sinks = append(sinks, n)
	}
	sort.Strings(sinks)
	for _, n := range sinks {
		s := st.Sinks[n]
		fmt.Fprintf(w, "%s: %d done, %d duplicate, %d skipped, %d failed, %d pending", n, s.Done, s.Duplicate, s.Skipped, s.Failed, s.Pending)
		switch answered := s.Uploading - s.Unanswered; {
		case s.Uploading > 0 && s.Unanswered == 0:
			fmt.Fprintf(w, ", %d uploading (confirmed next run)", s.Uploading)
		case s.Uploading > 0:
			fmt.Fprintf(w, ", %d uploading (%d confirmed next run)", s.Uploading, answered)
		}
		fmt.Fprintln(w)
		if s.Unanswered > 0 {
			when := "the next sync"
			if s.UnansweredRecheck != nil && s.UnansweredRecheck.After(time.Now()) {
				when = "from " + s.UnansweredRecheck.Local().Format("15:04") + " a sync"
			}
			fmt.Fprintf(w, "  %d of them were being sent when bandsync stopped, before %s answered: %s looks for them on %s and sends again those it lacks\n",
				s.Unanswered, n, when, n)
		}
		if s.Duplicate > 0 {
			fmt.Fprintf(w, "  duplicates were already on %s (e.g. posted by Zepp's own link): bandsync workouts --zepp-link lists them\n", n)
		}
		for _, k := range sortedKeys(s.SkippedBy) {
			fmt.Fprintf(w, "  skipped %d: %s\n", s.SkippedBy[k], k)
		}
		for _, k := range sortedKeys(s.FailedBy) {
			fmt.Fprintf(w, "  failed %d (%s)\n", s.FailedBy[k], k)
		}
		if s.Retrying > 0 {
			fmt.Fprintf(w, "  %d failed ones will be retried by themselves\n", s.Retrying)
		}
		if s.ChangedAtSource > 0 {
			fmt.Fprintf(w, "  %d changed at the source after they were synced (not uploaded again)\n", s.ChangedAtSource)
		}
		if s.RateLimitOpens != nil {
			fmt.Fprintf(w, "  rate-limit window opens at %s\n", s.RateLimitOpens.Local().Format("15:04"))
		}
	}
	if failed := st.failedTotal(); failed > 0 {
		if err := printFailures(ctx, f, w); err != nil {
			return err
		}
	}
	if st.NextWatch != nil {
		fmt.Fprintf(w, "watch: next run at %s\n", st.NextWatch.Local().Format("2006-01-02 15:04"))
	}
	return nil
}

func (st statusJSON) failedTotal() int {
	n := 0
	for _, s := range st.Sinks {
		n += s.Failed
	}
	return n
}

// printFailures lists the failed workouts with their messages.
func printFailures(ctx context.Context, f *Factory, w io.Writer) error {
	st, ok, err := f.openReadOnly(ctx)
	if err != nil || !ok {
		return err
	}
	defer st.Close()
	list, _, err := st.Workouts(ctx, store.Filter{State: store.Failed, Limit: 20})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "Failed:")
	for _, ws := range list {
		for _, d := range ws.Deliveries {
			if d.State == store.Failed {
				fmt.Fprintf(w, "  %s %s → %s (%s): %s\n", ws.Workout.Start.Local().Format("2006-01-02 15:04"), ws.Workout.Sport,
					d.Sink, d.FailClass, strings.TrimSpace(d.FailMessage))
			}
		}
	}
	return nil
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
