package gadgetbridge

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/format/fit"
	"github.com/bandsync/bandsync/internal/format/gpx"
	"github.com/bandsync/bandsync/internal/source"
	"github.com/bandsync/bandsync/internal/workout"
)

// schema is what probeSchema learnt about a database.
type schema struct {
	kind         Kind
	userVersion  int
	sum          map[string]bool // BASE_ACTIVITY_SUMMARY columns
	dev          map[string]bool // DEVICE columns
	sampleTables []string        // per-minute activity-sample tables present
	devAttrs     bool
}

// summaryColumns are the columns of BASE_ACTIVITY_SUMMARY since its first
// version (2017); later versions append SUMMARY_DATA (update 29),
// RAW_SUMMARY_DATA (30) and RAW_DETAILS_PATH (44), read when present
// (offline-formats.md §1.3).
var summaryColumns = []string{"_ID", "NAME", "START_TIME", "END_TIME", "ACTIVITY_KIND", "BASE_LONGITUDE",
	"BASE_LATITUDE", "BASE_ALTITUDE", "GPX_TRACK", "DEVICE_ID"}

func probeSchema(ctx context.Context, db *sql.DB, path string) (*schema, error) {
	sc := &schema{kind: KindGadgetbridge}
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&sc.userVersion); err != nil {
		return nil, dbError(path, err)
	}
	var err error
	if sc.sum, err = columns(ctx, db, "BASE_ACTIVITY_SUMMARY"); err != nil {
		return nil, dbError(path, err)
	}
	if len(sc.sum) == 0 && tableExists(ctx, db, "TRACKRECORD") {
		return probeMiFit(ctx, db, path)
	}
	if err := requireColumns(path, "BASE_ACTIVITY_SUMMARY", sc.sum, summaryColumns...); err != nil {
		return nil, err
	}
	if sc.dev, err = columns(ctx, db, "DEVICE"); err != nil {
		return nil, dbError(path, err)
	}
	if err := requireColumns(path, "DEVICE", sc.dev, "_ID", "NAME", "MANUFACTURER", "IDENTIFIER"); err != nil {
		return nil, err
	}
	for _, t := range []string{"MI_BAND_ACTIVITY_SAMPLE", "HUAMI_EXTENDED_ACTIVITY_SAMPLE", "XIAOMI_ACTIVITY_SAMPLE"} {
		if c, err := columns(ctx, db, t); err == nil && c["TIMESTAMP"] && c["DEVICE_ID"] && c["HEART_RATE"] {
			sc.sampleTables = append(sc.sampleTables, t)
		}
	}
	if c, err := columns(ctx, db, "DEVICE_ATTRIBUTES"); err == nil && c["FIRMWARE_VERSION1"] && c["DEVICE_ID"] && c["VALID_FROM_UTC"] {
		sc.devAttrs = true
	}
	return sc, nil
}

// rowSelect selects a summary row with its device, the optional columns as
// NULL when this schema version lacks them.
func (sc *schema) rowSelect() string {
	opt := func(cols map[string]bool, alias, c string) string {
		if cols[c] {
			return alias + "." + c
		}
		return "NULL"
	}
	return "SELECT s._id, s.NAME, s.START_TIME, s.END_TIME, s.ACTIVITY_KIND, s.BASE_LONGITUDE, s.BASE_LATITUDE, s.BASE_ALTITUDE, s.GPX_TRACK, " +
		opt(sc.sum, "s", "RAW_DETAILS_PATH") + ", " + opt(sc.sum, "s", "SUMMARY_DATA") + ", " + opt(sc.sum, "s", "RAW_SUMMARY_DATA") +
		", s.DEVICE_ID, d.NAME, d.MANUFACTURER, d.IDENTIFIER, " + opt(sc.dev, "d", "MODEL") + ", " + opt(sc.dev, "d", "TYPE_NAME") +
		" FROM BASE_ACTIVITY_SUMMARY s LEFT JOIN DEVICE d ON d._id = s.DEVICE_ID"
}

// row is one BASE_ACTIVITY_SUMMARY row with its device.
type row struct {
	id                                             int64
	name                                           sql.NullString
	start, end                                     int64 // ms
	kind                                           int64
	baseLon, baseLat, baseAlt                      sql.NullInt64
	gpx, rawPath, sumJSON                          sql.NullString
	rawSum                                         []byte
	deviceID                                       int64
	devName, devMaker, devIdent, devModel, devType sql.NullString
}

func scanRow(sc interface{ Scan(...any) error }) (*row, error) {
	r := &row{}
	err := sc.Scan(&r.id, &r.name, &r.start, &r.end, &r.kind, &r.baseLon, &r.baseLat, &r.baseAlt, &r.gpx,
		&r.rawPath, &r.sumJSON, &r.rawSum, &r.deviceID, &r.devName, &r.devMaker, &r.devIdent, &r.devModel, &r.devType)
	return r, err
}

// ceilMs is t in Unix milliseconds, rounded up, so that "ms ≥ ceilMs(t)"
// means "at or after t" for millisecond starts.
func ceilMs(t time.Time, open int64) int64 {
	if t.IsZero() {
		return open
	}
	ms := t.UnixMilli()
	if time.UnixMilli(ms).Before(t) {
		ms++
	}
	return ms
}

// listRows yields the summary rows in [since, until). It returns false
// when the listing must stop (the consumer broke off, or an error was
// yielded).
func (s *Source) listRows(ctx context.Context, db *sql.DB, sc *schema, fits *fitIndex, since, until time.Time,
	emit func(source.Ref) bool, yield func(source.Ref, error) bool) bool {
	fail := func(err error) bool {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		yield(source.Ref{}, err)
		return false
	}
	stmt, err := db.PrepareContext(ctx, sc.rowSelect()+" WHERE s._id = ?")
	if err != nil {
		return fail(dbError(s.dbPath, err))
	}
	defer stmt.Close()
	rows, err := db.QueryContext(ctx, `SELECT _id, START_TIME FROM BASE_ACTIVITY_SUMMARY
		WHERE START_TIME >= ? AND START_TIME < ? ORDER BY START_TIME DESC, _id ASC`,
		ceilMs(since, math.MinInt64), ceilMs(until, math.MaxInt64))
	if err != nil {
		return fail(dbError(s.dbPath, err))
	}
	defer rows.Close()

	// Rows sharing a start are buffered, so that their IDs (which hash
	// the device) can be ordered; such groups hold one or two rows.
	var group []*row
	flush := func() bool {
		refs := make([]source.Ref, 0, len(group))
		seen := map[string]bool{}
		for _, r := range group {
			id := strconv.FormatInt(r.start, 10) + "-" + deviceKey(r.devIdent.String)
			if seen[id] { // the same device twice at one start: tell them apart
				id += "-" + strconv.FormatInt(r.id, 10)
			}
			seen[id] = true
			refs = append(refs, s.refOf(id, r, fits))
		}
		group = group[:0]
		slices.SortFunc(refs, func(a, b source.Ref) int { return strings.Compare(a.ID, b.ID) })
		for _, ref := range refs {
			if err := ctx.Err(); err != nil {
				return fail(err)
			}
			if !emit(ref) {
				return false
			}
		}
		return true
	}
	for rows.Next() {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		var id, start int64
		if err := rows.Scan(&id, &start); err != nil {
			return fail(dbError(s.dbPath, err))
		}
		if len(group) > 0 && group[0].start != start && !flush() {
			return false
		}
		r, err := scanRow(stmt.QueryRowContext(ctx, id))
		if err != nil {
			return fail(dbError(s.dbPath, err))
		}
		group = append(group, r)
	}
	if err := rows.Err(); err != nil {
		return fail(dbError(s.dbPath, err))
	}
	if len(group) > 0 {
		return flush()
	}
	return true
}

// summaryOf decodes what the row says about totals and sport.
func summaryOf(r *row) (workout.Summary, workout.Sport, []string) {
	var notes []string
	var raw *rawSummary
	if len(r.rawSum) > 0 {
		var err error
		if raw, err = parseRawSummary(r.rawSum); err != nil {
			notes = append(notes, "raw summary not decoded: "+err.Error())
		}
	}
	var sum workout.Summary
	switch {
	case raw != nil:
		sum = raw.summary
	case r.sumJSON.Valid && r.sumJSON.String != "":
		var err error
		if sum, err = jsonSummary(r.sumJSON.String); err != nil {
			notes = append(notes, err.Error())
		}
	}
	if r.end > r.start && r.end-r.start < 30*24*3600*1000 {
		sum.Elapsed = time.Duration(r.end-r.start) * time.Millisecond
	}
	sport, ok := sportOf(raw, int(r.kind))
	if !ok {
		code := fmt.Sprintf("ACTIVITY_KIND %d", r.kind)
		if raw != nil && raw.hasSport {
			code = fmt.Sprintf("sport code %d and %s", raw.sport, code)
		}
		notes = append(notes, fmt.Sprintf("unknown %s: sport left as %s", code, sport))
	}
	return sum, sport, notes
}

// links are the files a row points at, found or not.
type links struct {
	details, track, fit    linked
	hasDetails, hasTrack   bool
	hasFIT                 bool
	detailsErr, trackErr   error // a candidate exists but was refused
	wantDetails, wantTrack bool  // the row names a file
	detailsName, trackName string
}

func (s *Source) linksOf(r *row, fits *fitIndex) links {
	var l links
	if r.rawPath.Valid && r.rawPath.String != "" {
		l.wantDetails, l.detailsName = true, r.rawPath.String
		l.details, l.hasDetails, l.detailsErr = s.files.find(candidates(r.rawPath.String, "rawDetails"))
	}
	if r.gpx.Valid && r.gpx.String != "" {
		l.wantTrack, l.trackName = true, r.gpx.String
		l.track, l.hasTrack, l.trackErr = s.files.find(candidates(r.gpx.String, ""))
	}
	if fits != nil {
		if e := fits.forStart(r.start); e != nil {
			l.fit, l.hasFIT = e.f, true
		}
	}
	return l
}

// refOf builds a row's listing entry. The fingerprint hashes every column
// bandsync reads and the size and stamp of every linked file, so an edit,
// a re-fetch with more detail or a file appearing changes it.
func (s *Source) refOf(id string, r *row, fits *fitIndex) source.Ref {
	sum, sport, _ := summaryOf(r)
	l := s.linksOf(r, fits)
	h := sha256.New()
	field := func(v any) { fmt.Fprintf(h, "%v\x00", v) }
	field("gb1")
	for _, v := range []any{r.id, r.name.String, r.start, r.end, r.kind, r.baseLon.Int64, r.baseLat.Int64, r.baseAlt.Int64,
		r.gpx.String, r.rawPath.String, r.sumJSON.String, r.devName.String, r.devModel.String, r.devMaker.String} {
		field(v)
	}
	h.Write(r.rawSum)
	for _, f := range []struct {
		ok bool
		l  linked
	}{{l.hasDetails, l.details}, {l.hasTrack, l.track}, {l.hasFIT, l.fit}} {
		field(f.ok)
		if f.ok {
			field(f.l.name)
			field(f.l.size)
			field(f.l.stamp)
		}
	}
	return source.Ref{
		ID:          id,
		Start:       time.UnixMilli(r.start).UTC(),
		Sport:       sport,
		Fingerprint: hex.EncodeToString(h.Sum(nil)[:16]),
		Summary:     sum,
	}
}

// parseID splits "<start ms>-<device key>[-<row id>]".
func parseID(id string) (start int64, dev string, rowID int64, ok bool) {
	parts := strings.Split(id, "-")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, "", 0, false
	}
	start, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil {
		return 0, "", 0, false
	}
	if len(parts) == 3 {
		if rowID, err = strconv.ParseInt(parts[2], 10, 64); err != nil {
			return 0, "", 0, false
		}
	}
	return start, parts[1], rowID, true
}

// maxLinked bounds a linked file read into memory.
const maxLinked = 256 << 20

func (s *Source) fetchRow(ctx context.Context, ref source.Ref) (*workout.Workout, error) {
	start, dev, rowID, ok := parseID(ref.ID)
	if !ok {
		return nil, errclass.Missing(fmt.Errorf("gadgetbridge: %q is not a workout ID of this source", ref.ID))
	}
	db, sc, err := s.fetchDB(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, sc.rowSelect()+" WHERE s.START_TIME = ? ORDER BY s._id", start)
	if err != nil {
		return nil, dbError(s.dbPath, err)
	}
	var r *row
	for rows.Next() {
		c, err := scanRow(rows)
		if err != nil {
			rows.Close()
			return nil, dbError(s.dbPath, err)
		}
		if deviceKey(c.devIdent.String) == dev && (rowID == 0 || c.id == rowID) {
			r = c
			break
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, dbError(s.dbPath, err)
	}
	if r == nil {
		return nil, errclass.Missing(fmt.Errorf("gadgetbridge: workout %s is no longer in %s", ref.ID, s.dbPath))
	}
	fits := s.currentFITs()
	w, err := s.build(ctx, db, sc, r, fits)
	if err != nil {
		return nil, fmt.Errorf("gadgetbridge: workout %s: %w", ref.ID, err)
	}
	return w, nil
}

// build turns a row and its files into a workout. Detail comes from the
// best source present: the raw details blob (full heart rate, indoor
// too), then an auto-exported FIT, then the GPX; with none, the workout
// has the summary only, plus the band's per-minute heart rate if it logged
// any.
func (s *Source) build(ctx context.Context, db *sql.DB, sc *schema, r *row, fits *fitIndex) (*workout.Workout, error) {
	sum, sport, notes := summaryOf(r)
	w := &workout.Workout{
		Start:   time.UnixMilli(r.start).UTC(),
		Sport:   sport,
		Name:    r.name.String,
		Summary: sum,
		Device:  workout.Device{Maker: r.devMaker.String, Model: firstOf(r.devName.String, r.devModel.String, r.devType.String)},
		Notes:   notes,
	}
	if sc.devAttrs {
		var fw sql.NullString
		err := db.QueryRowContext(ctx, `SELECT FIRMWARE_VERSION1 FROM DEVICE_ATTRIBUTES WHERE DEVICE_ID = ?
			AND (VALID_FROM_UTC IS NULL OR VALID_FROM_UTC <= ?) ORDER BY VALID_FROM_UTC DESC LIMIT 1`, r.deviceID, r.start).Scan(&fw)
		if err == nil {
			w.Device.Firmware = fw.String
		}
	}
	l := s.linksOf(r, fits)
	if l.detailsErr != nil {
		return nil, l.detailsErr
	}
	if l.trackErr != nil {
		return nil, l.trackErr
	}
	var raw *rawSummary
	if len(r.rawSum) > 0 {
		raw, _ = parseRawSummary(r.rawSum)
	}
	xiaomi := l.wantDetails && strings.HasPrefix(baseName(l.detailsName), "xiaomi_")
	done := false
	switch {
	case l.hasDetails && !xiaomi:
		if err := s.fromDetails(w, r, raw, l.details); err != nil {
			return nil, err
		}
		done = true
	case l.wantDetails && !xiaomi && !l.hasFIT && !l.hasTrack:
		return nil, missingFile(l.detailsName, s.files.describe())
	case l.wantDetails && !xiaomi:
		w.Notes = append(w.Notes, fmt.Sprintf("raw details %s not in the export: used the %s", baseName(l.detailsName), map[bool]string{true: "FIT file", false: "GPX track"}[l.hasFIT]))
	case xiaomi:
		w.Notes = append(w.Notes, "Xiaomi raw details are not decoded: used what else the export holds")
	}
	if !done && l.hasFIT {
		if err := merge(w, l.fit, "FIT", func(b []byte) (*workout.Workout, error) { return fit.Decode(bytes.NewReader(b)) }); err != nil {
			return nil, err
		}
		done = true
	}
	if !done && l.wantTrack {
		if !l.hasTrack {
			return nil, missingFile(l.trackName, s.files.describe())
		}
		if err := merge(w, l.track, "GPX", func(b []byte) (*workout.Workout, error) { return gpx.Decode(bytes.NewReader(b)) }); err != nil {
			return nil, err
		}
		done = true
	}
	if !hasHR(w.Samples) {
		if err := s.minuteHR(ctx, db, sc, r, w); err != nil {
			return nil, err
		}
	}
	return w, nil
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func baseName(p string) string {
	p = strings.ReplaceAll(p, `\`, "/")
	return p[strings.LastIndex(p, "/")+1:]
}

// ErrMissingFile is matched by the error for a file a row names that the
// export does not hold.
var ErrMissingFile = errors.New("linked file missing")

func missingFile(stored, where string) error {
	return errclass.Hinted(fmt.Errorf("%w: %s is not in %s", ErrMissingFile, baseName(stored), where),
		"export with Gadgetbridge's \"Backup to zip\" (or copy its files folder beside the database) so workouts keep their tracks")
}

func hasHR(samples []workout.Sample) bool {
	for i := range samples {
		if samples[i].Has&workout.HasHeartRate != 0 {
			return true
		}
	}
	return false
}

// fromDetails decodes a raw details blob: a FIT file (Garmin rows), a Zepp
// OS TLV stream (after a Zepp OS summary), or classic Huami records.
func (s *Source) fromDetails(w *workout.Workout, r *row, raw *rawSummary, f linked) error {
	b, err := readLinked(f, maxLinked)
	if err != nil {
		return err
	}
	switch {
	case len(b) >= 12 && string(b[8:12]) == ".FIT":
		return merge(w, f, "FIT", func([]byte) (*workout.Workout, error) { return fit.Decode(bytes.NewReader(b)) })
	case raw != nil && raw.zeppOS:
		samples, pauses, notes := zeppOSDetails(b, r.start)
		w.Samples, w.Pauses = samples, pauses
		w.Notes = append(w.Notes, notes...)
	default:
		alt := int64(noAltitude)
		if r.baseAlt.Valid {
			alt = r.baseAlt.Int64
		}
		pts, trailing := huamiDetails(b, r.start, r.baseLon.Int64, r.baseLat.Int64, alt)
		samples, notes := huamiSamples(pts)
		w.Samples = samples
		w.Notes = append(w.Notes, notes...)
		if trailing > 0 {
			w.Notes = append(w.Notes, fmt.Sprintf("%s ends in a partial record (%d bytes), ignored", baseName(f.name), trailing))
		}
	}
	return nil
}

// merge decodes a FIT or GPX file and takes its streams; the database
// keeps the final word on start, sport and totals, and fills only totals
// the row lacks.
func merge(w *workout.Workout, f linked, what string, decode func([]byte) (*workout.Workout, error)) error {
	b, err := readLinked(f, maxLinked)
	if err != nil {
		return err
	}
	d, err := decode(b)
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, f.name, err)
	}
	w.Samples, w.Pauses, w.Laps, w.Lengths = d.Samples, d.Pauses, d.Laps, d.Lengths
	fillSummary(&w.Summary, d.Summary)
	if w.Device.Model == "" && w.Device.Maker == "" {
		w.Device = d.Device
	}
	if w.Name == "" {
		w.Name = d.Name
	}
	if d.Zone.Known {
		w.Zone = d.Zone
	}
	for _, n := range d.Notes {
		w.Notes = append(w.Notes, what+": "+n)
	}
	return nil
}

// fillSummary copies into dst the totals it lacks.
func fillSummary(dst *workout.Summary, src workout.Summary) {
	fill := func(d *float64, s float64) {
		if *d == 0 {
			*d = s
		}
	}
	fill(&dst.Distance, src.Distance)
	fill(&dst.Calories, src.Calories)
	fill(&dst.Ascent, src.Ascent)
	fill(&dst.Descent, src.Descent)
	fill(&dst.MaxSpeed, src.MaxSpeed)
	fill(&dst.AvgCadence, src.AvgCadence)
	fill(&dst.MaxCadence, src.MaxCadence)
	if dst.Elapsed == 0 {
		dst.Elapsed = src.Elapsed
	}
	if dst.Moving == 0 {
		dst.Moving = src.Moving
	}
	if dst.AvgHR == 0 {
		dst.AvgHR = src.AvgHR
	}
	if dst.MaxHR == 0 {
		dst.MaxHR = src.MaxHR
	}
	if dst.Steps == 0 {
		dst.Steps = src.Steps
	}
}

// minuteHR adds the band's per-minute heart rate (the all-day activity log,
// Unix seconds) within the workout, for workouts without detail heart
// rate: offline-formats.md §7.2 (c). These are real readings, one a
// minute; nothing is interpolated.
func (s *Source) minuteHR(ctx context.Context, db *sql.DB, sc *schema, r *row, w *workout.Workout) error {
	end := r.end
	if end <= r.start {
		return nil
	}
	for _, t := range sc.sampleTables {
		rows, err := db.QueryContext(ctx, `SELECT TIMESTAMP, HEART_RATE FROM `+t+`
			WHERE DEVICE_ID = ? AND TIMESTAMP >= ? AND TIMESTAMP <= ? ORDER BY TIMESTAMP`,
			r.deviceID, (r.start+999)/1000, end/1000)
		if err != nil {
			return dbError(s.dbPath, err)
		}
		var add []workout.Sample
		for rows.Next() {
			var ts, bpm int64
			if err := rows.Scan(&ts, &bpm); err != nil {
				rows.Close()
				return dbError(s.dbPath, err)
			}
			if workout.ValidHeartRate(int(bpm)) {
				smp := workout.Sample{Time: time.Unix(ts, 0).UTC()}
				smp.SetHeartRate(uint8(bpm))
				add = append(add, smp)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return dbError(s.dbPath, err)
		}
		if len(add) > 0 {
			w.Samples = orderSamples(append(w.Samples, add...))
			w.Notes = append(w.Notes, fmt.Sprintf("heart rate from %d per-minute readings of the band's activity log (%s): the workout has no detail heart rate", len(add), t))
			return nil
		}
	}
	return nil
}
