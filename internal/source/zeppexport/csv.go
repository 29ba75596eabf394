package zeppexport

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/bandsync/bandsync/internal/workout"
)

// SportRow is one workout summary of an export's SPORT CSV
// (zepp-cloud-api.md §5.1): `type,startTime,sportTime(s),maxPace(/meter),
// minPace(/meter),distance(m),avgPace(/meter),calories(kcal)`. Zero means
// the column was absent, empty or not a positive number.
type SportRow struct {
	Line     int       // 1-based line in the file, for messages
	Type     int       // Zepp sport code (zepp-cloud-api.md §4)
	Start    time.Time // UTC, second precision
	Zoned    bool      // whether startTime carried a UTC offset
	Offset   time.Duration
	Duration time.Duration // sportTime: the workout's time, s
	Distance float64       // m
	Calories float64       // kcal
	// MaxPace and MinPace are the pace columns in s/m; which is the fastest
	// changed between app versions, so FastestPace takes the smaller.
	MaxPace, MinPace, AvgPace float64
	// Raw is the row as read, for the fingerprint.
	Raw string
}

// FastestPace is the smaller positive pace column, s/m (0 = none).
func (r SportRow) FastestPace() float64 {
	switch {
	case r.MaxPace > 0 && r.MinPace > 0:
		return math.Min(r.MaxPace, r.MinPace)
	case r.MaxPace > 0:
		return r.MaxPace
	}
	return r.MinPace
}

// MaxSportCSV bounds the size of a SPORT CSV: one short row per workout,
// so even decades of daily workouts stay far below it.
const MaxSportCSV = 64 << 20

// Start-time bounds: 2000-01-01 to 2100-01-01, as the Zepp trackid's.
var minStart, maxStart = time.Unix(946684800, 0), time.Unix(4102444800, 0)

// ParseSportCSV reads a SPORT CSV: a header naming the columns (matched by
// name without the unit in parentheses, case-insensitively; a UTF-8 BOM is
// skipped), then one row per workout. A row that cannot be read is
// reported in rowErrs (each names its line) and the others are returned;
// err is set only when the file as a whole is unusable (no header, no
// type or startTime column, too large).
func ParseSportCSV(r io.Reader) (rows []SportRow, rowErrs []error, err error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSportCSV+1))
	if err != nil {
		return nil, nil, err
	}
	if len(data) > MaxSportCSV {
		return nil, nil, fmt.Errorf("more than %d MB: not a SPORT summary file", MaxSportCSV>>20)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, errors.New("empty file: no header row")
		}
		return nil, nil, fmt.Errorf("header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		name, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(h)), "(")
		if _, dup := col[name]; !dup {
			col[name] = i
		}
	}
	iType, okType := col["type"]
	iStart, okStart := col["starttime"]
	if !okType || !okStart {
		return nil, nil, fmt.Errorf("header %q lacks the type and startTime columns: not a SPORT summary file", strings.Join(header, ","))
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// A broken quote swallows the rest of the file: stop there.
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				err = fmt.Errorf("line %d: %w", pe.StartLine, pe.Err)
			}
			rowErrs = append(rowErrs, err)
			break
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		line, _ := cr.FieldPos(0)
		row := SportRow{Line: line, Raw: strings.Join(rec, ",")}
		if iType >= len(rec) || iStart >= len(rec) {
			rowErrs = append(rowErrs, fmt.Errorf("line %d: %d columns, the header has %d", line, len(rec), len(header)))
			continue
		}
		t, err := strconv.Atoi(strings.TrimSpace(rec[iType]))
		if err != nil || t < 0 || t > 1<<20 {
			rowErrs = append(rowErrs, fmt.Errorf("line %d: type %q is not a sport code", line, rec[iType]))
			continue
		}
		row.Type = t
		if row.Start, row.Offset, row.Zoned, err = parseStart(strings.TrimSpace(rec[iStart])); err != nil {
			rowErrs = append(rowErrs, fmt.Errorf("line %d: %w", line, err))
			continue
		}
		row.Duration = time.Duration(positive(get(rec, "sporttime")) * float64(time.Second))
		row.Distance = positive(get(rec, "distance"))
		row.Calories = positive(get(rec, "calories"))
		row.MaxPace = positive(get(rec, "maxpace"))
		row.MinPace = positive(get(rec, "minpace"))
		row.AvgPace = positive(get(rec, "avgpace"))
		rows = append(rows, row)
	}
	return rows, rowErrs, nil
}

// maxDuration bounds sportTime: longer is not one workout.
const maxDuration = 7 * 24 * time.Hour

// positive parses a number, giving 0 for anything empty, malformed,
// negative (the format's "no value" sentinels), infinite or absurd.
func positive(s string) float64 {
	if s == "" {
		return 0
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f <= 0 || f > 1e9 {
		return 0
	}
	return f
}

// startLayouts are the startTime forms seen or plausible: the reference's
// "2026-06-19 04:43:15+0000", with a colon in the offset, RFC 3339, and
// without an offset (read as UTC).
var startLayouts = []struct {
	layout string
	zoned  bool
}{
	{"2006-01-02 15:04:05-0700", true},
	{"2006-01-02 15:04:05Z0700", true},
	{"2006-01-02 15:04:05-07:00", true},
	{"2006-01-02 15:04:05Z07:00", true},
	{time.RFC3339, true},
	{"2006-01-02T15:04:05-0700", true},
	{"2006-01-02 15:04:05", false},
	{"2006-01-02T15:04:05", false},
}

func parseStart(s string) (t time.Time, off time.Duration, zoned bool, err error) {
	for _, l := range startLayouts {
		if t, err = time.Parse(l.layout, s); err == nil {
			_, o := t.Zone()
			t = t.UTC()
			if t.Before(minStart) || !t.Before(maxStart) {
				return time.Time{}, 0, false, fmt.Errorf("startTime %q is not between 2000 and 2100", s)
			}
			return t, time.Duration(o) * time.Second, l.zoned, nil
		}
	}
	return time.Time{}, 0, false, fmt.Errorf("startTime %q is not a date and time like 2024-06-19 04:43:15+0000", s)
}

// Workout turns a summary row into a workout without streams: the export
// holds no samples for it, and none are made up.
func (r SportRow) Workout() *workout.Workout {
	sport, ok := workout.SportFromZepp(r.Type)
	w := &workout.Workout{Start: r.Start, Sport: sport, Device: workout.Device{Maker: "Zepp"}}
	if !ok {
		w.Notes = append(w.Notes, fmt.Sprintf("unknown Zepp sport type %d, recorded as %s", r.Type, sport))
	}
	if r.Zoned {
		w.Zone = workout.Zone{Offset: r.Offset, Known: true}
	} else {
		w.Notes = append(w.Notes, "startTime has no UTC offset: taken as UTC, local time not known")
	}
	r.applyTo(&w.Summary)
	if r.Duration > 0 {
		w.Notes = append(w.Notes, "summary only (Zepp export SPORT row): no streams; elapsed time is the sport time, pauses not known")
	} else {
		w.Notes = append(w.Notes, "summary only (Zepp export SPORT row): no streams")
	}
	return w
}

// applyTo fills the totals of s that are still zero.
func (r SportRow) applyTo(s *workout.Summary) {
	if r.Duration > 0 && r.Duration <= maxDuration {
		if s.Moving == 0 {
			s.Moving = r.Duration
		}
		if s.Elapsed == 0 {
			s.Elapsed = r.Duration
		}
	}
	if s.Distance == 0 {
		s.Distance = r.Distance
	}
	if s.Calories == 0 {
		s.Calories = r.Calories
	}
	if p := r.FastestPace(); s.MaxSpeed == 0 && p > 0 && 1/p < 100 {
		s.MaxSpeed = 1 / p
	}
}
