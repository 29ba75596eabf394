package gadgetbridge

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/source"
	"github.com/bandsync/bandsync/internal/workout"
)

// Mi Fit's origin_db (offline-formats.md §4): TRACKRECORD holds one
// summary per workout, TRACKDATA its streams as ';'-separated text.
// USER_INFOS and friends are never read.

func probeMiFit(ctx context.Context, db *sql.DB, path string) (*schema, error) {
	rec, err := columns(ctx, db, "TRACKRECORD")
	if err != nil {
		return nil, dbError(path, err)
	}
	if err := requireColumns(path, "TRACKRECORD", rec, "TRACKID", "SOURCE", "TYPE", "DISTANCE", "COSTTIME", "CAL", "AVGHR", "ENDTIME", "DEVICE"); err != nil {
		return nil, err
	}
	data, err := columns(ctx, db, "TRACKDATA")
	if err != nil {
		return nil, dbError(path, err)
	}
	if err := requireColumns(path, "TRACKDATA", data, "TRACKID", "SOURCE", "SEGMENT", "BULKLL", "BULKAL", "BULKTIME", "BULKHR", "BULKPAUSE"); err != nil {
		return nil, err
	}
	return &schema{kind: KindMiFit, sum: rec}, nil
}

type mifitRecord struct {
	trackID, source, typ    int64
	distance, costTime, cal sql.NullInt64
	avgHR, endTime, maxHR   sql.NullInt64
	steps                   sql.NullInt64
	device                  sql.NullString
	dataRows, dataLen       int64
}

func (sc *schema) mifitSelect() string {
	opt := func(c string) string {
		if sc.sum[c] {
			return "r." + c
		}
		return "NULL"
	}
	return "SELECT r.TRACKID, r.SOURCE, r.TYPE, r.DISTANCE, r.COSTTIME, r.CAL, r.AVGHR, r.ENDTIME, " + opt("MAX_HR") + ", " + opt("TOTAL_STEP") +
		", r.DEVICE, (SELECT count(*) FROM TRACKDATA d WHERE d.TRACKID = r.TRACKID AND d.SOURCE = r.SOURCE)" +
		", (SELECT total(length(d.BULKLL) + length(d.BULKHR) + length(d.BULKTIME) + length(d.BULKAL) + length(d.BULKPAUSE)) FROM TRACKDATA d WHERE d.TRACKID = r.TRACKID AND d.SOURCE = r.SOURCE)" +
		" FROM TRACKRECORD r"
}

func scanMiFit(sc interface{ Scan(...any) error }) (*mifitRecord, error) {
	m := &mifitRecord{}
	var dataLen float64
	err := sc.Scan(&m.trackID, &m.source, &m.typ, &m.distance, &m.costTime, &m.cal, &m.avgHR, &m.endTime, &m.maxHR, &m.steps, &m.device, &m.dataRows, &dataLen)
	m.dataLen = int64(dataLen)
	return m, err
}

func mifitID(m *mifitRecord) string { return fmt.Sprintf("mifit-%d-%d", m.trackID, m.source) }

func (m *mifitRecord) summary() (workout.Summary, workout.Sport) {
	sum := workout.Summary{
		Distance: positive(float64(m.distance.Int64)),
		Moving:   seconds(int(m.costTime.Int64)),
		Calories: positive(float64(m.cal.Int64)),
		AvgHR:    hr(int(m.avgHR.Int64)),
		MaxHR:    hr(int(m.maxHR.Int64)),
		Steps:    max(int(m.steps.Int64), 0),
	}
	if m.endTime.Int64 > m.trackID {
		sum.Elapsed = seconds(int(m.endTime.Int64 - m.trackID))
	}
	sport, _ := workout.SportFromZepp(int(m.typ))
	return sum, sport
}

func (s *Source) listMiFit(ctx context.Context, db *sql.DB, since, until time.Time, yield func(source.Ref, error) bool) {
	fail := func(err error) {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		yield(source.Ref{}, err)
	}
	sc := &schema{}
	var err error
	if sc.sum, err = columns(ctx, db, "TRACKRECORD"); err != nil {
		fail(dbError(s.dbPath, err))
		return
	}
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if !since.IsZero() {
		lo = since.Unix()
		if time.Unix(lo, 0).Before(since) {
			lo++
		}
	}
	if !until.IsZero() {
		hi = until.Unix()
		if time.Unix(hi, 0).Before(until) {
			hi++
		}
	}
	rows, err := db.QueryContext(ctx, sc.mifitSelect()+" WHERE r.TRACKID >= ? AND r.TRACKID < ? ORDER BY r.TRACKID DESC, r._id ASC", lo, hi)
	if err != nil {
		fail(dbError(s.dbPath, err))
		return
	}
	defer rows.Close()
	var group []source.Ref
	flush := func() bool {
		slices.SortFunc(group, func(a, b source.Ref) int { return strings.Compare(a.ID, b.ID) })
		for _, r := range group {
			if err := ctx.Err(); err != nil {
				fail(err)
				return false
			}
			if !yield(r, nil) {
				return false
			}
		}
		group = group[:0]
		return true
	}
	seen := map[string]bool{}
	for rows.Next() {
		if err := ctx.Err(); err != nil {
			fail(err)
			return
		}
		m, err := scanMiFit(rows)
		if err != nil {
			fail(dbError(s.dbPath, err))
			return
		}
		start := time.Unix(m.trackID, 0).UTC()
		if len(group) > 0 && !group[0].Start.Equal(start) {
			if !flush() {
				return
			}
			clear(seen)
		}
		id := mifitID(m)
		if seen[id] { // two TYPE rows for one track: the first wins
			continue
		}
		seen[id] = true
		sum, sport := m.summary()
		h := sha256.New()
		fmt.Fprint(h, "mifit1", m.trackID, m.source, m.typ, m.distance.Int64, m.costTime.Int64, m.cal.Int64, m.avgHR.Int64,
			m.endTime.Int64, m.maxHR.Int64, m.steps.Int64, m.device.String, m.dataRows, m.dataLen)
		group = append(group, source.Ref{ID: id, Start: start, Sport: sport, Summary: sum, Fingerprint: hex.EncodeToString(h.Sum(nil)[:16])})
	}
	if err := rows.Err(); err != nil {
		fail(dbError(s.dbPath, err))
		return
	}
	flush()
}

func (s *Source) fetchMiFit(ctx context.Context, ref source.Ref) (*workout.Workout, error) {
	var trackID, src int64
	if _, err := fmt.Sscanf(ref.ID, "mifit-%d-%d", &trackID, &src); err != nil {
		return nil, errclass.Missing(fmt.Errorf("gadgetbridge: %q is not a Mi Fit workout ID", ref.ID))
	}
	db, sc, err := s.fetchDB(ctx)
	if err != nil {
		return nil, err
	}
	m, err := scanMiFit(db.QueryRowContext(ctx, sc.mifitSelect()+" WHERE r.TRACKID = ? AND r.SOURCE = ? ORDER BY r._id LIMIT 1", trackID, src))
	if err == sql.ErrNoRows {
		return nil, errclass.Missing(fmt.Errorf("gadgetbridge: workout %s is no longer in %s", ref.ID, s.dbPath))
	}
	if err != nil {
		return nil, dbError(s.dbPath, err)
	}
	sum, sport := m.summary()
	w := &workout.Workout{Start: time.Unix(trackID, 0).UTC(), Sport: sport, Summary: sum,
		Device: workout.Device{Maker: "Xiaomi", Model: miFitDevice(m.device.String)}}
	rows, err := db.QueryContext(ctx, `SELECT BULKLL, BULKAL, BULKTIME, BULKHR, BULKPAUSE FROM TRACKDATA
		WHERE TRACKID = ? AND SOURCE = ? ORDER BY SEGMENT, _id`, trackID, src)
	if err != nil {
		return nil, dbError(s.dbPath, err)
	}
	defer rows.Close()
	segments := 0
	for rows.Next() {
		var ll, al, tm, hrs, pause sql.NullString
		if err := rows.Scan(&ll, &al, &tm, &hrs, &pause); err != nil {
			return nil, dbError(s.dbPath, err)
		}
		segments++
		samples, pauses, notes := decodeMiFit(w.Start, ll.String, al.String, tm.String, hrs.String, pause.String)
		w.Samples = append(w.Samples, samples...)
		w.Pauses = append(w.Pauses, pauses...)
		w.Notes = append(w.Notes, notes...)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError(s.dbPath, err)
	}
	if segments > 1 {
		w.Notes = append(w.Notes, fmt.Sprintf("%d TRACKDATA segments, each read relative to the workout start", segments))
	}
	w.Samples = orderSamples(w.Samples)
	w.Pauses = workout.MergeIntervals(w.Pauses)
	return w, nil
}

// miFitDevice names the band from TRACKRECORD.DEVICE ("0:MILI:8").
func miFitDevice(d string) string {
	if strings.Contains(d, "MILI") {
		return "Mi Band"
	}
	return ""
}

// fields splits a Mi Fit bulk column into its ';'-separated entries, each
// split on ','.
func fields(s string) [][]string {
	var out [][]string
	for _, e := range strings.Split(s, ";") {
		if e == "" {
			continue
		}
		out = append(out, strings.Split(e, ","))
	}
	return out
}

func atoi(s string) (int64, bool) {
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return v, err == nil
}

// decodeMiFit decodes one TRACKDATA row (offline-formats.md §4): BULKTIME
// per-point Δt in s (the first relative to the start), BULKLL "lat,lon" in
// 1e-8° (first absolute, then deltas), BULKAL altitude in cm (−2000000 =
// none), BULKHR "Δt,Δbpm" run-length deltas (an empty Δt means 1 s), and
// BULKPAUSE "start,duration,…".
func decodeMiFit(start time.Time, ll, al, tm, hrs, pause string) (samples []workout.Sample, pauses []workout.Interval, notes []string) {
	times, coords, alts := fields(tm), fields(ll), fields(al)
	n := min(len(times), len(coords))
	if len(times) != len(coords) {
		notes = append(notes, fmt.Sprintf("BULKTIME has %d entries and BULKLL %d: read %d points", len(times), len(coords), n))
	}
	var t, lat, lon int64
	bad := 0
	for i := 0; i < n; i++ {
		dt, ok1 := atoi(times[i][0])
		if len(coords[i]) < 2 {
			bad++
			continue
		}
		dlat, ok2 := atoi(coords[i][0])
		dlon, ok3 := atoi(coords[i][1])
		if !ok1 || !ok2 || !ok3 || dt < 0 {
			bad++
			continue
		}
		t += dt
		lat += dlat
		lon += dlon
		s := workout.Sample{Time: start.Add(time.Duration(t) * time.Second)}
		la, lo := float64(lat)/1e8, float64(lon)/1e8
		if workout.ValidPosition(la, lo) {
			s.SetPosition(la, lo)
		}
		if i < len(alts) {
			if cm, ok := atoi(alts[i][0]); ok && cm != -2000000 {
				s.SetAltitude(float64(cm) / 100)
			}
		}
		if s.Has != 0 {
			samples = append(samples, s)
		}
	}
	var ht, bpm int64
	for _, e := range fields(hrs) {
		dt := int64(1)
		if e[0] != "" {
			v, ok := atoi(e[0])
			if !ok || v < 0 {
				bad++
				continue
			}
			dt = v
		}
		ht += dt
		if len(e) > 1 {
			if d, ok := atoi(e[1]); ok {
				bpm += d
			}
		}
		if workout.ValidHeartRate(int(bpm)) {
			s := workout.Sample{Time: start.Add(time.Duration(ht) * time.Second)}
			s.SetHeartRate(uint8(bpm))
			samples = append(samples, s)
		}
	}
	for _, e := range fields(pause) {
		if len(e) < 2 {
			continue
		}
		ps, ok1 := atoi(e[0])
		d, ok2 := atoi(e[1])
		if ok1 && ok2 && d > 0 {
			p := time.Unix(ps, 0).UTC()
			pauses = append(pauses, workout.Interval{Start: p, End: p.Add(time.Duration(d) * time.Second)})
		}
	}
	if bad > 0 {
		notes = append(notes, fmt.Sprintf("%d unreadable Mi Fit entries skipped", bad))
	}
	return samples, pauses, notes
}
