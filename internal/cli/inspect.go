package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/bandsync/bandsync/internal/format"
	"github.com/bandsync/bandsync/internal/workout"
)

// InspectOptions are the options of `bandsync inspect`.
type InspectOptions struct {
	IO   IOStreams
	File string
	JSON bool
}

// NewCmdInspect builds `bandsync inspect`.
func NewCmdInspect(f *Factory, runF func(*InspectOptions) error) *cobra.Command {
	opts := &InspectOptions{}
	cmd := &cobra.Command{
		Use:   "inspect FILE",
		Short: "Show what a workout file holds: sport, start and zone, times, distance, HR, pauses, laps, device",
		Long: `Show what a workout file holds, as bandsync decodes it: the sport, the start
time and zone, elapsed and moving time, distance, heart rate, the pauses (which
make Strava's moving time), laps and the recording device. It is how you see
why Strava shows what it shows.`,
		Example: `  bandsync inspect run_1698569116_detail.json
  bandsync inspect --json ride.fit | jq .moving_s`,
		Args: exactArgs(1, "one FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO, opts.File = f.IO, args[0]
			if runF != nil {
				return runF(opts)
			}
			return inspectRun(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print one JSON document")
	return cmd
}

func inspectRun(opts *InspectOptions) error {
	w, err := format.ReadFile(opts.File)
	if err != nil {
		return err
	}
	rep := describe(opts.File, w)
	if opts.JSON {
		return writeJSON(opts.IO.Out, rep)
	}
	return rep.print(opts.IO.Out)
}

// inspection is the --json shape of `bandsync inspect`.
type inspection struct {
	File       string     `json:"file"`
	Sport      string     `json:"sport"`
	StravaType string     `json:"strava_sport_type"`
	Trainer    bool       `json:"trainer"`
	Start      time.Time  `json:"start"`
	StartLocal string     `json:"start_local"`
	Zone       *string    `json:"zone"`
	ElapsedS   float64    `json:"elapsed_s"`
	MovingS    float64    `json:"moving_s"`
	DistanceM  float64    `json:"distance_m"`
	PaceSPerKm float64    `json:"pace_s_per_km,omitempty"`
	AvgHR      int        `json:"avg_hr,omitempty"`
	MaxHR      int        `json:"max_hr,omitempty"`
	Calories   float64    `json:"calories,omitempty"`
	AscentM    float64    `json:"ascent_m,omitempty"`
	DescentM   float64    `json:"descent_m,omitempty"`
	Steps      int        `json:"steps,omitempty"`
	Samples    int        `json:"samples"`
	Streams    []string   `json:"streams"`
	Pauses     []pauseRep `json:"pauses"`
	Laps       []lapRep   `json:"laps"`
	Lengths    int        `json:"lengths,omitempty"`
	Device     deviceRep  `json:"device"`
	Notes      []string   `json:"notes,omitempty"`
}

type pauseRep struct {
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	DurationS float64   `json:"duration_s"`
}

type lapRep struct {
	Start     time.Time `json:"start"`
	ElapsedS  float64   `json:"elapsed_s"`
	DistanceM float64   `json:"distance_m"`
	AvgHR     int       `json:"avg_hr,omitempty"`
}

type deviceRep struct {
	Maker    string `json:"maker,omitempty"`
	Model    string `json:"model,omitempty"`
	Product  uint16 `json:"product,omitempty"`
	Firmware string `json:"firmware,omitempty"`
}

func describe(file string, w *workout.Workout) inspection {
	st, trainer := w.Sport.Strava()
	r := inspection{
		File: file, Sport: w.Sport.String(), StravaType: st, Trainer: trainer,
		Start: w.Start.UTC(), StartLocal: w.LocalStart().Format(time.RFC3339),
		ElapsedS: w.Elapsed().Seconds(), MovingS: w.Moving().Seconds(), DistanceM: w.Distance(),
		AvgHR: w.Summary.AvgHR, MaxHR: w.Summary.MaxHR, Calories: w.Summary.Calories,
		AscentM: w.Summary.Ascent, DescentM: w.Summary.Descent, Steps: w.Summary.Steps,
		Samples: len(w.Samples), Streams: streams(w), Lengths: len(w.Lengths),
		Device: deviceRep{w.Device.Maker, w.Device.Model, w.Device.Product, w.Device.Firmware},
		Notes:  w.Notes, Pauses: []pauseRep{}, Laps: []lapRep{},
	}
	if w.Zone.Known {
		z := w.LocalStart().Format("-07:00")
		r.Zone = &z
	}
	if r.AvgHR == 0 && r.MaxHR == 0 {
		// Files without totals (GPX, TCX without lap figures): from the samples.
		r.AvgHR, r.MaxHR = heartRate(w.Samples)
	}
	if p := workout.Pace(w.Moving(), r.DistanceM); p > 0 {
		r.PaceSPerKm = p.Seconds()
	}
	for _, p := range w.Pauses {
		r.Pauses = append(r.Pauses, pauseRep{p.Start, p.End, p.Duration().Seconds()})
	}
	for _, l := range w.Laps {
		r.Laps = append(r.Laps, lapRep{l.Start, l.Elapsed.Seconds(), l.Distance, l.AvgHR})
	}
	return r
}

// heartRate is the average and maximum of the samples' heart rates.
func heartRate(samples []workout.Sample) (avg, peak int) {
	sum, n := 0, 0
	for i := range samples {
		if samples[i].Has&workout.HasHeartRate != 0 {
			hr := int(samples[i].HeartRate)
			sum, n, peak = sum+hr, n+1, max(peak, hr)
		}
	}
	if n == 0 {
		return 0, 0
	}
	return (sum + n/2) / n, peak
}

// streams names the sample fields present anywhere in the workout.
func streams(w *workout.Workout) []string {
	var has workout.Fields
	for i := range w.Samples {
		has |= w.Samples[i].Has
	}
	names := []struct {
		f workout.Fields
		n string
	}{{workout.HasPosition, "gps"}, {workout.HasAltitude, "altitude"}, {workout.HasHeartRate, "heart_rate"},
		{workout.HasCadence, "cadence"}, {workout.HasDistance, "distance"}, {workout.HasSpeed, "speed"}, {workout.HasPower, "power"}}
	out := []string{}
	for _, n := range names {
		if has&n.f != 0 {
			out = append(out, n.n)
		}
	}
	return out
}

func (r inspection) print(out io.Writer) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	row := func(k, format string, a ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, a...)...) }
	row("File", "%s", r.File)
	trainer := ""
	if r.Trainer {
		trainer = ", indoor (trainer)"
	}
	row("Sport", "%s (Strava: %s%s)", r.Sport, r.StravaType, trainer)
	zone := "zone unknown, shown in UTC"
	if r.Zone != nil {
		zone = "UTC" + *r.Zone
	}
	row("Start", "%s (%s)", strings.Replace(r.StartLocal, "T", " ", 1), zone)
	row("Elapsed", "%s", clock(r.ElapsedS))
	paused := r.ElapsedS - r.MovingS
	row("Moving", "%s (elapsed minus %d pauses, %s; this is Strava's moving time)", clock(r.MovingS), len(r.Pauses), clock(paused))
	if r.DistanceM > 0 {
		row("Distance", "%.2f km", r.DistanceM/1000)
	}
	if r.PaceSPerKm > 0 {
		row("Pace", "%s /km over moving time", clock(r.PaceSPerKm))
	}
	var hr []string
	if r.AvgHR > 0 {
		hr = append(hr, fmt.Sprintf("avg %d", r.AvgHR))
	}
	if r.MaxHR > 0 {
		hr = append(hr, fmt.Sprintf("max %d", r.MaxHR))
	}
	if len(hr) > 0 {
		row("Heart rate", "%s bpm", strings.Join(hr, ", "))
	}
	if r.Calories > 0 {
		row("Calories", "%.0f kcal", r.Calories)
	}
	if r.AscentM > 0 || r.DescentM > 0 {
		row("Elevation", "+%.0f m, -%.0f m", r.AscentM, r.DescentM)
	}
	if r.Steps > 0 {
		row("Steps", "%d", r.Steps)
	}
	streams := "none"
	if len(r.Streams) > 0 {
		streams = strings.Join(r.Streams, ", ")
	}
	row("Samples", "%d (%s)", r.Samples, streams)
	dev := strings.TrimSpace(r.Device.Maker + " " + r.Device.Model)
	if dev == "" {
		dev = "unknown"
	}
	if r.Device.Firmware != "" {
		dev += ", firmware " + r.Device.Firmware
	}
	row("Device", "%s", dev)
	row("Pauses", "%d", len(r.Pauses))
	for i, p := range r.Pauses {
		row("", "%2d. %s + %s", i+1, p.Start.Format("15:04:05Z"), clock(p.DurationS))
	}
	row("Laps", "%d", len(r.Laps))
	for i, l := range r.Laps {
		row("", "%2d. %.2f km in %s", i+1, l.DistanceM/1000, clock(l.ElapsedS))
	}
	if r.Lengths > 0 {
		row("Lengths", "%d", r.Lengths)
	}
	for _, n := range r.Notes {
		row("Note", "%s", n)
	}
	return tw.Flush()
}

// clock formats seconds as h:mm:ss or m:ss.
func clock(sec float64) string {
	s := int64(sec + 0.5)
	if s < 0 {
		s = 0
	}
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s%3600/60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
