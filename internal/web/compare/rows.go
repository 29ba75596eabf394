package compare

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/bandsync/bandsync/internal/workout"
)

// Row is one figure of the band beside Strava's.
type Row struct {
	Name   string // e.g. "Moving time"
	Band   string // the band's figure, formatted; "—" when not recorded
	Strava string // Strava's figure, formatted; "—" when not known
	// Note explains in one line why the figures differ, or what Strava
	// did to get its figure; empty when there is nothing to explain.
	Note string
	// Differs reports whether the figures differ beyond rounding.
	Differs bool
}

// zeppLinkDevice is the device name Strava shows for every activity Zepp's
// own Strava link posts (strava-api.md §6.2).
const zeppLinkDevice = "Huami Amazfit Pace"

const none = "—"

// Rows compares a band's workout with Strava's activity: elapsed and
// moving time, distance, average pace (sports on foot), average heart rate,
// calories, device name and sport type. Strava's figures come from
// s.Activity, or, when that is not known, from the streams themselves.
// band must not be nil.
func Rows(band *workout.Workout, s Streams) []Row {
	st := stravaFigures(s)
	pauses, paused := pausesWithin(band)
	rows := []Row{
		elapsedRow(band.Elapsed(), st.elapsed),
		movingRow(band.Elapsed(), band.Moving(), st.moving, st.elapsed, pauses, paused),
		distanceRow(band, st.distance),
	}
	if band.Sport.OnFoot() {
		rows = append(rows, paceRow(band, st))
	}
	rows = append(rows,
		hrRow(bandAvgHR(band), st.avgHR, pauses),
		caloriesRow(band.Summary.Calories, s.Activity.Calories, s.Empty() && s.Activity == (Activity{})),
		deviceRow(deviceName(band.Device), s.Activity.DeviceName, s.Activity != (Activity{})),
		sportRow(band.Sport, s.Activity.SportType),
	)
	return rows
}

// figures are Strava's totals, from the activity or the streams.
type figures struct {
	elapsed, moving time.Duration
	distance, avgHR float64
}

func stravaFigures(s Streams) figures {
	a := s.Activity
	f := figures{elapsed: a.Elapsed, moving: a.Moving, distance: a.Distance, avgHR: a.AvgHR}
	n := len(s.Time)
	if n == 0 {
		return f
	}
	if f.elapsed == 0 {
		f.elapsed = seconds(s.Time[n-1] - s.Time[0])
	}
	if f.moving == 0 && len(s.Moving) == n {
		// A gap of many sampling intervals is a stopped timer (no records
		// are written in a pause), not movement.
		limit := max(10, 4*medianStep(s.Time))
		var sec float64
		for i := 1; i < n; i++ {
			if dt := s.Time[i] - s.Time[i-1]; s.Moving[i] && dt <= limit {
				sec += dt
			}
		}
		f.moving = seconds(sec)
	}
	if f.distance == 0 && len(s.Distance) == n {
		f.distance = s.Distance[n-1]
	}
	if f.avgHR == 0 && len(s.HeartRate) == n {
		var sum float64
		var k int
		for i, hr := range s.HeartRate {
			if hr > 0 && hr < 255 && (len(s.Moving) != n || s.Moving[i]) {
				sum += hr
				k++
			}
		}
		if k > 0 {
			f.avgHR = sum / float64(k)
		}
	}
	return f
}

// medianStep is the median interval of an ascending time stream.
func medianStep(t []float64) float64 {
	if len(t) < 2 {
		return 0
	}
	d := make([]float64, len(t)-1)
	for i := range d {
		d[i] = t[i+1] - t[i]
	}
	slices.Sort(d)
	return d[len(d)/2]
}

// pausesWithin counts the band's pauses inside the workout and their
// total length.
func pausesWithin(w *workout.Workout) (int, time.Duration) {
	span := workout.Interval{Start: w.Start, End: w.End()}
	n, total := 0, time.Duration(0)
	for _, p := range workout.MergeIntervals(w.Pauses) {
		start, end := maxTime(p.Start, span.Start), minTime(p.End, span.End)
		if end.After(start) {
			n++
			total += end.Sub(start)
		}
	}
	return n, total
}

func elapsedRow(band, strava time.Duration) Row {
	r := Row{Name: "Elapsed time", Band: clock(band), Strava: clock(strava)}
	if band == 0 || strava == 0 {
		return r
	}
	if d := strava - band; absDur(d) > 2*time.Second {
		r.Differs = true
		r.Note = fmt.Sprintf("Strava's elapsed time spans the recorded samples, first to last; the band counts from start to stop (%s)", signed(d))
	}
	return r
}

func movingRow(elapsed, band, strava, stravaElapsed time.Duration, pauses int, paused time.Duration) Row {
	r := Row{Name: "Moving time", Band: clock(band), Strava: clock(strava)}
	if band == 0 || strava == 0 {
		return r
	}
	d := strava - band
	tol := max(5*time.Second, band/100)
	switch {
	case absDur(d) <= tol && pauses > 0:
		r.Note = fmt.Sprintf("Strava's moving time excludes %s, %s, as the band's timer does", plural(pauses, "pause"), clock(paused))
	case absDur(d) <= tol:
	case d < 0 && pauses == 0:
		r.Note = fmt.Sprintf("Strava computes moving time itself from speed when the file has no timer events: it counted %s as standing still", clock(-d))
	case d < 0:
		r.Note = fmt.Sprintf("Strava left out %s more than the band's %s: it also drops stretches it judges as standing still", clock(-d), plural(pauses, "pause"))
	case pauses > 0 && absDur(strava-max(elapsed, stravaElapsed)) <= tol:
		r.Note = fmt.Sprintf("Strava ignored the band's %s (%s) and counts the whole elapsed time as moving", plural(pauses, "pause"), clock(paused))
	default:
		r.Note = fmt.Sprintf("Strava counts %s more as moving than the band's timer: it recomputed moving time from speed", clock(d))
	}
	r.Differs = absDur(d) > tol
	return r
}

func distanceRow(band *workout.Workout, strava float64) Row {
	b := band.Distance()
	r := Row{Name: "Distance", Band: km(b), Strava: km(strava)}
	if b == 0 || strava == 0 {
		return r
	}
	d := strava - b
	if math.Abs(d) <= max(10, b*0.005) {
		return r
	}
	r.Differs = true
	if band.HasGPS() {
		r.Note = fmt.Sprintf("Strava measures distance along the GPS track its own way, smoothing out jitter (%+.2f km)", d/1000)
	} else {
		r.Note = fmt.Sprintf("Without GPS Strava takes the file's per-second distance, not the band's summary total (%+.2f km)", d/1000)
	}
	return r
}

// paceRow shows the pace the band's app shows (elapsed time over
// distance) beside Strava's (moving time over distance): the difference the
// seed article asks about.
func paceRow(band *workout.Workout, st figures) Row {
	dist := band.Distance()
	bp := workout.Pace(band.Elapsed(), dist)
	var sp time.Duration
	if st.distance > 0 {
		sp = workout.Pace(st.moving, st.distance)
	}
	r := Row{Name: "Average pace", Band: pace(bp), Strava: pace(sp)}
	if bp == 0 || sp == 0 {
		return r
	}
	if absDur(bp-sp) > time.Second {
		r.Differs = true
		r.Note = "The band's app divides elapsed time (pauses included) by distance; Strava divides moving time, so its pace is faster"
		if sp > bp {
			r.Note = "The band's app divides elapsed time by distance; Strava divides its moving time by its own distance"
		}
	}
	return r
}

func hrRow(band, strava float64, pauses int) Row {
	r := Row{Name: "Average heart rate", Band: bpm(band), Strava: bpm(strava)}
	if band == 0 || strava == 0 || math.Abs(band-strava) <= 1 {
		return r
	}
	r.Differs = true
	if pauses > 0 {
		r.Note = fmt.Sprintf("Strava averages heart rate over moving time only; the band's figure includes the %s", plural(pauses, "pause"))
	} else {
		r.Note = "Strava averages the heart-rate samples in the file; the band reports its own figure"
	}
	return r
}

// bandAvgHR is the reported average, else the mean of the valid samples.
func bandAvgHR(w *workout.Workout) float64 {
	if w.Summary.AvgHR > 0 {
		return float64(w.Summary.AvgHR)
	}
	var sum, n float64
	for _, s := range w.Samples {
		if s.Has&workout.HasHeartRate != 0 && workout.ValidHeartRate(int(s.HeartRate)) {
			sum += float64(s.HeartRate)
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / n
}

func caloriesRow(band, strava float64, unknown bool) Row {
	r := Row{Name: "Calories", Band: kcal(band), Strava: kcal(strava)}
	switch {
	case band == 0 || unknown:
	case strava == 0:
		r.Note = "Strava shows no calories for this activity"
	case math.Abs(strava-band) > max(2, band*0.02):
		r.Differs = true
		r.Note = "Strava estimates calories itself from heart rate and moving time; the band uses its own model over the whole workout"
	}
	return r
}

func deviceRow(band, strava string, known bool) Row {
	r := Row{Name: "Device", Band: text(band), Strava: text(strava)}
	switch {
	case !known:
	case strava == "":
		r.Differs = band != ""
		r.Note = "Strava shows no device: it names only devices whose FIT manufacturer and product are in its own table"
	case strings.EqualFold(strava, zeppLinkDevice) && !strings.EqualFold(band, zeppLinkDevice):
		r.Differs = true
		r.Note = "Zepp's own Strava link (and bandsync's legacy identity) labels every band \"" + zeppLinkDevice + "\""
	case band != "" && !strings.Contains(strings.ToLower(strava), strings.ToLower(band)) && !strings.Contains(strings.ToLower(band), strings.ToLower(strava)):
		r.Differs = true
		r.Note = "Strava shows the name its device table has for the FIT file's manufacturer and product IDs, not the band's own name"
	}
	return r
}

func sportRow(band workout.Sport, strava string) Row {
	want, _ := band.Strava()
	r := Row{Name: "Sport type", Band: want, Strava: text(strava)}
	if strava != "" && strava != want {
		r.Differs = true
		r.Note = fmt.Sprintf("Strava has it as %s, not %s: guessed from the file by whoever uploaded it, or changed on strava.com", strava, want)
	}
	return r
}

// deviceName is how a person names the band: "Amazfit Bip 3", or
// "Xiaomi Mi Band 6" when the model does not name the maker.
func deviceName(d workout.Device) string {
	maker, model := strings.TrimSpace(d.Maker), strings.TrimSpace(d.Model)
	switch {
	case model == "":
		return maker
	case maker == "" || strings.Contains(strings.ToLower(model), strings.ToLower(maker)):
		return model
	}
	return maker + " " + model
}

// clock formats a duration as h:mm:ss, or m:ss under an hour.
func clock(d time.Duration) string {
	if d <= 0 {
		return none
	}
	s := int64(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

func signed(d time.Duration) string {
	if d < 0 {
		return "−" + clock(-d)
	}
	return "+" + clock(d)
}

func pace(d time.Duration) string {
	if d <= 0 {
		return none
	}
	return clock(d) + " /km"
}

func km(m float64) string {
	if m <= 0 {
		return none
	}
	return fmt.Sprintf("%.2f km", m/1000)
}

func bpm(v float64) string {
	if v <= 0 {
		return none
	}
	return fmt.Sprintf("%.0f bpm", v)
}

func kcal(v float64) string {
	if v <= 0 {
		return none
	}
	return fmt.Sprintf("%.0f kcal", v)
}

func text(s string) string {
	if s == "" {
		return none
	}
	return s
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
