package fit

// The encoder bandsync used before the hand-written one in encode.go: it
// builds proto messages for github.com/muktihari/fit's encoder. It stays
// here, in a test file, as the reference the new encoder's output must
// decode the same as (encode_ref_test.go's tests).

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"time"
	"unicode/utf8"

	"github.com/muktihari/fit/encoder"
	"github.com/muktihari/fit/profile/factory"
	"github.com/muktihari/fit/profile/mesgdef"
	"github.com/muktihari/fit/profile/typedef"
	"github.com/muktihari/fit/profile/untyped/fieldnum"
	"github.com/muktihari/fit/profile/untyped/mesgnum"
	"github.com/muktihari/fit/proto"

	"github.com/bandsync/bandsync/internal/workout"
)

// refEncode is the old Encode.
func refEncode(w io.Writer, wo *workout.Workout, opt EncodeOptions) error {
	if wo == nil {
		return errors.New("fit: encode: no workout")
	}
	b, err := refEncodeBytes(wo, opt)
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("fit: write: %w", err)
	}
	return nil
}

// refEncodeBytes builds the whole file in memory. The library's encoder then
// needs a single pass: it patches the header through WriteAt instead of
// encoding everything twice to learn the data size first.
func refEncodeBytes(wo *workout.Workout, opt EncodeOptions) ([]byte, error) {
	msgs, err := refBuildMessages(wo, opt)
	if err != nil {
		return nil, err
	}
	out := &refMemFile{b: make([]byte, 0, 64+len(msgs)*48)}
	enc := encoder.New(out,
		// 16 local message slots: records, events and laps interleave
		// without rewriting their definitions every time.
		encoder.WithHeaderOption(encoder.HeaderOptionNormal, 15),
		encoder.WithWriteBufferSize(0), // refMemFile is memory already
		encoder.WithMessageValidator(refValidator{}),
	)
	f := proto.FIT{Messages: msgs}
	if err := enc.Encode(&f); err != nil {
		return nil, fmt.Errorf("fit: encode: %w", err)
	}
	return out.b, nil
}

// refValidator checks that every value has its field's base type and that
// strings are UTF-8: what keeps the file well-formed. It replaces the
// library's default validator, which also converts float values to scaled
// integers and drops component-expanded fields; Encode sets neither, so
// that work (a third of the encoder's time) is skipped.
type refValidator struct{}

func (refValidator) Reset() {}

func (refValidator) Validate(m *proto.Message) error {
	if len(m.Fields) == 0 {
		return errors.New("message has no fields")
	}
	for i := range m.Fields {
		f := &m.Fields[i]
		if !f.Value.Align(f.BaseType) {
			return fmt.Errorf("field %s: value of type %v is not %v", f.Name, f.Value.Type(), f.BaseType)
		}
		if f.Value.Type() == proto.TypeString && !utf8.ValidString(f.Value.String()) {
			return fmt.Errorf("field %s: invalid UTF-8", f.Name)
		}
		if f.Value.Size() > 255 {
			return fmt.Errorf("field %s: value of %d bytes is too long for FIT", f.Name, f.Value.Size())
		}
	}
	return nil
}

// refMemFile is an in-memory io.Writer and io.WriterAt.
type refMemFile struct{ b []byte }

func (m *refMemFile) Write(p []byte) (int, error) { m.b = append(m.b, p...); return len(p), nil }

func (m *refMemFile) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > int64(len(m.b)) {
		return 0, errors.New("fit: write outside the buffer")
	}
	return copy(m.b[off:], p), nil
}

// Record fields, looked up once. Records are most of a file, so they are
// built as raw proto messages sharing one backing array instead of through
// mesgdef.Record, whose ToMesg allocates room for 84 fields per record.
var (
	rfTimestamp = refRecordField(fieldnum.RecordTimestamp)
	rfLat       = refRecordField(fieldnum.RecordPositionLat)
	rfLon       = refRecordField(fieldnum.RecordPositionLong)
	rfAltitude  = refRecordField(fieldnum.RecordAltitude)
	rfEnhAlt    = refRecordField(fieldnum.RecordEnhancedAltitude)
	rfHeartRate = refRecordField(fieldnum.RecordHeartRate)
	rfCadence   = refRecordField(fieldnum.RecordCadence)
	rfFracCad   = refRecordField(fieldnum.RecordFractionalCadence)
	rfDistance  = refRecordField(fieldnum.RecordDistance)
	rfSpeed     = refRecordField(fieldnum.RecordSpeed)
	rfEnhSpeed  = refRecordField(fieldnum.RecordEnhancedSpeed)
	rfPower     = refRecordField(fieldnum.RecordPower)
)

func refRecordField(num byte) *proto.FieldBase {
	return factory.CreateField(mesgnum.Record, num).FieldBase
}

// Ranks order messages that share a timestamp: the timer restarts before
// the record of that second, and a lap closes after its last record and
// after the timer stops.

type refTimed struct {
	t    uint32
	rank int
	msg  proto.Message
}

// refBuildMessages turns a workout into FIT messages in file order.
func refBuildMessages(wo *workout.Workout, opt EncodeOptions) ([]proto.Message, error) {
	if _, ok := fitTime(wo.Start); !ok {
		return nil, fmt.Errorf("fit: encode: start time %v cannot be written as a FIT date", wo.Start)
	}
	elapsed := wo.Elapsed()
	end := wo.Start.Add(elapsed)
	endT, ok := fitTime(end)
	if !ok {
		return nil, fmt.Errorf("fit: encode: end time %v cannot be written as a FIT date", end)
	}
	for i, l := range wo.Laps {
		if _, ok := fitTime(l.End()); !ok {
			return nil, fmt.Errorf("fit: encode: lap %d ends at %v, which cannot be written as a FIT date", i+1, l.End())
		}
	}
	for i, l := range wo.Lengths {
		if _, ok := fitTime(l.Start.Add(l.Elapsed)); !ok {
			return nil, fmt.Errorf("fit: encode: length %d ends at %v, which cannot be written as a FIT date", i+1, l.Start.Add(l.Elapsed))
		}
	}
	onFoot := wo.Sport.OnFoot()
	pauses := clipPauses(wo.Pauses, wo.Start, end)

	var other []refTimed // everything between the first timer start and the last stop, sorted below

	// Timer events: stop_all at each pause, start when it ends.
	running := true
	for _, p := range pauses {
		t, _ := fitTime(p.Start)
		other = append(other, refTimed{t, rankStop, refTimerEvent(p.Start, typedef.EventTypeStopAll)})
		running = false
		if p.End.Before(end) {
			t, _ = fitTime(p.End)
			other = append(other, refTimed{t, rankStart, refTimerEvent(p.End, typedef.EventTypeStart)})
			running = true
		}
	}

	lengthMsgs, lengthIdx := refLengthMessages(wo)
	other = append(other, lengthMsgs...)
	laps := lapsFor(wo, elapsed)
	for i, l := range laps {
		m := refLapMessage(wo, l, i, lengthIdx, i == len(laps)-1)
		t, _ := fitTime(l.End())
		other = append(other, refTimed{t, rankLap, m})
	}
	sort.SliceStable(other, func(i, j int) bool {
		if other[i].t != other[j].t {
			return other[i].t < other[j].t
		}
		return other[i].rank < other[j].rank
	})

	id := encodeDevice(wo.Device, opt.LegacyZeppIdentity)
	msgs := make([]proto.Message, 0, 5+len(wo.Samples)+len(other))
	msgs = append(msgs, refFileIDMessage(wo.Start, id), refDeviceInfoMessage(wo.Start, id),
		refTimerEvent(wo.Start, typedef.EventTypeStart))

	// Records, merged with the sorted refTimed messages.
	recs, err := refRecordMessages(wo.Samples, onFoot, fractionalNeeded(wo.Samples, onFoot))
	if err != nil {
		return nil, err
	}
	j := 0
	for i := range recs {
		t := recs[i].Fields[0].Value.Uint32()
		for j < len(other) && (other[j].t < t || other[j].t == t && other[j].rank < rankRecord) {
			msgs = append(msgs, other[j].msg)
			j++
		}
		msgs = append(msgs, recs[i])
	}
	for ; j < len(other); j++ {
		if other[j].rank == rankLap && other[j].t >= endT && running {
			// The last lap closes after the timer stops at the end.
			msgs = append(msgs, refTimerEvent(end, typedef.EventTypeStopAll))
			running = false
		}
		msgs = append(msgs, other[j].msg)
	}
	if running {
		msgs = append(msgs, refTimerEvent(end, typedef.EventTypeStopAll))
	}

	moving := wo.Moving()
	msgs = append(msgs, refSessionMessage(wo, elapsed, moving, len(laps), lengthIdx), refActivityMessage(wo, endT, moving))
	return msgs, nil
}

// clipPauses returns the pauses that lie inside [start, end), clipped to it.
// refRecordMessages builds one record per sample. All their fields share one
// backing array.
func refRecordMessages(samples []workout.Sample, onFoot, withFrac bool) ([]proto.Message, error) {
	recs := make([]proto.Message, len(samples))
	arena := make([]proto.Field, 0, refRecordFieldCount(samples, withFrac))
	for i := range samples {
		s := &samples[i]
		t, ok := fitTime(s.Time)
		if !ok {
			return nil, fmt.Errorf("fit: encode: sample %d: time %v cannot be written as a FIT date", i, s.Time)
		}
		first := len(arena)
		arena = append(arena, proto.Field{FieldBase: rfTimestamp, Value: proto.Uint32(t)})
		if s.Has&workout.HasPosition != 0 {
			arena = append(arena,
				proto.Field{FieldBase: rfLat, Value: proto.Int32(semicircles(s.Lat))},
				proto.Field{FieldBase: rfLon, Value: proto.Int32(semicircles(s.Lon))})
		}
		if s.Has&workout.HasAltitude != 0 {
			// Strava reads the legacy altitude; enhanced_altitude is what
			// current devices write. Both when the legacy one fits.
			if v, ok := scaled(s.Altitude, 5, 500, maxU16); ok {
				arena = append(arena, proto.Field{FieldBase: rfAltitude, Value: proto.Uint16(uint16(v))})
			}
			if v, ok := scaled(s.Altitude, 5, 500, maxU32); ok {
				arena = append(arena, proto.Field{FieldBase: rfEnhAlt, Value: proto.Uint32(v)})
			}
		}
		if s.Has&workout.HasHeartRate != 0 && s.HeartRate != 0xFF {
			arena = append(arena, proto.Field{FieldBase: rfHeartRate, Value: proto.Uint8(s.HeartRate)})
		}
		if s.Has&workout.HasCadence != 0 {
			c := s.Cadence
			if onFoot {
				c /= 2 // steps/min to strides/min
			}
			if whole, frac, ok := splitCadence(c); ok {
				arena = append(arena, proto.Field{FieldBase: rfCadence, Value: proto.Uint8(whole)})
				if withFrac {
					arena = append(arena, proto.Field{FieldBase: rfFracCad, Value: proto.Uint8(frac)})
				}
			}
		}
		if s.Has&workout.HasDistance != 0 {
			if v, ok := scaled(s.Distance, 100, 0, maxU32); ok {
				arena = append(arena, proto.Field{FieldBase: rfDistance, Value: proto.Uint32(v)})
			}
		}
		if s.Has&workout.HasSpeed != 0 {
			if v, ok := scaled(s.Speed, 1000, 0, maxU16); ok {
				arena = append(arena, proto.Field{FieldBase: rfSpeed, Value: proto.Uint16(uint16(v))})
			}
			if v, ok := scaled(s.Speed, 1000, 0, maxU32); ok {
				arena = append(arena, proto.Field{FieldBase: rfEnhSpeed, Value: proto.Uint32(v)})
			}
		}
		if s.Has&workout.HasPower != 0 && s.Power != 0xFFFF {
			arena = append(arena, proto.Field{FieldBase: rfPower, Value: proto.Uint16(s.Power)})
		}
		recs[i] = proto.Message{Num: mesgnum.Record, Fields: arena[first:len(arena):len(arena)]}
	}
	return recs, nil
}

// refRecordFieldCount is an upper bound of the fields refRecordMessages writes,
// so their backing array is allocated once and no larger than needed.
func refRecordFieldCount(samples []workout.Sample, withFrac bool) int {
	n := 0
	for i := range samples {
		h := samples[i].Has
		n++ // timestamp
		if h&workout.HasPosition != 0 {
			n += 2
		}
		if h&workout.HasAltitude != 0 {
			n += 2
		}
		if h&workout.HasHeartRate != 0 {
			n++
		}
		if h&workout.HasCadence != 0 {
			n++
			if withFrac {
				n++
			}
		}
		if h&workout.HasDistance != 0 {
			n++
		}
		if h&workout.HasSpeed != 0 {
			n += 2
		}
		if h&workout.HasPower != 0 {
			n++
		}
	}
	return n
}

func refTimerEvent(t time.Time, typ typedef.EventType) proto.Message {
	return mesgdef.NewEvent(nil).
		SetTimestamp(t).
		SetEvent(typedef.EventTimer).
		SetEventType(typ).
		SetData(uint32(typedef.TimerTriggerManual)). // data is timer_trigger for timer events
		SetEventGroup(0).
		ToMesg(nil)
}

func refFileIDMessage(start time.Time, id identity) proto.Message {
	m := mesgdef.NewFileId(nil).
		SetType(typedef.FileActivity).
		SetTimeCreated(start).
		SetManufacturer(id.manufacturer)
	if id.product != 0 {
		m.SetProduct(id.product)
	}
	if id.serial != 0 {
		m.SetSerialNumber(id.serial)
	}
	if id.productName != "" {
		m.SetProductName(id.productName)
	}
	return m.ToMesg(nil)
}

func refDeviceInfoMessage(start time.Time, id identity) proto.Message {
	m := mesgdef.NewDeviceInfo(nil).
		SetTimestamp(start).
		SetDeviceIndex(typedef.DeviceIndexCreator).
		SetManufacturer(id.manufacturer)
	if id.product != 0 {
		m.SetProduct(id.product)
	}
	if id.serial != 0 {
		m.SetSerialNumber(id.serial)
	}
	if id.productName != "" {
		m.SetProductName(id.productName)
	}
	if id.software != 0xFFFF {
		m.SetSoftwareVersion(id.software)
	}
	return m.ToMesg(nil)
}

func refLapMessage(wo *workout.Workout, l workout.Lap, index int, lengthIdx []lengthRef, last bool) proto.Message {
	m := mesgdef.NewLap(nil).
		SetMessageIndex(typedef.MessageIndex(index)).
		SetTimestamp(l.End()).
		SetStartTime(l.Start).
		SetEvent(typedef.EventLap).
		SetEventType(typedef.EventTypeStop)
	if tr, ok := lapTriggers[l.Trigger]; ok {
		m.SetLapTrigger(tr)
	}
	if v, ok := millis(l.Elapsed); ok {
		m.SetTotalElapsedTime(v)
	}
	if v, ok := millis(l.Moving); ok {
		m.SetTotalTimerTime(v)
	}
	if v, ok := scaled(l.Distance, 100, 0, maxU32); ok && l.Distance > 0 {
		m.SetTotalDistance(v)
	}
	if v, ok := scaled(l.Calories, 1, 0, maxU16); ok && l.Calories > 0 {
		m.SetTotalCalories(uint16(v))
	}
	if l.AvgHR > 0 && l.AvgHR <= maxU8 {
		m.SetAvgHeartRate(uint8(l.AvgHR))
	}
	if l.MaxHR > 0 && l.MaxHR <= maxU8 {
		m.SetMaxHeartRate(uint8(l.MaxHR))
	}
	m.SetSport(sportOf(wo))
	if len(lengthIdx) > 0 {
		first, n, active := -1, 0, 0
		for i, ref := range lengthIdx {
			// A length belongs to the lap it starts in; the last lap takes
			// any stragglers.
			if ref.start.Before(l.Start) && index > 0 || !last && !ref.start.Before(l.End()) {
				continue
			}
			if first < 0 {
				first = i
			}
			n++
			if !ref.idle {
				active++
			}
		}
		if first >= 0 {
			m.SetFirstLengthIndex(uint16(first)).SetNumLengths(uint16(n)).SetNumActiveLengths(uint16(active))
		}
	}
	return m.ToMesg(nil)
}

func refLengthMessages(wo *workout.Workout) ([]refTimed, []lengthRef) {
	if len(wo.Lengths) == 0 {
		return nil, nil
	}
	out := make([]refTimed, 0, len(wo.Lengths))
	refs := make([]lengthRef, 0, len(wo.Lengths))
	for i, l := range wo.Lengths {
		m := mesgdef.NewLength(nil).
			SetMessageIndex(typedef.MessageIndex(i)).
			SetTimestamp(l.Start.Add(l.Elapsed)).
			SetStartTime(l.Start).
			SetEvent(typedef.EventLength).
			SetEventType(typedef.EventTypeStop)
		if v, ok := millis(l.Elapsed); ok {
			m.SetTotalElapsedTime(v).SetTotalTimerTime(v)
		}
		if l.Idle {
			m.SetLengthType(typedef.LengthTypeIdle)
		} else {
			m.SetLengthType(typedef.LengthTypeActive)
		}
		if l.Strokes > 0 && l.Strokes <= maxU16 {
			m.SetTotalStrokes(uint16(l.Strokes))
			if mins := l.Elapsed.Minutes(); mins > 0 {
				if v, ok := scaled(float64(l.Strokes)/mins, 1, 0, maxU8); ok {
					m.SetAvgSwimmingCadence(uint8(v))
				}
			}
		}
		if l.Stroke != workout.StrokeUnknown && !l.Idle {
			m.SetSwimStroke(typedef.SwimStroke(l.Stroke))
		}
		t, _ := fitTime(l.Start.Add(l.Elapsed))
		out = append(out, refTimed{t, rankLength, m.ToMesg(nil)})
		refs = append(refs, lengthRef{l.Start, l.Idle})
	}
	return out, refs
}

func refSessionMessage(wo *workout.Workout, elapsed, moving time.Duration, numLaps int, lengths []lengthRef) proto.Message {
	sum := &wo.Summary
	sport, sub := wo.Sport.FIT()
	m := mesgdef.NewSession(nil).
		SetMessageIndex(0).
		SetTimestamp(wo.Start.Add(elapsed)).
		SetStartTime(wo.Start).
		SetEvent(typedef.EventSession).
		SetEventType(typedef.EventTypeStop).
		SetTrigger(typedef.SessionTriggerActivityEnd).
		SetSport(typedef.Sport(sport)).
		SetSubSport(typedef.SubSport(sub)).
		SetFirstLapIndex(0).
		SetNumLaps(uint16(min(numLaps, maxU16)))
	if v, ok := millis(elapsed); ok {
		m.SetTotalElapsedTime(v)
	}
	if v, ok := millis(moving); ok {
		m.SetTotalTimerTime(v)
	}
	dist := wo.Distance()
	if v, ok := scaled(dist, 100, 0, maxU32); ok && dist > 0 {
		m.SetTotalDistance(v)
		if secs := moving.Seconds(); secs > 0 {
			if v, ok := scaled(dist/secs, 1000, 0, maxU32); ok {
				m.SetEnhancedAvgSpeed(v)
			}
			if v, ok := scaled(dist/secs, 1000, 0, maxU16); ok {
				m.SetAvgSpeed(uint16(v))
			}
		}
	}
	if sum.MaxSpeed > 0 {
		if v, ok := scaled(sum.MaxSpeed, 1000, 0, maxU32); ok {
			m.SetEnhancedMaxSpeed(v)
		}
		if v, ok := scaled(sum.MaxSpeed, 1000, 0, maxU16); ok {
			m.SetMaxSpeed(uint16(v))
		}
	}
	if v, ok := scaled(sum.Calories, 1, 0, maxU16); ok && sum.Calories > 0 {
		m.SetTotalCalories(uint16(v))
	}
	if whole, frac, ok := splitMetres(sum.Ascent); ok {
		m.SetTotalAscent(whole)
		if frac != 0 {
			m.SetTotalFractionalAscent(frac)
		}
	}
	if whole, frac, ok := splitMetres(sum.Descent); ok {
		m.SetTotalDescent(whole)
		if frac != 0 {
			m.SetTotalFractionalDescent(frac)
		}
	}
	if sum.AvgHR > 0 && sum.AvgHR <= maxU8 {
		m.SetAvgHeartRate(uint8(sum.AvgHR))
	}
	if sum.MaxHR > 0 && sum.MaxHR <= maxU8 {
		m.SetMaxHeartRate(uint8(sum.MaxHR))
	}
	onFoot := wo.Sport.OnFoot()
	fitCad := func(c float64) float64 {
		if onFoot {
			return c / 2
		}
		return c
	}
	if sum.AvgCadence > 0 {
		if whole, frac, ok := splitCadence(fitCad(sum.AvgCadence)); ok {
			m.SetAvgCadence(whole).SetAvgFractionalCadence(frac)
		}
	}
	if sum.MaxCadence > 0 {
		if whole, frac, ok := splitCadence(fitCad(sum.MaxCadence)); ok {
			m.SetMaxCadence(whole).SetMaxFractionalCadence(frac)
		}
	}
	switch {
	case onFoot && sum.Steps > 0:
		// total_cycles is total_strides for running and walking: a stride
		// is two steps, matching cadence in strides per minute.
		m.SetTotalCycles(uint32(sum.Steps / 2))
		if sum.Steps%2 == 1 {
			m.SetTotalFractionalCycles(64) // half a stride, 1/128 units
		}
	case wo.Sport.Swimming() && sum.Strokes > 0:
		m.SetTotalCycles(uint32(sum.Strokes)) // total_strokes
	}
	if sum.TrainingEffect > 0 {
		if v, ok := scaled(sum.TrainingEffect, 10, 0, maxU8); ok {
			m.SetTotalTrainingEffect(uint8(v))
		}
	}
	if wo.Sport.Swimming() {
		if v, ok := scaled(sum.PoolLength, 100, 0, maxU16); ok && sum.PoolLength > 0 {
			m.SetPoolLength(uint16(v)).SetPoolLengthUnit(typedef.DisplayMeasureMetric)
		}
		if sum.Stroke != workout.StrokeUnknown {
			m.SetSwimStroke(typedef.SwimStroke(sum.Stroke))
		}
	}
	if len(lengths) > 0 {
		active := 0
		for _, l := range lengths {
			if !l.idle {
				active++
			}
		}
		m.SetNumLengths(uint16(min(len(lengths), maxU16))).SetNumActiveLengths(uint16(min(active, maxU16)))
	}
	return m.ToMesg(nil)
}

// splitMetres splits a non-negative height into whole metres and hundredths
func refActivityMessage(wo *workout.Workout, endT uint32, moving time.Duration) proto.Message {
	end, _ := timeOf(endT)
	m := mesgdef.NewActivity(nil).
		SetTimestamp(end).
		SetNumSessions(1).
		SetType(typedef.ActivityManual).
		SetEvent(typedef.EventActivity).
		SetEventType(typedef.EventTypeStop)
	if v, ok := millis(moving); ok {
		m.SetTotalTimerTime(v)
	}
	if wo.Zone.Known {
		// local_timestamp is the end in local wall-clock time, counted on
		// FIT's epoch as if it were UTC; its difference from timestamp is
		// the zone offset.
		off := int64(math.Round(wo.Zone.Offset.Seconds()))
		if l := int64(endT) + off; l >= fitTimeMin && l <= fitTimeMax {
			local, _ := timeOf(uint32(l))
			m.SetLocalTimestamp(local)
		}
	}
	return m.ToMesg(nil)
}
