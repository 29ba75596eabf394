package fit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"time"

	"github.com/muktihari/fit/decoder"
	"github.com/muktihari/fit/profile/mesgdef"
	"github.com/muktihari/fit/profile/typedef"
	"github.com/muktihari/fit/profile/untyped/fieldnum"
	"github.com/muktihari/fit/profile/untyped/mesgnum"
	"github.com/muktihari/fit/proto"

	"github.com/bandsync/bandsync/internal/workout"
)

// Errors Decode returns, wrapped with details; test with errors.Is.
var (
	// ErrEmpty is returned for an input with no bytes.
	ErrEmpty = errors.New("fit: empty input")
	// ErrNotFIT is returned when the input does not start with a FIT header.
	ErrNotFIT = errors.New("fit: not a FIT file")
	// ErrTruncated is returned when the input ends inside the file.
	ErrTruncated = errors.New("fit: file is truncated")
	// ErrChecksum is returned when a CRC does not match: the file is corrupt.
	ErrChecksum = errors.New("fit: CRC mismatch, file is corrupt")
	// ErrCorrupt is returned when the data cannot be decoded, for example a
	// message that refers to a definition the file never gave.
	ErrCorrupt = errors.New("fit: file data is corrupt")
	// ErrNotActivity is returned for a sound FIT file that holds no activity
	// (a course, settings or monitoring file, or one without data).
	ErrNotActivity = errors.New("fit: not a FIT activity")
)

// Decode reads a FIT activity file into a Workout: samples from records
// (enhanced altitude and speed preferred), pauses from timer events, laps,
// pool lengths, session totals, sport, zone (from activity.local_timestamp)
// and the recording device. Running and walking cadence is turned back into
// steps per minute. Origin is left empty for the caller to set.
//
// Chained FIT files are read whole. A broken file gives an error wrapping
// ErrEmpty, ErrNotFIT, ErrTruncated, ErrChecksum, ErrCorrupt or
// ErrNotActivity, or the reader's own error; Decode does not panic on any
// input. DecodeSalvage reads what it can of a damaged file.
func Decode(r io.Reader) (*workout.Workout, error) { return decode(r, false) }

// DecodeSalvage is Decode for damaged files, such as the recording of an app
// that crashed: when the file breaks off (truncated, corrupt data, CRC
// mismatch) after its file_id and at least one record, it returns what was
// read, with a note in Workout.Notes saying what was lost, and a nil error.
// Otherwise it fails as Decode does.
func DecodeSalvage(r io.Reader) (*workout.Workout, error) { return decode(r, true) }

// decode reads the input into memory and decodes it with the fast path
// (fastdecode.go). What the fast path does not handle, among which every
// damaged file, goes through decodeLibrary, the library's decoder, which
// then sees exactly the bytes (and read error) decode saw.
func decode(r io.Reader, salvage bool) (*workout.Workout, error) {
	bp := inputPool.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= maxPooledInput {
			inputPool.Put(bp)
		}
	}()
	var head [14]byte
	n, err := io.ReadFull(r, head[:])
	if err != nil || (head[0] != 12 && head[0] != 14) || string(head[8:12]) != ".FIT" {
		// Not a FIT file, or a short or failing read: no point in reading
		// the rest into memory.
		return decodeLibrary(io.MultiReader(bytes.NewReader(head[:n]), r, errReader{err}), salvage)
	}
	data, err := readRest(r, append((*bp)[:0], head[:]...))
	*bp = data
	if err == nil {
		if w, handled, err := tryFast(data); handled {
			return w, err
		}
	}
	return decodeLibrary(io.MultiReader(bytes.NewReader(data), errReader{err}), salvage)
}

// inputPool holds input buffers for decode; the decoded Workout holds no
// reference to them.
var inputPool = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledInput is the largest buffer put back into inputPool.
const maxPooledInput = 8 << 20

// readRest appends the rest of r to buf.
func readRest(r io.Reader, buf []byte) ([]byte, error) {
	if l, ok := r.(interface{ Len() int }); ok && cap(buf)-len(buf) <= l.Len() {
		// One allocation for a bytes.Reader and the like; +1 so that the
		// read seeing io.EOF does not grow the buffer.
		buf = append(make([]byte, 0, len(buf)+l.Len()+1), buf...)
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// errReader replays a read error after the bytes read before it; a nil or
// io.EOF error ends the input.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) {
	if e.err == nil || e.err == io.ErrUnexpectedEOF {
		return 0, io.EOF
	}
	return 0, e.err
}

// tryFast runs the fast path; handled is false when it leaves data to the
// library (or trips over it: a panic is a bug there, and the library then
// decides).
func tryFast(data []byte) (w *workout.Workout, handled bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			w, handled, err = nil, false, nil
		}
	}()
	st, ok := decodeFast(data)
	if !ok {
		return nil, false, nil
	}
	w, err = st.workout()
	return w, true, err
}

// decodeLibrary is decode with the library's decoder only: the reference
// the fast path must agree with, and what decodes the inputs it leaves.
func decodeLibrary(r io.Reader, salvage bool) (wo *workout.Workout, err error) {
	defer func() {
		// The input is outside data: a library bug must not take the
		// program down. Report it like any other unreadable file.
		if p := recover(); p != nil {
			wo, err = nil, fmt.Errorf("fit: decode: internal error on this input: %v", p)
		}
	}()
	cr := &countingReader{r: r}
	st := newDecodeState()
	dec := decoder.New(cr, decoder.WithMesgListener(st), decoder.WithBroadcastOnly())
	for seq := 0; dec.Next(); seq++ {
		if seq > 0 {
			// Bytes after a complete FIT file that do not start another
			// one are padding some tools leave; the file itself is sound.
			if _, err := dec.PeekFileHeader(); err != nil {
				st.notef("ignored bytes after the end of the FIT data")
				break
			}
		}
		if _, err := dec.Decode(); err != nil {
			err = decodeError(err, cr)
			if !salvage || st.fileID == nil || len(st.w.Samples) == 0 || cr.err != nil {
				return nil, err
			}
			st.salvaged = err
			break
		}
	}
	return st.workout()
}

// decodeError classifies an error from the FIT decoder.
func decodeError(err error, cr *countingReader) error {
	switch {
	case cr.err != nil:
		return fmt.Errorf("fit: read input: %w", cr.err)
	case cr.n == 0 && errors.Is(err, io.EOF):
		return ErrEmpty
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: input ends at byte %d (%w)", ErrTruncated, cr.n, err)
	case errors.Is(err, decoder.ErrCRCChecksumMismatch):
		return fmt.Errorf("%w (%w)", ErrChecksum, err)
	case errors.Is(err, decoder.ErrNotFITFile):
		return fmt.Errorf("%w (%w)", ErrNotFIT, err)
	}
	return fmt.Errorf("%w (%w)", ErrCorrupt, err)
}

// countingReader counts the bytes read and keeps the first read error that
// is not io.EOF, so errors can say where the input ended and why.
type countingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}

// decodeState collects a workout from decoded messages. Messages are only
// valid during OnMesg, so everything is copied out there.
type decodeState struct {
	w workout.Workout

	fileID    *mesgdef.FileId
	creator   *mesgdef.DeviceInfo
	sessions  []*mesgdef.Session
	sport     *mesgdef.Sport // sport message, used when there is no session
	lapSport  typedef.Sport
	localOff  time.Duration
	haveZone  bool
	stoppedAt time.Time // when the timer was stopped; zero while running
	badHR     int
	noTime    int
	salvaged  error // why DecodeSalvage stopped early
}

func newDecodeState() *decodeState { return &decodeState{lapSport: typedef.SportInvalid} }

// lapTriggersFrom maps FIT lap triggers back; others become LapManual.
var lapTriggersFrom = map[typedef.LapTrigger]workout.LapTrigger{
	typedef.LapTriggerTime:       workout.LapTime,
	typedef.LapTriggerDistance:   workout.LapDistance,
	typedef.LapTriggerSessionEnd: workout.LapSessionEnd,
}

func (st *decodeState) notef(format string, args ...any) {
	st.w.Notes = append(st.w.Notes, fmt.Sprintf(format, args...))
}

// OnMesg implements decoder.MesgListener.
func (st *decodeState) OnMesg(m proto.Message) {
	switch m.Num {
	case mesgnum.FileId:
		if st.fileID == nil {
			st.fileID = mesgdef.NewFileId(&m)
		}
	case mesgnum.DeviceInfo:
		if st.creator == nil {
			d := mesgdef.NewDeviceInfo(&m)
			if d.DeviceIndex == typedef.DeviceIndexCreator || d.DeviceIndex == typedef.DeviceIndexInvalid {
				st.creator = d
			}
		}
	case mesgnum.Record:
		st.record(&m)
	case mesgnum.Event:
		st.event(mesgdef.NewEvent(&m))
	case mesgnum.Lap:
		st.lap(mesgdef.NewLap(&m))
	case mesgnum.Length:
		st.length(mesgdef.NewLength(&m))
	case mesgnum.Session:
		st.sessions = append(st.sessions, mesgdef.NewSession(&m))
	case mesgnum.Sport:
		if st.sport == nil {
			st.sport = mesgdef.NewSport(&m)
		}
	case mesgnum.Activity:
		a := mesgdef.NewActivity(&m)
		ts, ok1 := validTime(a.Timestamp)
		lt, ok2 := validTime(a.LocalTimestamp)
		if ok1 && ok2 {
			// Offsets are whole quarter hours everywhere; rounding absorbs
			// a writer that took the two clocks a second apart.
			off := lt.Sub(ts).Round(15 * time.Minute)
			if off.Abs() <= 14*time.Hour {
				st.localOff, st.haveZone = off, true
			}
		}
	}
}

// rawRecord holds a record's fields as the file gives them, each the last
// of its number in the message, except altitude and speed: the last valid
// one.
type rawRecord struct {
	time              uint32
	haveTime          bool // a timestamp field was there
	lat, lon          int32
	alt, speed        uint16
	altValid, spValid bool
	enhAlt, enhSpeed  uint32
	dist              uint32
	power             uint16
	hr, cad, frac     uint8
}

func newRawRecord() rawRecord {
	return rawRecord{
		lat: math.MaxInt32, lon: math.MaxInt32,
		enhAlt: math.MaxUint32, enhSpeed: math.MaxUint32, dist: math.MaxUint32,
		power: 0xFFFF, hr: 0xFF, cad: 0xFF, frac: 0xFF,
	}
}

// record reads a record's fields directly: it is the bulk of a file, and
// mesgdef.NewRecord would zero a 254-value array for each one.
func (st *decodeState) record(m *proto.Message) {
	r := newRawRecord()
	for i := range m.Fields {
		v := m.Fields[i].Value
		switch m.Fields[i].Num {
		case fieldnum.RecordTimestamp:
			r.time, r.haveTime = v.Uint32(), true
		case fieldnum.RecordPositionLat:
			r.lat = v.Int32()
		case fieldnum.RecordPositionLong:
			r.lon = v.Int32()
		case fieldnum.RecordAltitude:
			if x := v.Uint16(); x != 0xFFFF {
				r.alt, r.altValid = x, true
			}
		case fieldnum.RecordEnhancedAltitude:
			r.enhAlt = v.Uint32()
		case fieldnum.RecordHeartRate:
			r.hr = v.Uint8()
		case fieldnum.RecordCadence:
			r.cad = v.Uint8()
		case fieldnum.RecordFractionalCadence:
			r.frac = v.Uint8()
		case fieldnum.RecordDistance:
			r.dist = v.Uint32()
		case fieldnum.RecordSpeed:
			if x := v.Uint16(); x != 0xFFFF {
				r.speed, r.spValid = x, true
			}
		case fieldnum.RecordEnhancedSpeed:
			r.enhSpeed = v.Uint32()
		case fieldnum.RecordPower:
			r.power = v.Uint16()
		}
	}
	st.addRecord(&r)
}

// addRecord turns a record into a sample.
func (st *decodeState) addRecord(r *rawRecord) {
	var s workout.Sample
	var haveTime bool
	if r.haveTime {
		s.Time, haveTime = timeOf(r.time)
	}
	if !haveTime {
		st.noTime++
		return
	}
	if r.lat != math.MaxInt32 && r.lon != math.MaxInt32 {
		if la, lo := degrees(r.lat), degrees(r.lon); workout.ValidPosition(la, lo) {
			s.SetPosition(la, lo)
		}
	}
	if r.enhAlt != math.MaxUint32 {
		s.SetAltitude(float64(r.enhAlt)/5 - 500)
	} else if r.altValid {
		s.SetAltitude(float64(r.alt)/5 - 500)
	}
	switch {
	case r.hr == 0xFF:
	case workout.ValidHeartRate(int(r.hr)):
		s.SetHeartRate(r.hr)
	default:
		st.badHR++
	}
	if r.cad != 0xFF {
		c := float64(r.cad)
		if r.frac != 0xFF {
			c += float64(r.frac) / 128
		}
		s.SetCadence(c) // still in FIT units; doubled in workout() once the sport is known
	}
	if r.dist != math.MaxUint32 {
		s.SetDistance(float64(r.dist) / 100)
	}
	if r.enhSpeed != math.MaxUint32 {
		s.SetSpeed(float64(r.enhSpeed) / 1000)
	} else if r.spValid {
		s.SetSpeed(float64(r.speed) / 1000)
	}
	if r.power != 0xFFFF {
		s.SetPower(r.power)
	}
	st.w.Samples = append(st.w.Samples, s)
}

// event turns timer stop/start pairs into pauses.
func (st *decodeState) event(e *mesgdef.Event) {
	if e.Event != typedef.EventTimer {
		return
	}
	t, ok := validTime(e.Timestamp)
	if !ok {
		return
	}
	switch e.EventType {
	case typedef.EventTypeStop, typedef.EventTypeStopAll, typedef.EventTypeStopDisable, typedef.EventTypeStopDisableAll:
		if st.stoppedAt.IsZero() {
			st.stoppedAt = t
		}
	case typedef.EventTypeStart:
		if !st.stoppedAt.IsZero() {
			if t.After(st.stoppedAt) {
				st.w.Pauses = append(st.w.Pauses, workout.Interval{Start: st.stoppedAt, End: t})
			}
			st.stoppedAt = time.Time{}
		}
	}
}

func (st *decodeState) lap(l *mesgdef.Lap) {
	start, ok := validTime(l.StartTime)
	if !ok {
		return
	}
	lap := workout.Lap{Start: start, Trigger: workout.LapManual}
	if tr, ok := lapTriggersFrom[l.LapTrigger]; ok {
		lap.Trigger = tr
	}
	if d, ok := durationOf(l.TotalElapsedTime); ok {
		lap.Elapsed = d
	} else if end, ok := validTime(l.Timestamp); ok && end.After(start) {
		lap.Elapsed = end.Sub(start)
	}
	if d, ok := durationOf(l.TotalTimerTime); ok {
		lap.Moving = d
	}
	if l.TotalDistance != math.MaxUint32 {
		lap.Distance = float64(l.TotalDistance) / 100
	}
	if l.TotalCalories != 0xFFFF {
		lap.Calories = float64(l.TotalCalories)
	}
	if workout.ValidHeartRate(int(l.AvgHeartRate)) {
		lap.AvgHR = int(l.AvgHeartRate)
	}
	if workout.ValidHeartRate(int(l.MaxHeartRate)) {
		lap.MaxHR = int(l.MaxHeartRate)
	}
	if st.lapSport == typedef.SportInvalid {
		st.lapSport = l.Sport
	}
	st.w.Laps = append(st.w.Laps, lap)
}

func (st *decodeState) length(l *mesgdef.Length) {
	start, ok := validTime(l.StartTime)
	if !ok {
		return
	}
	n := workout.Length{Start: start, Stroke: workout.StrokeUnknown, Idle: l.LengthType == typedef.LengthTypeIdle}
	if d, ok := durationOf(l.TotalElapsedTime); ok {
		n.Elapsed = d
	}
	if l.TotalStrokes != 0xFFFF {
		n.Strokes = int(l.TotalStrokes)
	}
	if l.SwimStroke != typedef.SwimStrokeInvalid {
		n.Stroke = workout.SwimStroke(l.SwimStroke)
	}
	st.w.Lengths = append(st.w.Lengths, n)
}

// workout finishes the Workout once every message has been seen.
func (st *decodeState) workout() (*workout.Workout, error) {
	if st.fileID == nil {
		return nil, fmt.Errorf("%w: no file_id message", ErrNotActivity)
	}
	if st.fileID.Type != typedef.FileActivity {
		return nil, fmt.Errorf("%w: file type is %s", ErrNotActivity, st.fileID.Type)
	}
	if len(st.w.Samples) == 0 && len(st.sessions) == 0 && len(st.w.Laps) == 0 {
		return nil, fmt.Errorf("%w: no records, laps or session", ErrNotActivity)
	}
	w := &st.w
	st.device()
	st.summary()
	if st.haveZone {
		w.Zone = workout.Zone{Offset: st.localOff, Known: true}
	}
	if w.Sport.OnFoot() {
		for i := range w.Samples {
			if w.Samples[i].Has&workout.HasCadence != 0 {
				w.Samples[i].Cadence *= 2 // strides/min to steps/min
			}
		}
		w.Summary.AvgCadence *= 2
		w.Summary.MaxCadence *= 2
	}
	if w.Start.IsZero() {
		if len(w.Samples) > 0 {
			w.Start = w.Samples[0].Time
		} else if len(w.Laps) > 0 {
			w.Start = w.Laps[0].Start
		}
	}
	st.dropUnwritable()
	st.dropStraySamples()
	if st.salvaged != nil {
		st.notef("file is damaged, kept the %d records read before the damage; totals the file did not reach are missing: %v",
			len(w.Samples), st.salvaged)
	}
	if st.badHR > 0 {
		st.notef("%d heart-rate readings outside 25-250 bpm treated as absent", st.badHR)
	}
	if st.noTime > 0 {
		st.notef("%d records without a timestamp skipped", st.noTime)
	}
	w.Normalize()
	return w, nil
}

// dropUnwritable drops totals, laps and lengths that end past the last date
// FIT can hold: they come from corrupt fields, and a Workout must be one
// Encode can write again.
func (st *decodeState) dropUnwritable() {
	w := &st.w
	writable := func(t time.Time) bool { _, ok := fitTime(t); return ok }
	if w.Summary.Elapsed > 0 && !writable(w.Start.Add(w.Summary.Elapsed)) {
		st.notef("session elapsed time %v is impossible; ignored", w.Summary.Elapsed)
		w.Summary.Elapsed, w.Summary.Moving = 0, 0
	}
	laps := w.Laps[:0]
	for _, l := range w.Laps {
		if writable(l.End()) {
			laps = append(laps, l)
		}
	}
	if n := len(w.Laps) - len(laps); n > 0 {
		st.notef("%d laps with impossible times dropped", n)
	}
	w.Laps = laps
	lengths := w.Lengths[:0]
	for _, l := range w.Lengths {
		if writable(l.Start.Add(l.Elapsed)) {
			lengths = append(lengths, l)
		}
	}
	if n := len(w.Lengths) - len(lengths); n > 0 {
		st.notef("%d pool lengths with impossible times dropped", n)
	}
	w.Lengths = lengths
}

// strayMargin is how far outside the session a record may lie before it is
// taken for garbage, such as the record dated 2085 that a crashing app left.
const strayMargin = time.Hour

// dropStraySamples removes samples far outside the session's time span.
func (st *decodeState) dropStraySamples() {
	w := &st.w
	if w.Start.IsZero() || w.Summary.Elapsed <= 0 {
		return
	}
	from, to := w.Start.Add(-strayMargin), w.Start.Add(w.Summary.Elapsed+strayMargin)
	kept := w.Samples[:0]
	for _, s := range w.Samples {
		if !s.Time.Before(from) && !s.Time.After(to) {
			kept = append(kept, s)
		}
	}
	if n := len(w.Samples) - len(kept); n > 0 {
		st.notef("%d records dated more than %v outside the session dropped", n, strayMargin)
	}
	w.Samples = kept
}

func (st *decodeState) device() {
	f := st.fileID
	manufacturer, product, name, serial, software := f.Manufacturer, f.Product, f.ProductName, f.SerialNumber, uint16(0xFFFF)
	if c := st.creator; c != nil {
		if manufacturer == typedef.ManufacturerInvalid {
			manufacturer = c.Manufacturer
		}
		if product == 0xFFFF {
			product = c.Product
		}
		if name == "" {
			name = c.ProductName
		}
		if serial == 0 {
			serial = c.SerialNumber
		}
		software = c.SoftwareVersion
	}
	st.w.Device = decodeDevice(manufacturer, product, name, serial, software)
}

// summary fills Start, Sport and Summary from the session (summing the
// totals of a multi-session file).
func (st *decodeState) summary() {
	w := &st.w
	var sport, sub = typedef.SportInvalid, typedef.SubSportInvalid
	switch {
	case len(st.sessions) > 0:
		sport, sub = st.sessions[0].Sport, st.sessions[0].SubSport
	case st.sport != nil:
		sport, sub = st.sport.Sport, st.sport.SubSport
	default:
		sport = st.lapSport
	}
	if sub == typedef.SubSportInvalid {
		sub = typedef.SubSportGeneric
	}
	if sport != typedef.SportInvalid {
		s, ok := workout.SportFromFIT(uint8(sport), uint8(sub))
		w.Sport = s
		if !ok {
			st.notef("unknown FIT sport %d (sub_sport %d) mapped to %s", sport, sub, s)
		}
	}
	if len(st.sessions) > 1 {
		st.notef("%d sessions merged into one workout (sport of the first)", len(st.sessions))
	}
	sum := &w.Summary
	for i, s := range st.sessions {
		if t, ok := validTime(s.StartTime); ok && (w.Start.IsZero() || t.Before(w.Start)) {
			w.Start = t
		}
		if d, ok := durationOf(s.TotalElapsedTime); ok {
			sum.Elapsed += d
		}
		if d, ok := durationOf(s.TotalTimerTime); ok {
			sum.Moving += d
		}
		if s.TotalDistance != math.MaxUint32 {
			sum.Distance += float64(s.TotalDistance) / 100
		}
		if s.TotalCalories != 0xFFFF {
			sum.Calories += float64(s.TotalCalories)
		}
		if s.TotalAscent != 0xFFFF {
			sum.Ascent += float64(s.TotalAscent) + hundredths(s.TotalFractionalAscent)
		}
		if s.TotalDescent != 0xFFFF {
			sum.Descent += float64(s.TotalDescent) + hundredths(s.TotalFractionalDescent)
		}
		if s.TotalCycles != math.MaxUint32 {
			switch {
			case w.Sport.OnFoot():
				sum.Steps += int(s.TotalCycles) * 2
				if s.TotalFractionalCycles != 0xFF {
					sum.Steps += int(math.Round(float64(s.TotalFractionalCycles) / 64))
				}
			case w.Sport.Swimming():
				sum.Strokes += int(s.TotalCycles)
			}
		}
		if i > 0 {
			continue // the rest are not additive: keep the first session's
		}
		if workout.ValidHeartRate(int(s.AvgHeartRate)) {
			sum.AvgHR = int(s.AvgHeartRate)
		}
		if workout.ValidHeartRate(int(s.MaxHeartRate)) {
			sum.MaxHR = int(s.MaxHeartRate)
		}
		sum.AvgCadence = cadenceOf(s.AvgCadence, s.AvgFractionalCadence)
		sum.MaxCadence = cadenceOf(s.MaxCadence, s.MaxFractionalCadence)
		if s.EnhancedMaxSpeed != math.MaxUint32 {
			sum.MaxSpeed = float64(s.EnhancedMaxSpeed) / 1000
		} else if s.MaxSpeed != 0xFFFF {
			sum.MaxSpeed = float64(s.MaxSpeed) / 1000
		}
		if s.TotalTrainingEffect != 0xFF {
			sum.TrainingEffect = float64(s.TotalTrainingEffect) / 10
		}
		if w.Sport.Swimming() {
			sum.Stroke = workout.StrokeUnknown
			if s.SwimStroke != typedef.SwimStrokeInvalid {
				sum.Stroke = workout.SwimStroke(s.SwimStroke)
			}
			if s.PoolLength != 0xFFFF && s.PoolLength != 0 {
				sum.PoolLength = float64(s.PoolLength) / 100
			}
		}
	}
}

func cadenceOf(whole, frac uint8) float64 {
	if whole == 0xFF {
		return 0
	}
	c := float64(whole)
	if frac != 0xFF {
		c += float64(frac) / 128
	}
	return c
}

func hundredths(v uint8) float64 {
	if v == 0xFF {
		return 0
	}
	return float64(v) / 100
}

// validTime accepts a mesgdef time that holds a real date (not invalid and
// not device-relative).
func validTime(t time.Time) (time.Time, bool) {
	v, ok := fitTime(t)
	if !ok || t.IsZero() {
		return time.Time{}, false
	}
	return timeOf(v)
}
