package fit

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/muktihari/fit/profile/typedef"
	"github.com/muktihari/fit/profile/untyped/fieldnum"
	"github.com/muktihari/fit/profile/untyped/mesgnum"

	"github.com/bandsync/bandsync/internal/workout"
)

// EncodeOptions tunes Encode.
type EncodeOptions struct {
	// LegacyZeppIdentity writes Zepp's own Strava-link identity ("Huami Amazfit Pace") instead of the real device.
	LegacyZeppIdentity bool
}

// EncodeContext is Encode, sharing the bytes with other encodings of wo
// with the same options under ctx (see workout.WithMemo).
func EncodeContext(ctx context.Context, w io.Writer, wo *workout.Workout, opt EncodeOptions) error {
	return workout.EncodeOnce(ctx, w, wo, fmt.Sprintf("fit %+v", opt), func(out io.Writer) error { return Encode(out, wo, opt) })
}

// Encode writes wo to w as a FIT activity file that Strava reads as the band
// recorded it:
//
//   - file_id and a creator device_info name the real maker and model (see
//     EncodeOptions for Zepp's legacy identity);
//   - one record per sample, holding only the fields the sample has;
//   - timer stop_all/start events around every pause, so total_timer_time on
//     laps, session and activity is the band's moving time;
//   - the workout's laps, else one lap per kilometre, else one lap;
//   - pool lengths, and a session and activity with the totals.
//
// Running and walking cadence is written in FIT's strides per minute (half
// the workout's steps per minute) with fractional_cadence for the half step.
// FIT timestamps are whole seconds: sub-second sample times are truncated.
// Encode writes nothing to w when it fails, and calls w.Write once.
func Encode(w io.Writer, wo *workout.Workout, opt EncodeOptions) error {
	if wo == nil {
		return errors.New("fit: encode: no workout")
	}
	fw := writerPool.Get().(*fileWriter)
	defer fw.release()
	b, err := fw.encode(wo, opt)
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("fit: write: %w", err)
	}
	return nil
}

// Ranks order messages that share a timestamp: the timer restarts before
// the record of that second, and a lap closes after its last record and
// after the timer stops.
const (
	rankStart = iota
	rankRecord
	rankLength
	rankStop
	rankLap
)

// timedMesg is a message other than a record, placed among the records by
// its timestamp t and rank.
type timedMesg struct {
	t    uint32
	rank int
	kind mesgKind
	i    int       // lap or length index
	at   time.Time // timer events: when
}

type mesgKind uint8

const (
	kindTimerStart mesgKind = iota
	kindTimerStop
	kindLength
	kindLap
)

// encode builds the whole file in w's buffer and returns it.
func (w *fileWriter) encode(wo *workout.Workout, opt EncodeOptions) ([]byte, error) {
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

	// Everything between the first timer start and the last stop but the
	// records, sorted below.
	other := w.other[:0]

	// Timer events: stop_all at each pause, start when it ends.
	running := true
	for _, p := range pauses {
		t, _ := fitTime(p.Start)
		other = append(other, timedMesg{t: t, rank: rankStop, kind: kindTimerStop, at: p.Start})
		running = false
		if p.End.Before(end) {
			t, _ = fitTime(p.End)
			other = append(other, timedMesg{t: t, rank: rankStart, kind: kindTimerStart, at: p.End})
			running = true
		}
	}
	var lengthIdx []lengthRef
	if len(wo.Lengths) > 0 {
		lengthIdx = make([]lengthRef, len(wo.Lengths))
		for i, l := range wo.Lengths {
			t, _ := fitTime(l.Start.Add(l.Elapsed))
			other = append(other, timedMesg{t: t, rank: rankLength, kind: kindLength, i: i})
			lengthIdx[i] = lengthRef{l.Start, l.Idle}
		}
	}
	laps := lapsFor(wo, elapsed)
	for i, l := range laps {
		t, _ := fitTime(l.End())
		other = append(other, timedMesg{t: t, rank: rankLap, kind: kindLap, i: i})
	}
	slices.SortStableFunc(other, func(a, b timedMesg) int {
		if c := cmp.Compare(a.t, b.t); c != 0 {
			return c
		}
		return cmp.Compare(a.rank, b.rank)
	})
	w.other = other

	writeOther := func(m *timedMesg) {
		switch m.kind {
		case kindTimerStart:
			w.timerEvent(m.at, typedef.EventTypeStart)
		case kindTimerStop:
			w.timerEvent(m.at, typedef.EventTypeStopAll)
		case kindLength:
			w.length(wo.Lengths[m.i], m.i)
		case kindLap:
			w.lap(wo, laps[m.i], m.i, lengthIdx, m.i == len(laps)-1)
		}
	}

	w.start(1024 + maxRecordSize*len(wo.Samples) + 32*len(other) + 96*len(laps))
	id := encodeDevice(wo.Device, opt.LegacyZeppIdentity)
	w.fileID(wo.Start, id)
	w.deviceInfo(wo.Start, id)
	w.timerEvent(wo.Start, typedef.EventTypeStart)

	// Records, merged with the sorted timed messages.
	withFrac := fractionalNeeded(wo.Samples, onFoot)
	j := 0
	for i := range wo.Samples {
		s := &wo.Samples[i]
		t, ok := fitTime(s.Time)
		if !ok {
			return nil, fmt.Errorf("fit: encode: sample %d: time %v cannot be written as a FIT date", i, s.Time)
		}
		for j < len(other) && (other[j].t < t || other[j].t == t && other[j].rank < rankRecord) {
			writeOther(&other[j])
			j++
		}
		w.record(s, t, onFoot, withFrac)
	}
	for ; j < len(other); j++ {
		if other[j].rank == rankLap && other[j].t >= endT && running {
			// The last lap closes after the timer stops at the end.
			w.timerEvent(end, typedef.EventTypeStopAll)
			running = false
		}
		writeOther(&other[j])
	}
	if running {
		w.timerEvent(end, typedef.EventTypeStopAll)
	}

	moving := wo.Moving()
	w.session(wo, elapsed, moving, len(laps), lengthIdx)
	w.activity(wo, endT, moving)
	return w.finish()
}

// Fields of the messages Encode writes, with their base types from the FIT
// profile.
var (
	fileIDType         = profileField(mesgnum.FileId, fieldnum.FileIdType)
	fileIDManufacturer = profileField(mesgnum.FileId, fieldnum.FileIdManufacturer)
	fileIDProduct      = profileField(mesgnum.FileId, fieldnum.FileIdProduct)
	fileIDSerial       = profileField(mesgnum.FileId, fieldnum.FileIdSerialNumber)
	fileIDTimeCreated  = profileField(mesgnum.FileId, fieldnum.FileIdTimeCreated)
	fileIDProductName  = profileField(mesgnum.FileId, fieldnum.FileIdProductName)

	devTimestamp    = profileField(mesgnum.DeviceInfo, fieldnum.DeviceInfoTimestamp)
	devIndex        = profileField(mesgnum.DeviceInfo, fieldnum.DeviceInfoDeviceIndex)
	devManufacturer = profileField(mesgnum.DeviceInfo, fieldnum.DeviceInfoManufacturer)
	devSerial       = profileField(mesgnum.DeviceInfo, fieldnum.DeviceInfoSerialNumber)
	devProduct      = profileField(mesgnum.DeviceInfo, fieldnum.DeviceInfoProduct)
	devSoftware     = profileField(mesgnum.DeviceInfo, fieldnum.DeviceInfoSoftwareVersion)
	devProductName  = profileField(mesgnum.DeviceInfo, fieldnum.DeviceInfoProductName)

	evTimestamp = profileField(mesgnum.Event, fieldnum.EventTimestamp)
	evEvent     = profileField(mesgnum.Event, fieldnum.EventEvent)
	evType      = profileField(mesgnum.Event, fieldnum.EventEventType)
	evData      = profileField(mesgnum.Event, fieldnum.EventData)
	evGroup     = profileField(mesgnum.Event, fieldnum.EventEventGroup)

	recTimestamp = profileField(mesgnum.Record, fieldnum.RecordTimestamp)
	recLat       = profileField(mesgnum.Record, fieldnum.RecordPositionLat)
	recLon       = profileField(mesgnum.Record, fieldnum.RecordPositionLong)
	recAltitude  = profileField(mesgnum.Record, fieldnum.RecordAltitude)
	recEnhAlt    = profileField(mesgnum.Record, fieldnum.RecordEnhancedAltitude)
	recHeartRate = profileField(mesgnum.Record, fieldnum.RecordHeartRate)
	recCadence   = profileField(mesgnum.Record, fieldnum.RecordCadence)
	recFracCad   = profileField(mesgnum.Record, fieldnum.RecordFractionalCadence)
	recDistance  = profileField(mesgnum.Record, fieldnum.RecordDistance)
	recSpeed     = profileField(mesgnum.Record, fieldnum.RecordSpeed)
	recEnhSpeed  = profileField(mesgnum.Record, fieldnum.RecordEnhancedSpeed)
	recPower     = profileField(mesgnum.Record, fieldnum.RecordPower)

	lapIndex            = profileField(mesgnum.Lap, fieldnum.LapMessageIndex)
	lapTimestamp        = profileField(mesgnum.Lap, fieldnum.LapTimestamp)
	lapEvent            = profileField(mesgnum.Lap, fieldnum.LapEvent)
	lapEventType        = profileField(mesgnum.Lap, fieldnum.LapEventType)
	lapStartTime        = profileField(mesgnum.Lap, fieldnum.LapStartTime)
	lapElapsed          = profileField(mesgnum.Lap, fieldnum.LapTotalElapsedTime)
	lapTimer            = profileField(mesgnum.Lap, fieldnum.LapTotalTimerTime)
	lapDistance         = profileField(mesgnum.Lap, fieldnum.LapTotalDistance)
	lapCalories         = profileField(mesgnum.Lap, fieldnum.LapTotalCalories)
	lapAvgHR            = profileField(mesgnum.Lap, fieldnum.LapAvgHeartRate)
	lapMaxHR            = profileField(mesgnum.Lap, fieldnum.LapMaxHeartRate)
	lapTrigger          = profileField(mesgnum.Lap, fieldnum.LapLapTrigger)
	lapSport            = profileField(mesgnum.Lap, fieldnum.LapSport)
	lapNumLengths       = profileField(mesgnum.Lap, fieldnum.LapNumLengths)
	lapFirstLengthIndex = profileField(mesgnum.Lap, fieldnum.LapFirstLengthIndex)
	lapNumActiveLengths = profileField(mesgnum.Lap, fieldnum.LapNumActiveLengths)

	lenIndex      = profileField(mesgnum.Length, fieldnum.LengthMessageIndex)
	lenTimestamp  = profileField(mesgnum.Length, fieldnum.LengthTimestamp)
	lenEvent      = profileField(mesgnum.Length, fieldnum.LengthEvent)
	lenEventType  = profileField(mesgnum.Length, fieldnum.LengthEventType)
	lenStartTime  = profileField(mesgnum.Length, fieldnum.LengthStartTime)
	lenElapsed    = profileField(mesgnum.Length, fieldnum.LengthTotalElapsedTime)
	lenTimer      = profileField(mesgnum.Length, fieldnum.LengthTotalTimerTime)
	lenStrokes    = profileField(mesgnum.Length, fieldnum.LengthTotalStrokes)
	lenSwimStroke = profileField(mesgnum.Length, fieldnum.LengthSwimStroke)
	lenCadence    = profileField(mesgnum.Length, fieldnum.LengthAvgSwimmingCadence)
	lenType       = profileField(mesgnum.Length, fieldnum.LengthLengthType)

	sesIndex            = profileField(mesgnum.Session, fieldnum.SessionMessageIndex)
	sesTimestamp        = profileField(mesgnum.Session, fieldnum.SessionTimestamp)
	sesEvent            = profileField(mesgnum.Session, fieldnum.SessionEvent)
	sesEventType        = profileField(mesgnum.Session, fieldnum.SessionEventType)
	sesStartTime        = profileField(mesgnum.Session, fieldnum.SessionStartTime)
	sesSport            = profileField(mesgnum.Session, fieldnum.SessionSport)
	sesSubSport         = profileField(mesgnum.Session, fieldnum.SessionSubSport)
	sesElapsed          = profileField(mesgnum.Session, fieldnum.SessionTotalElapsedTime)
	sesTimer            = profileField(mesgnum.Session, fieldnum.SessionTotalTimerTime)
	sesDistance         = profileField(mesgnum.Session, fieldnum.SessionTotalDistance)
	sesCycles           = profileField(mesgnum.Session, fieldnum.SessionTotalCycles)
	sesCalories         = profileField(mesgnum.Session, fieldnum.SessionTotalCalories)
	sesAvgSpeed         = profileField(mesgnum.Session, fieldnum.SessionAvgSpeed)
	sesMaxSpeed         = profileField(mesgnum.Session, fieldnum.SessionMaxSpeed)
	sesAvgHR            = profileField(mesgnum.Session, fieldnum.SessionAvgHeartRate)
	sesMaxHR            = profileField(mesgnum.Session, fieldnum.SessionMaxHeartRate)
	sesAvgCadence       = profileField(mesgnum.Session, fieldnum.SessionAvgCadence)
	sesMaxCadence       = profileField(mesgnum.Session, fieldnum.SessionMaxCadence)
	sesAscent           = profileField(mesgnum.Session, fieldnum.SessionTotalAscent)
	sesDescent          = profileField(mesgnum.Session, fieldnum.SessionTotalDescent)
	sesTrainingEffect   = profileField(mesgnum.Session, fieldnum.SessionTotalTrainingEffect)
	sesFirstLapIndex    = profileField(mesgnum.Session, fieldnum.SessionFirstLapIndex)
	sesNumLaps          = profileField(mesgnum.Session, fieldnum.SessionNumLaps)
	sesTrigger          = profileField(mesgnum.Session, fieldnum.SessionTrigger)
	sesNumLengths       = profileField(mesgnum.Session, fieldnum.SessionNumLengths)
	sesSwimStroke       = profileField(mesgnum.Session, fieldnum.SessionSwimStroke)
	sesPoolLength       = profileField(mesgnum.Session, fieldnum.SessionPoolLength)
	sesPoolLengthUnit   = profileField(mesgnum.Session, fieldnum.SessionPoolLengthUnit)
	sesNumActiveLengths = profileField(mesgnum.Session, fieldnum.SessionNumActiveLengths)
	sesAvgFracCadence   = profileField(mesgnum.Session, fieldnum.SessionAvgFractionalCadence)
	sesMaxFracCadence   = profileField(mesgnum.Session, fieldnum.SessionMaxFractionalCadence)
	sesFracCycles       = profileField(mesgnum.Session, fieldnum.SessionTotalFractionalCycles)
	sesEnhAvgSpeed      = profileField(mesgnum.Session, fieldnum.SessionEnhancedAvgSpeed)
	sesEnhMaxSpeed      = profileField(mesgnum.Session, fieldnum.SessionEnhancedMaxSpeed)
	sesFracAscent       = profileField(mesgnum.Session, fieldnum.SessionTotalFractionalAscent)
	sesFracDescent      = profileField(mesgnum.Session, fieldnum.SessionTotalFractionalDescent)

	actTimestamp      = profileField(mesgnum.Activity, fieldnum.ActivityTimestamp)
	actTimer          = profileField(mesgnum.Activity, fieldnum.ActivityTotalTimerTime)
	actNumSessions    = profileField(mesgnum.Activity, fieldnum.ActivityNumSessions)
	actType           = profileField(mesgnum.Activity, fieldnum.ActivityType)
	actEvent          = profileField(mesgnum.Activity, fieldnum.ActivityEvent)
	actEventType      = profileField(mesgnum.Activity, fieldnum.ActivityEventType)
	actLocalTimestamp = profileField(mesgnum.Activity, fieldnum.ActivityLocalTimestamp)
)

func (w *fileWriter) timerEvent(t time.Time, typ typedef.EventType) {
	w.begin()
	w.putDate(evTimestamp, t)
	w.put(evEvent, uint32(typedef.EventTimer))
	w.put(evType, uint32(typ))
	w.put(evData, uint32(typedef.TimerTriggerManual)) // data is timer_trigger for timer events
	w.put(evGroup, 0)
	w.end(localEvent, mesgnum.Event)
}

// putIdentity adds the fields file_id and device_info share.
func (w *fileWriter) putIdentity(manufacturer, product, serial, productName field, id identity) {
	w.put(manufacturer, uint32(id.manufacturer))
	if id.product != 0 {
		w.put(product, uint32(id.product))
	}
	if id.serial != 0 {
		w.put(serial, id.serial)
	}
	w.putString(productName, id.productName)
}

func (w *fileWriter) fileID(start time.Time, id identity) {
	w.begin()
	w.put(fileIDType, uint32(typedef.FileActivity))
	w.putDate(fileIDTimeCreated, start)
	w.putIdentity(fileIDManufacturer, fileIDProduct, fileIDSerial, fileIDProductName, id)
	w.end(localOther, mesgnum.FileId)
}

func (w *fileWriter) deviceInfo(start time.Time, id identity) {
	w.begin()
	w.putDate(devTimestamp, start)
	w.put(devIndex, uint32(typedef.DeviceIndexCreator))
	w.putIdentity(devManufacturer, devProduct, devSerial, devProductName, id)
	if id.software != 0xFFFF {
		w.put(devSoftware, uint32(id.software))
	}
	w.end(localOther, mesgnum.DeviceInfo)
}

// recordFields is the set of fields a record holds besides its timestamp.
type recordFields uint16

const (
	recHasPosition recordFields = 1 << iota // position_lat and position_long
	recHasAltitude
	recHasEnhAlt
	recHasHeartRate
	recHasCadence
	recHasFracCad
	recHasDistance
	recHasSpeed
	recHasEnhSpeed
	recHasPower
)

// maxRecordSize is the most bytes a record takes: header and every field.
const maxRecordSize = 1 + 4 + 4 + 4 + 2 + 4 + 1 + 1 + 1 + 4 + 2 + 4 + 2

// record writes one record: the fields s has, in FIT units.
func (w *fileWriter) record(s *workout.Sample, t uint32, onFoot, withFrac bool) {
	var (
		m             recordFields
		lat, lon      int32
		alt, speed    uint32
		hr, cad, frac uint8
		dist          uint32
		power         uint16
	)
	if s.Has&workout.HasPosition != 0 {
		m |= recHasPosition
		lat, lon = semicircles(s.Lat), semicircles(s.Lon)
	}
	if s.Has&workout.HasAltitude != 0 {
		// Strava reads the legacy altitude; enhanced_altitude is what
		// current devices write. Both when the legacy one fits.
		if v, ok := scaled(s.Altitude, 5, 500, maxU32); ok {
			alt = v
			m |= recHasEnhAlt
			if v <= maxU16 {
				m |= recHasAltitude
			}
		}
	}
	if s.Has&workout.HasHeartRate != 0 && s.HeartRate != 0xFF {
		m |= recHasHeartRate
		hr = s.HeartRate
	}
	if s.Has&workout.HasCadence != 0 {
		c := s.Cadence
		if onFoot {
			c /= 2 // steps/min to strides/min
		}
		if whole, f, ok := splitCadence(c); ok {
			m |= recHasCadence
			cad, frac = whole, f
			if withFrac {
				m |= recHasFracCad
			}
		}
	}
	if s.Has&workout.HasDistance != 0 {
		if v, ok := scaled(s.Distance, 100, 0, maxU32); ok {
			m |= recHasDistance
			dist = v
		}
	}
	if s.Has&workout.HasSpeed != 0 {
		if v, ok := scaled(s.Speed, 1000, 0, maxU32); ok {
			speed = v
			m |= recHasEnhSpeed
			if v <= maxU16 {
				m |= recHasSpeed
			}
		}
	}
	if s.Has&workout.HasPower != 0 && s.Power != 0xFFFF {
		m |= recHasPower
		power = s.Power
	}

	lt := w.lastType
	if m != w.lastMask || lt == 0 {
		lt = w.recordType(m)
	}
	b := append(w.b, lt)
	b = binary.LittleEndian.AppendUint32(b, t)
	if m&recHasPosition != 0 {
		b = binary.LittleEndian.AppendUint32(b, uint32(lat))
		b = binary.LittleEndian.AppendUint32(b, uint32(lon))
	}
	if m&recHasAltitude != 0 {
		b = binary.LittleEndian.AppendUint16(b, uint16(alt))
	}
	if m&recHasEnhAlt != 0 {
		b = binary.LittleEndian.AppendUint32(b, alt)
	}
	if m&recHasHeartRate != 0 {
		b = append(b, hr)
	}
	if m&recHasCadence != 0 {
		b = append(b, cad)
	}
	if m&recHasFracCad != 0 {
		b = append(b, frac)
	}
	if m&recHasDistance != 0 {
		b = binary.LittleEndian.AppendUint32(b, dist)
	}
	if m&recHasSpeed != 0 {
		b = binary.LittleEndian.AppendUint16(b, uint16(speed))
	}
	if m&recHasEnhSpeed != 0 {
		b = binary.LittleEndian.AppendUint32(b, speed)
	}
	if m&recHasPower != 0 {
		b = binary.LittleEndian.AppendUint16(b, power)
	}
	w.b = b
}

// recordType returns the local message type defined as a record with
// fields m, writing that definition into a free or the least recently used
// record type when none holds it.
func (w *fileWriter) recordType(m recordFields) byte {
	w.clock++
	lt := byte(0)
	for i := byte(recordTypeFirst); i < 16; i++ {
		if w.recDef[i] && w.recMask[i] == m {
			lt = i
			break
		}
	}
	if lt == 0 {
		lt = recordTypeFirst
		for i := byte(recordTypeFirst); i < 16; i++ {
			if !w.recDef[i] {
				lt = i
				break
			}
			if w.recUsed[i] < w.recUsed[lt] {
				lt = i
			}
		}
		w.recDef[lt], w.recMask[lt] = true, m
		w.begin()
		w.fields = append(w.fields, recTimestamp.num, recTimestamp.size, byte(recTimestamp.typ))
		for _, rf := range recordLayout {
			if m&rf.has != 0 {
				w.fields = append(w.fields, rf.f.num, rf.f.size, byte(rf.f.typ))
			}
		}
		w.appendDefinition(lt, mesgnum.Record)
	}
	w.recUsed[lt] = w.clock
	w.lastMask, w.lastType = m, lt
	return lt
}

// recordLayout is the order of a record's fields after its timestamp; record
// writes them in this order.
var recordLayout = []struct {
	has recordFields
	f   field
}{
	{recHasPosition, recLat}, {recHasPosition, recLon},
	{recHasAltitude, recAltitude}, {recHasEnhAlt, recEnhAlt},
	{recHasHeartRate, recHeartRate},
	{recHasCadence, recCadence}, {recHasFracCad, recFracCad},
	{recHasDistance, recDistance},
	{recHasSpeed, recSpeed}, {recHasEnhSpeed, recEnhSpeed},
	{recHasPower, recPower},
}

func (w *fileWriter) lap(wo *workout.Workout, l workout.Lap, index int, lengthIdx []lengthRef, last bool) {
	w.begin()
	w.put(lapIndex, uint32(uint16(index)))
	w.putDate(lapTimestamp, l.End())
	w.put(lapEvent, uint32(typedef.EventLap))
	w.put(lapEventType, uint32(typedef.EventTypeStop))
	w.putDate(lapStartTime, l.Start)
	if v, ok := millis(l.Elapsed); ok {
		w.put(lapElapsed, v)
	}
	if v, ok := millis(l.Moving); ok {
		w.put(lapTimer, v)
	}
	if v, ok := scaled(l.Distance, 100, 0, maxU32); ok && l.Distance > 0 {
		w.put(lapDistance, v)
	}
	if v, ok := scaled(l.Calories, 1, 0, maxU16); ok && l.Calories > 0 {
		w.put(lapCalories, v)
	}
	if l.AvgHR > 0 && l.AvgHR <= maxU8 {
		w.put(lapAvgHR, uint32(l.AvgHR))
	}
	if l.MaxHR > 0 && l.MaxHR <= maxU8 {
		w.put(lapMaxHR, uint32(l.MaxHR))
	}
	if tr, ok := lapTriggers[l.Trigger]; ok {
		w.put(lapTrigger, uint32(tr))
	}
	w.put(lapSport, uint32(sportOf(wo)))
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
			w.put(lapNumLengths, uint32(uint16(n)))
			w.put(lapFirstLengthIndex, uint32(uint16(first)))
			w.put(lapNumActiveLengths, uint32(uint16(active)))
		}
	}
	w.end(localLap, mesgnum.Lap)
}

func (w *fileWriter) length(l workout.Length, index int) {
	w.begin()
	w.put(lenIndex, uint32(uint16(index)))
	w.putDate(lenTimestamp, l.Start.Add(l.Elapsed))
	w.put(lenEvent, uint32(typedef.EventLength))
	w.put(lenEventType, uint32(typedef.EventTypeStop))
	w.putDate(lenStartTime, l.Start)
	if v, ok := millis(l.Elapsed); ok {
		w.put(lenElapsed, v)
		w.put(lenTimer, v)
	}
	if l.Strokes > 0 && l.Strokes <= maxU16 {
		w.put(lenStrokes, uint32(l.Strokes))
	}
	if l.Stroke != workout.StrokeUnknown && !l.Idle {
		w.put(lenSwimStroke, uint32(l.Stroke))
	}
	if l.Strokes > 0 && l.Strokes <= maxU16 {
		if mins := l.Elapsed.Minutes(); mins > 0 {
			if v, ok := scaled(float64(l.Strokes)/mins, 1, 0, maxU8); ok {
				w.put(lenCadence, v)
			}
		}
	}
	if l.Idle {
		w.put(lenType, uint32(typedef.LengthTypeIdle))
	} else {
		w.put(lenType, uint32(typedef.LengthTypeActive))
	}
	w.end(localLength, mesgnum.Length)
}

func (w *fileWriter) session(wo *workout.Workout, elapsed, moving time.Duration, numLaps int, lengths []lengthRef) {
	sum := &wo.Summary
	sport, sub := wo.Sport.FIT()
	w.begin()
	w.put(sesIndex, 0)
	w.putDate(sesTimestamp, wo.Start.Add(elapsed))
	w.put(sesEvent, uint32(typedef.EventSession))
	w.put(sesEventType, uint32(typedef.EventTypeStop))
	w.putDate(sesStartTime, wo.Start)
	w.put(sesSport, uint32(typedef.Sport(sport)))
	w.put(sesSubSport, uint32(typedef.SubSport(sub)))
	if v, ok := millis(elapsed); ok {
		w.put(sesElapsed, v)
	}
	if v, ok := millis(moving); ok {
		w.put(sesTimer, v)
	}
	dist := wo.Distance()
	var avgSpeed uint32
	avgSpeedOK := false
	if v, ok := scaled(dist, 100, 0, maxU32); ok && dist > 0 {
		w.put(sesDistance, v)
		if secs := moving.Seconds(); secs > 0 {
			avgSpeed, avgSpeedOK = scaled(dist/secs, 1000, 0, maxU32)
		}
	}
	onFoot := wo.Sport.OnFoot()
	switch {
	case onFoot && sum.Steps > 0:
		// total_cycles is total_strides for running and walking: a stride
		// is two steps, matching cadence in strides per minute.
		w.put(sesCycles, uint32(sum.Steps/2))
	case wo.Sport.Swimming() && sum.Strokes > 0:
		w.put(sesCycles, uint32(sum.Strokes)) // total_strokes
	}
	if v, ok := scaled(sum.Calories, 1, 0, maxU16); ok && sum.Calories > 0 {
		w.put(sesCalories, v)
	}
	if avgSpeedOK && avgSpeed <= maxU16 {
		w.put(sesAvgSpeed, avgSpeed)
	}
	var maxSpeed uint32
	maxSpeedOK := false
	if sum.MaxSpeed > 0 {
		maxSpeed, maxSpeedOK = scaled(sum.MaxSpeed, 1000, 0, maxU32)
		if maxSpeedOK && maxSpeed <= maxU16 {
			w.put(sesMaxSpeed, maxSpeed)
		}
	}
	if sum.AvgHR > 0 && sum.AvgHR <= maxU8 {
		w.put(sesAvgHR, uint32(sum.AvgHR))
	}
	if sum.MaxHR > 0 && sum.MaxHR <= maxU8 {
		w.put(sesMaxHR, uint32(sum.MaxHR))
	}
	fitCad := func(c float64) float64 {
		if onFoot {
			return c / 2
		}
		return c
	}
	var avgFrac, maxFrac uint8
	avgCadOK, maxCadOK := false, false
	if sum.AvgCadence > 0 {
		var whole uint8
		if whole, avgFrac, avgCadOK = splitCadence(fitCad(sum.AvgCadence)); avgCadOK {
			w.put(sesAvgCadence, uint32(whole))
		}
	}
	if sum.MaxCadence > 0 {
		var whole uint8
		if whole, maxFrac, maxCadOK = splitCadence(fitCad(sum.MaxCadence)); maxCadOK {
			w.put(sesMaxCadence, uint32(whole))
		}
	}
	ascent, ascentFrac, ascentOK := splitMetres(sum.Ascent)
	if ascentOK {
		w.put(sesAscent, uint32(ascent))
	}
	descent, descentFrac, descentOK := splitMetres(sum.Descent)
	if descentOK {
		w.put(sesDescent, uint32(descent))
	}
	if sum.TrainingEffect > 0 {
		if v, ok := scaled(sum.TrainingEffect, 10, 0, maxU8); ok {
			w.put(sesTrainingEffect, v)
		}
	}
	w.put(sesFirstLapIndex, 0)
	w.put(sesNumLaps, uint32(min(numLaps, maxU16)))
	w.put(sesTrigger, uint32(typedef.SessionTriggerActivityEnd))
	if len(lengths) > 0 {
		w.put(sesNumLengths, uint32(min(len(lengths), maxU16)))
	}
	if wo.Sport.Swimming() {
		if sum.Stroke != workout.StrokeUnknown {
			w.put(sesSwimStroke, uint32(sum.Stroke))
		}
		if v, ok := scaled(sum.PoolLength, 100, 0, maxU16); ok && sum.PoolLength > 0 {
			w.put(sesPoolLength, v)
			w.put(sesPoolLengthUnit, uint32(typedef.DisplayMeasureMetric))
		}
	}
	if len(lengths) > 0 {
		active := 0
		for _, l := range lengths {
			if !l.idle {
				active++
			}
		}
		w.put(sesNumActiveLengths, uint32(min(active, maxU16)))
	}
	if avgCadOK {
		w.put(sesAvgFracCadence, uint32(avgFrac))
	}
	if maxCadOK {
		w.put(sesMaxFracCadence, uint32(maxFrac))
	}
	if onFoot && sum.Steps > 0 && sum.Steps%2 == 1 {
		w.put(sesFracCycles, 64) // half a stride, 1/128 units
	}
	if avgSpeedOK {
		w.put(sesEnhAvgSpeed, avgSpeed)
	}
	if maxSpeedOK {
		w.put(sesEnhMaxSpeed, maxSpeed)
	}
	if ascentOK && ascentFrac != 0 {
		w.put(sesFracAscent, uint32(ascentFrac))
	}
	if descentOK && descentFrac != 0 {
		w.put(sesFracDescent, uint32(descentFrac))
	}
	w.end(localOther, mesgnum.Session)
}

func (w *fileWriter) activity(wo *workout.Workout, endT uint32, moving time.Duration) {
	end, _ := timeOf(endT)
	w.begin()
	w.putDate(actTimestamp, end)
	if v, ok := millis(moving); ok {
		w.put(actTimer, v)
	}
	w.put(actNumSessions, 1)
	w.put(actType, uint32(typedef.ActivityManual))
	w.put(actEvent, uint32(typedef.EventActivity))
	w.put(actEventType, uint32(typedef.EventTypeStop))
	if wo.Zone.Known {
		// local_timestamp is the end in local wall-clock time, counted on
		// FIT's epoch as if it were UTC; its difference from timestamp is
		// the zone offset.
		off := int64(math.Round(wo.Zone.Offset.Seconds()))
		if l := int64(endT) + off; l >= fitTimeMin && l <= fitTimeMax {
			local, _ := timeOf(uint32(l))
			w.putDate(actLocalTimestamp, local)
		}
	}
	w.end(localOther, mesgnum.Activity)
}

// clipPauses returns the pauses that lie inside [start, end), clipped to it.
func clipPauses(in []workout.Interval, start, end time.Time) []workout.Interval {
	var out []workout.Interval
	for _, p := range workout.MergeIntervals(append([]workout.Interval(nil), in...)) {
		if p.Start.Before(start) {
			p.Start = start
		}
		if p.End.After(end) {
			p.End = end
		}
		if p.End.After(p.Start) && p.Start.Before(end) {
			out = append(out, p)
		}
	}
	return out
}

// fractionalNeeded reports whether any cadence has a fraction once in FIT
// units; only then is fractional_cadence written (always 0 otherwise).
func fractionalNeeded(samples []workout.Sample, onFoot bool) bool {
	for i := range samples {
		s := &samples[i]
		if s.Has&workout.HasCadence == 0 {
			continue
		}
		c := s.Cadence
		if onFoot {
			c /= 2
		}
		if _, frac, ok := splitCadence(c); ok && frac != 0 {
			return true
		}
	}
	return false
}

// maxDerivedLaps bounds per-kilometre laps. A longer "distance" is a
// corrupt value, not a 1000 km workout; it gets one lap.
const maxDerivedLaps = 1000

// lapsFor returns the laps to write: the workout's own, else one per
// kilometre, else one for the whole workout. Derived laps carry the average
// and maximum heart rate of their samples.
func lapsFor(wo *workout.Workout, elapsed time.Duration) []workout.Lap {
	if len(wo.Laps) > 0 {
		laps := wo.CompleteLaps()
		for i := range laps {
			if laps[i].Moving == 0 {
				laps[i].Moving = workout.MovingTime(laps[i].Start, laps[i].Elapsed, wo.Pauses)
			}
		}
		return laps
	}
	var laps []workout.Lap
	if !wo.Sport.Swimming() && maxDistance(wo.Samples) <= maxDerivedLaps*workout.Kilometre {
		for _, s := range wo.Splits(workout.Kilometre) {
			laps = append(laps, workout.Lap{Start: s.Start, Elapsed: s.Elapsed, Moving: s.Moving,
				Distance: s.Distance, Trigger: workout.LapDistance})
		}
	}
	if len(laps) == 0 {
		laps = []workout.Lap{{Start: wo.Start, Elapsed: elapsed, Moving: wo.Moving(),
			Distance: wo.Distance(), Calories: wo.Summary.Calories}}
	}
	laps[len(laps)-1].Trigger = workout.LapSessionEnd
	for i := range laps {
		laps[i].AvgHR, laps[i].MaxHR = heartRateIn(wo.Samples, laps[i].Start, laps[i].End())
	}
	if len(laps) == 1 && wo.Summary.AvgHR > 0 {
		laps[0].AvgHR, laps[0].MaxHR = wo.Summary.AvgHR, wo.Summary.MaxHR
	}
	return laps
}

// maxDistance is the largest cumulative distance of the samples.
func maxDistance(samples []workout.Sample) float64 {
	m := 0.0
	for i := range samples {
		if samples[i].Has&workout.HasDistance != 0 {
			m = max(m, samples[i].Distance)
		}
	}
	return m
}

// heartRateIn returns the average and maximum heart rate of the samples
// (time-ordered) in [from, to), or zeros when none has one.
func heartRateIn(samples []workout.Sample, from, to time.Time) (avg, maxHR int) {
	var sum, n int
	first := sort.Search(len(samples), func(i int) bool { return !samples[i].Time.Before(from) })
	for i := first; i < len(samples) && samples[i].Time.Before(to); i++ {
		s := &samples[i]
		if s.Has&workout.HasHeartRate == 0 {
			continue
		}
		sum += int(s.HeartRate)
		n++
		maxHR = max(maxHR, int(s.HeartRate))
	}
	if n == 0 {
		return 0, 0
	}
	return (sum + n/2) / n, maxHR
}

var lapTriggers = map[workout.LapTrigger]typedef.LapTrigger{
	workout.LapManual:     typedef.LapTriggerManual,
	workout.LapDistance:   typedef.LapTriggerDistance,
	workout.LapTime:       typedef.LapTriggerTime,
	workout.LapSessionEnd: typedef.LapTriggerSessionEnd,
}

func sportOf(wo *workout.Workout) typedef.Sport {
	s, _ := wo.Sport.FIT()
	return typedef.Sport(s)
}

// lengthRef is what a lap needs to know about a length.
type lengthRef struct {
	start time.Time
	idle  bool
}

// splitMetres splits a non-negative height into whole metres and hundredths
// (total_ascent and total_fractional_ascent).
func splitMetres(m float64) (whole uint16, frac uint8, ok bool) {
	v, ok := scaled(m, 100, 0, maxU16*100+99)
	if !ok || v == 0 {
		return 0, 0, false
	}
	return uint16(v / 100), uint8(v % 100), true
}
