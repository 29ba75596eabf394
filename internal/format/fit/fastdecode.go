package fit

import (
	"encoding/binary"
	"errors"

	"github.com/muktihari/fit/profile"
	"github.com/muktihari/fit/profile/basetype"
	"github.com/muktihari/fit/profile/factory"
	"github.com/muktihari/fit/profile/mesgdef"
	"github.com/muktihari/fit/profile/typedef"
	"github.com/muktihari/fit/profile/untyped/fieldnum"
	"github.com/muktihari/fit/profile/untyped/mesgnum"
	"github.com/muktihari/fit/proto"

	"github.com/bandsync/bandsync/internal/workout"
)

// The fast path reads a whole FIT file from memory and feeds decodeState the
// same messages the library decoder would, without the library's per-field
// work on the bulk of a file: it decodes only the record fields decodeState
// reads, checks the CRC with the table CRC, and expands only the components
// that land in a field decodeState reads.
//
// It handles sound files only. On anything else (an error of any kind, a
// compressed_speed_distance record, a component expansion it does not
// mirror) it gives up and Decode runs the library decoder from the start, so
// damaged files get the library's errors and salvage by construction.
//
// What it mirrors of muktihari/fit v0.28.3's decoder, which every rule below
// follows (decoder/decoder.go):
//   - a known field is read with the profile's base type, whatever the file
//     declares; a field shorter than that is zero-padded, a longer one gives
//     its first value; an unknown field is read with the file's base type;
//   - a field definition with an invalid base type is an error, one of size
//     zero is dropped;
//   - a field 253 whose value is a uint32 sets the running timestamp that
//     compressed-timestamp headers add to; such a header prepends a
//     timestamp field to its message;
//   - a component expands into the last field of its number, or is
//     appended, and only from a valid value;
//   - a developer field whose field_description gives an invalid base type
//     is an error;
//   - the messages of a file may run past its data size; the CRC follows
//     the last one.

// errFastUnsupported makes the fast path hand the input to the library.
var errFastUnsupported = errors.New("fit: fast path: not handled")

// stdFactory is the profile the library decoder uses.
var stdFactory = factory.StandardFactory()

// recordReads are the record fields decodeState.record reads; the fast path
// drops the others.
var recordReads = func() (set [256]bool) {
	for n := range recordSlots {
		set[n] = true
	}
	return set
}()

// eventReads are the event fields decodeState.event reads. Event's data
// fields expand through sub-fields the fast path does not mirror; as long
// as they do not land here, the difference is invisible.
var eventReads = func() (set [256]bool) {
	for _, n := range []byte{fieldnum.EventEvent, fieldnum.EventEventType, fieldnum.EventTimestamp} {
		set[n] = true
	}
	return set
}()

// fastKind is what the fast path does with a message.
type fastKind uint8

const (
	kindSkip             fastKind = iota // only its timestamp matters
	kindRecord                           // decodeState.record, with the fields it reads
	kindMesg                             // decodeState.OnMesg, with every field
	kindFieldDescription                 // kept to check developer fields
)

// fastKindOf says how the fast path reads a message.
func fastKindOf(num typedef.MesgNum) fastKind {
	switch num {
	case mesgnum.Record:
		return kindRecord
	case mesgnum.FileId, mesgnum.DeviceInfo, mesgnum.Event, mesgnum.Lap, mesgnum.Length,
		mesgnum.Session, mesgnum.Sport, mesgnum.Activity:
		return kindMesg
	case mesgnum.FieldDescription:
		return kindFieldDescription
	}
	return kindSkip
}

// fastField is the plan for one field of a definition.
type fastField struct {
	field   proto.Field // profile field (or unknown field with the file's base type); Value unset
	off     int         // offset in the message's data
	size    int         // bytes in the file
	n       int         // bytes of the base type the value is read with
	prim    bool        // an unsigned or signed integer read inline, not by proto.UnmarshalValue
	expand  bool        // has components the fast path expands
	setTime bool        // a field 253 read as uint32: sets the running timestamp
	slot    recordSlot  // where a record field goes
	target  proto.Field // the field a record's altitude or speed expands into
}

// recordSlot is a field of rawRecord.
type recordSlot uint8

const (
	slotNone recordSlot = iota
	slotTime
	slotLat
	slotLon
	slotAlt
	slotEnhAlt
	slotHR
	slotCad
	slotFrac
	slotDist
	slotSpeed
	slotEnhSpeed
	slotPower
)

// recordSlots maps record field numbers to slots, with the base type
// decodeState.record reads each with.
var recordSlots = map[byte]struct {
	slot recordSlot
	bt   basetype.BaseType
}{
	fieldnum.RecordTimestamp:         {slotTime, basetype.Uint32},
	fieldnum.RecordPositionLat:       {slotLat, basetype.Sint32},
	fieldnum.RecordPositionLong:      {slotLon, basetype.Sint32},
	fieldnum.RecordAltitude:          {slotAlt, basetype.Uint16},
	fieldnum.RecordEnhancedAltitude:  {slotEnhAlt, basetype.Uint32},
	fieldnum.RecordHeartRate:         {slotHR, basetype.Uint8},
	fieldnum.RecordCadence:           {slotCad, basetype.Uint8},
	fieldnum.RecordFractionalCadence: {slotFrac, basetype.Uint8},
	fieldnum.RecordDistance:          {slotDist, basetype.Uint32},
	fieldnum.RecordSpeed:             {slotSpeed, basetype.Uint16},
	fieldnum.RecordEnhancedSpeed:     {slotEnhSpeed, basetype.Uint32},
	fieldnum.RecordPower:             {slotPower, basetype.Uint16},
}

// fastDevField is a developer field definition.
type fastDevField struct{ num, index byte }

// fastDef is a local message definition with its plan.
type fastDef struct {
	defined   bool
	kind      fastKind
	mesg      typedef.MesgNum
	arch      byte
	size      int // bytes of a data message after its header
	fields    []fastField
	devFields []fastDevField
	timeField proto.Field // the field a compressed timestamp header adds
}

// fastDesc is what the decoder keeps of a field_description.
type fastDesc struct {
	index, num byte
	baseType   basetype.BaseType
}

// fastDecoder reads one input.
type fastDecoder struct {
	st      *decodeState
	data    []byte
	defs    [16]fastDef
	time    uint32 // running timestamp
	lastOff byte   // its 5 low bits as the last header or field gave them
	descs   []fastDesc
	scratch []proto.Field // Fields of the message being read
}

// decodeFast decodes data, a whole input, as decode does. ok is false when
// the fast path does not handle the input; st is then in an unknown state.
func decodeFast(data []byte) (st *decodeState, ok bool) {
	d := &fastDecoder{st: newDecodeState(), data: data}
	if err := d.run(); err != nil {
		return nil, false
	}
	if len(d.st.w.Samples) == 0 {
		d.st.w.Samples = nil // as the library path leaves it when no record gave a sample
	}
	return d.st, true
}

func (d *fastDecoder) run() error {
	pos := 0
	for seq := 0; ; seq++ {
		if seq > 0 && pos == len(d.data) {
			return nil
		}
		start, size, ok := d.header(pos)
		if !ok {
			if seq == 0 {
				return errFastUnsupported
			}
			d.st.notef("ignored bytes after the end of the FIT data")
			return nil
		}
		crcFrom := pos
		if size == 14 {
			crcFrom = pos + 14
		}
		end, err := d.messages(start, binary.LittleEndian.Uint32(d.data[pos+4:]))
		if err != nil {
			return err
		}
		if len(d.data)-end < 2 || crc16(0, d.data[crcFrom:end]) != binary.LittleEndian.Uint16(d.data[end:]) {
			return errFastUnsupported
		}
		pos = end + 2
		d.reset()
	}
}

// header checks the file header at pos as the library does and returns
// where the messages start.
func (d *fastDecoder) header(pos int) (start, size int, ok bool) {
	b := d.data[pos:]
	if len(b) < 1 || (b[0] != 12 && b[0] != 14) || len(b) < int(b[0]) {
		return 0, 0, false
	}
	size = int(b[0])
	if string(b[8:12]) != ".FIT" || binary.LittleEndian.Uint32(b[4:8]) == 0 {
		return 0, 0, false
	}
	if size == 14 {
		if c := binary.LittleEndian.Uint16(b[12:14]); c != 0 && c != crc16(0, b[:12]) {
			return 0, 0, false
		}
	}
	return pos + size, size, true
}

// reset forgets a file's state before the next chained one.
func (d *fastDecoder) reset() {
	for i := range d.defs {
		d.defs[i].defined = false
	}
	d.time, d.lastOff = 0, 0
	d.descs = d.descs[:0]
}

// messages reads messages from pos until dataSize bytes are consumed and
// returns where the last one ended.
func (d *fastDecoder) messages(pos int, dataSize uint32) (int, error) {
	start := pos
	var err error
	for uint32(pos-start) < dataSize {
		if pos >= len(d.data) {
			return 0, errFastUnsupported
		}
		h := d.data[pos]
		pos++
		if h&0xC0 == 0x40 {
			pos, err = d.definition(h, pos)
		} else {
			pos, err = d.message(h, pos)
		}
		if err != nil {
			return 0, err
		}
	}
	return pos, nil
}

// definition reads a definition message after its header h.
func (d *fastDecoder) definition(h byte, pos int) (int, error) {
	b := d.data
	if len(b)-pos < 5 {
		return 0, errFastUnsupported
	}
	def := &d.defs[h&0x0F]
	def.defined = false
	def.arch = b[pos+1]
	if def.arch == proto.LittleEndian {
		def.mesg = typedef.MesgNum(binary.LittleEndian.Uint16(b[pos+2:]))
	} else {
		def.mesg = typedef.MesgNum(binary.BigEndian.Uint16(b[pos+2:]))
	}
	def.kind = fastKindOf(def.mesg)
	n := int(b[pos+4])
	pos += 5
	if len(b)-pos < 3*n {
		return 0, errFastUnsupported
	}
	def.fields = def.fields[:0]
	def.devFields = def.devFields[:0]
	def.size = 0
	for i := 0; i < n; i, pos = i+1, pos+3 {
		num, size, bt := b[pos], int(b[pos+1]), basetype.BaseType(b[pos+2])
		if !bt.Valid() {
			return 0, errFastUnsupported
		}
		if size == 0 {
			continue
		}
		off := def.size
		def.size += size
		f, keep, err := planField(def.mesg, def.kind, num, size, bt)
		if err != nil {
			return 0, err
		}
		if keep {
			f.off = off
			def.fields = append(def.fields, f)
		}
	}
	if h&0x20 != 0 {
		if pos >= len(b) {
			return 0, errFastUnsupported
		}
		n = int(b[pos])
		pos++
		if len(b)-pos < 3*n {
			return 0, errFastUnsupported
		}
		for i := 0; i < n; i, pos = i+1, pos+3 {
			if b[pos+1] == 0 {
				continue
			}
			def.size += int(b[pos+1])
			def.devFields = append(def.devFields, fastDevField{num: b[pos], index: b[pos+2]})
		}
	}
	def.timeField = stdFactory.CreateField(def.mesg, proto.FieldNumTimestamp)
	if def.timeField.Name == factory.NameUnknown {
		def.timeField.BaseType = basetype.Uint32
		def.timeField.Type = profile.DateTime
	}
	def.defined = true
	return pos, nil
}

// planField decides how a field is read. keep is false for a field the
// fast path skips; an error means the fast path does not handle it.
func planField(mesg typedef.MesgNum, kind fastKind, num byte, size int, bt basetype.BaseType) (f fastField, keep bool, err error) {
	f.field = stdFactory.CreateField(mesg, num)
	if f.field.Name == factory.NameUnknown {
		// As the library: an unknown field keeps the file's base type.
		base := *f.field.FieldBase
		base.BaseType = bt
		base.Type = profile.ProfileType(bt & basetype.BaseTypeNumMask)
		if bt != basetype.String {
			base.Array = size > int(bt.Size()) && size%int(bt.Size()) == 0
		}
		f.field.FieldBase = &base
	}
	f.size, f.n = size, int(f.field.BaseType.Size())
	f.prim = !f.field.Array && integerType(f.field.BaseType) && f.field.Type != profile.Bool
	f.setTime = num == proto.FieldNumTimestamp && !f.field.Array &&
		(f.field.BaseType == basetype.Uint32 || f.field.BaseType == basetype.Uint32z)
	expands := len(f.field.Components) > 0
	for i := range f.field.SubFields {
		expands = expands || len(f.field.SubFields[i].Components) > 0
	}
	switch kind {
	case kindSkip:
		return f, f.setTime, nil
	case kindRecord:
		if !recordReads[num] {
			if expands && reaches(mesg, f.field, &recordReads, 0) {
				return f, false, errFastUnsupported // compressed_speed_distance
			}
			return f, false, nil // 253 is read: this is not it
		}
		rs := recordSlots[num]
		if f.field.BaseType != rs.bt || !f.prim {
			return f, false, errFastUnsupported // not the profile this was written for
		}
		f.slot = rs.slot
		if expands {
			// altitude and speed: one 16-bit component into the enhanced
			// field, which recordExpand mirrors.
			if !simpleExpansion(mesg, f.field) || len(f.field.Components) != 1 || f.field.Components[0].Bits < 16 {
				return f, false, errFastUnsupported
			}
			f.target = stdFactory.CreateField(mesg, f.field.Components[0].FieldNum)
			want := map[recordSlot]byte{slotAlt: fieldnum.RecordEnhancedAltitude, slotSpeed: fieldnum.RecordEnhancedSpeed}[f.slot]
			if want == 0 || f.target.Num != want || f.target.BaseType != basetype.Uint32 {
				return f, false, errFastUnsupported
			}
			f.expand = true
		}
		return f, true, nil
	case kindFieldDescription:
		if expands {
			return f, false, errFastUnsupported
		}
		return f, true, nil
	}
	if expands {
		switch {
		case simpleExpansion(mesg, f.field):
			f.expand = true
		case mesg == mesgnum.Event && !reaches(mesg, f.field, &eventReads, 0):
		default:
			return f, false, errFastUnsupported
		}
	}
	return f, true, nil
}

// integerType reports whether values of bt are integers the fast path
// reads itself.
func integerType(bt basetype.BaseType) bool {
	switch bt {
	case basetype.Enum, basetype.Byte, basetype.Uint8, basetype.Uint8z, basetype.Sint8,
		basetype.Uint16, basetype.Uint16z, basetype.Sint16,
		basetype.Uint32, basetype.Uint32z, basetype.Sint32:
		return true
	}
	return false
}

// unsignedType reports whether bt is an unsigned integer type.
func unsignedType(bt basetype.BaseType) bool {
	switch bt {
	case basetype.Enum, basetype.Byte, basetype.Uint8, basetype.Uint8z,
		basetype.Uint16, basetype.Uint16z, basetype.Uint32, basetype.Uint32z:
		return true
	}
	return false
}

// reaches reports whether expanding f's components (through sub-fields
// and further components) can set a field in set.
func reaches(mesg typedef.MesgNum, f proto.Field, set *[256]bool, depth int) bool {
	if depth > 8 {
		return true // deeper than the profile goes: assume the worst
	}
	comps := [][]proto.Component{f.Components}
	for i := range f.SubFields {
		comps = append(comps, f.SubFields[i].Components)
	}
	for _, cs := range comps {
		for _, c := range cs {
			if set[c.FieldNum] || reaches(mesg, stdFactory.CreateField(mesg, c.FieldNum), set, depth+1) {
				return true
			}
		}
	}
	return false
}

// simpleExpansion reports whether f's components are of the kind the fast
// path expands: an unsigned scalar without sub-fields, into scalar fields
// that expand no further, without accumulation.
func simpleExpansion(mesg typedef.MesgNum, f proto.Field) bool {
	// A field with sub-fields expands the matching sub-field's components
	// instead, which this does not mirror.
	if f.Array || !unsignedType(f.BaseType) || f.Accumulate || len(f.SubFields) > 0 {
		return false
	}
	for _, c := range f.Components {
		t := stdFactory.CreateField(mesg, c.FieldNum)
		if c.Accumulate || t.Name == factory.NameUnknown || t.Array || len(t.Components) > 0 ||
			len(t.SubFields) > 0 || !integerType(t.BaseType) {
			return false
		}
	}
	return true
}

// message reads a data message after its header h.
func (d *fastDecoder) message(h byte, pos int) (int, error) {
	local := h & 0x0F
	compressed := h&0x80 != 0
	if compressed {
		local = (h >> 5) & 0x03
		off := h & 0x1F
		d.time += uint32((off - d.lastOff) & 0x1F)
		d.lastOff = off
	}
	def := &d.defs[local]
	if !def.defined {
		return 0, errFastUnsupported // the library's "message definition missing"
	}
	if len(d.data)-pos < def.size {
		return 0, errFastUnsupported
	}
	b := d.data[pos : pos+def.size]
	if def.kind == kindRecord {
		if err := d.checkDevFields(def); err != nil {
			return 0, err
		}
		if cap(d.st.w.Samples) == 0 {
			// Most of a file is records: size the samples once.
			d.st.w.Samples = make([]workout.Sample, 0, min((len(d.data)-pos)/(def.size+1)+1, 1<<20))
		}
		d.record(def, b, compressed)
		return pos + def.size, nil
	}
	m := proto.Message{Num: def.mesg, Header: h, Fields: d.scratch}
	if compressed && def.kind != kindSkip {
		f := def.timeField
		f.Value = proto.Uint32(d.time)
		m.Fields = append(m.Fields, f)
	}
	for i := range def.fields {
		ff := &def.fields[i]
		v := d.value(ff, b[ff.off:ff.off+ff.size], def.arch)
		if ff.setTime && v.Type() == proto.TypeUint32 {
			d.time = v.Uint32()
			d.lastOff = byte(d.time & 0x1F)
		}
		if def.kind == kindSkip {
			continue
		}
		f := ff.field
		f.Value = v
		m.Fields = append(m.Fields, f)
	}
	// Components expand once every field is read, in field order, into
	// the fields after them; def.fields are the last fields read.
	first := len(m.Fields) - len(def.fields)
	for i := range def.fields {
		if def.fields[i].expand {
			expand(&m, first+i)
		}
	}
	if def.kind == kindFieldDescription {
		fd := mesgdef.NewFieldDescription(&m)
		d.descs = append(d.descs, fastDesc{fd.DeveloperDataIndex, fd.FieldDefinitionNumber, fd.FitBaseTypeId})
	}
	if err := d.checkDevFields(def); err != nil {
		return 0, err
	}
	if def.kind == kindMesg {
		d.st.OnMesg(m)
	}
	d.scratch = m.Fields[:0]
	return pos + def.size, nil
}

// record reads a record as decodeState.record would read the message the
// library makes of it.
func (d *fastDecoder) record(def *fastDef, b []byte, compressed bool) {
	r := newRawRecord()
	if compressed {
		r.time, r.haveTime = d.time, true
	}
	var alt, speed *fastField // the last valid ones, which expand last
	for i := range def.fields {
		ff := &def.fields[i]
		u := ff.uint(b[ff.off:ff.off+ff.size], def.arch)
		switch ff.slot {
		case slotTime:
			r.time, r.haveTime = uint32(u), true
			d.time, d.lastOff = uint32(u), byte(u&0x1F)
		case slotLat:
			r.lat = int32(uint32(u))
		case slotLon:
			r.lon = int32(uint32(u))
		case slotAlt:
			if x := uint16(u); x != 0xFFFF {
				r.alt, r.altValid, alt = x, true, ff
			}
		case slotEnhAlt:
			r.enhAlt = uint32(u)
		case slotHR:
			r.hr = uint8(u)
		case slotCad:
			r.cad = uint8(u)
		case slotFrac:
			r.frac = uint8(u)
		case slotDist:
			r.dist = uint32(u)
		case slotSpeed:
			if x := uint16(u); x != 0xFFFF {
				r.speed, r.spValid, speed = x, true, ff
			}
		case slotEnhSpeed:
			r.enhSpeed = uint32(u)
		case slotPower:
			r.power = uint16(u)
		}
	}
	if alt != nil && alt.expand {
		r.enhAlt = uint32(expandValue(uint64(r.alt), alt.field.Components[0], alt.target))
	}
	if speed != nil && speed.expand {
		r.enhSpeed = uint32(expandValue(uint64(r.speed), speed.field.Components[0], speed.target))
	}
	d.st.addRecord(&r)
}

// checkDevFields fails where the library would: a developer field whose
// field_description declares an invalid base type.
func (d *fastDecoder) checkDevFields(def *fastDef) error {
	for _, df := range def.devFields {
		for _, desc := range d.descs {
			if desc.index == df.index && desc.num == df.num {
				if !desc.baseType.Valid() {
					return errFastUnsupported
				}
				break
			}
		}
	}
	return nil
}

// value reads a field's value as proto.UnmarshalValue does after the
// library has padded a short field.
func (d *fastDecoder) value(ff *fastField, b []byte, arch byte) proto.Value {
	if ff.prim {
		return intValue(ff.uint(b, arch), ff.field.BaseType)
	}
	if n := ff.n; len(b) < n {
		var buf [8]byte
		if arch == proto.LittleEndian {
			copy(buf[:n], b)
		} else {
			copy(buf[n-len(b):n], b)
		}
		b = buf[:n]
	}
	isArray := ff.field.Array
	if ff.field.Name == factory.NameUnknown && ff.field.BaseType == basetype.String {
		isArray = strcount(b) > 1
	}
	// The base type is the profile's or a valid one from the file: the
	// only error, an unsupported type, cannot happen.
	v, _ := proto.UnmarshalValue(b, arch, ff.field.BaseType, ff.field.Type, isArray)
	return v
}

// uint reads an integer field's bits: its first value, or all its bytes
// zero-extended when it is shorter than its type.
func (ff *fastField) uint(b []byte, arch byte) (u uint64) {
	switch {
	case len(b) >= ff.n && arch == proto.LittleEndian:
		switch ff.n {
		case 1:
			return uint64(b[0])
		case 2:
			return uint64(binary.LittleEndian.Uint16(b))
		default:
			return uint64(binary.LittleEndian.Uint32(b))
		}
	case arch == proto.LittleEndian:
		for i := len(b) - 1; i >= 0; i-- {
			u = u<<8 | uint64(b[i])
		}
	default:
		for _, c := range b[:min(len(b), ff.n)] {
			u = u<<8 | uint64(c)
		}
	}
	return u
}

// intValue is u as a proto.Value of the integer base type bt.
func intValue(u uint64, bt basetype.BaseType) proto.Value {
	switch bt {
	case basetype.Sint8:
		return proto.Int8(int8(u))
	case basetype.Enum, basetype.Byte, basetype.Uint8, basetype.Uint8z:
		return proto.Uint8(uint8(u))
	case basetype.Sint16:
		return proto.Int16(int16(u))
	case basetype.Uint16, basetype.Uint16z:
		return proto.Uint16(uint16(u))
	case basetype.Sint32:
		return proto.Int32(int32(u))
	}
	return proto.Uint32(uint32(u))
}

// expand expands the components of m.Fields[i] as the library does for a
// field simpleExpansion accepts.
func expand(m *proto.Message, i int) {
	f := m.Fields[i]
	if !f.Value.Valid(f.BaseType) {
		return
	}
	var store, size uint64
	switch f.Value.Type() {
	case proto.TypeUint8:
		store, size = uint64(f.Value.Uint8()), 8
	case proto.TypeUint16:
		store, size = uint64(f.Value.Uint16()), 16
	case proto.TypeUint32:
		store, size = uint64(f.Value.Uint32()), 32
	default:
		return
	}
	for _, c := range f.Components {
		if size == 0 {
			break
		}
		size -= min(size, uint64(c.Bits))
		val := store & (uint64(1)<<c.Bits - 1)
		store >>= c.Bits
		target := stdFactory.CreateField(m.Num, c.FieldNum)
		target.IsExpandedField = true
		v := intValue(expandValue(val, c, target), target.BaseType)
		j := len(m.Fields) - 1
		for ; j >= 0 && m.Fields[j].Num != c.FieldNum; j-- {
		}
		if j >= 0 {
			m.Fields[j].Value = v
		} else {
			target.Value = v
			m.Fields = append(m.Fields, target)
		}
	}
}

// expandValue is the value a component's bits give its target field,
// computed as the library does, float rounding included.
func expandValue(bits uint64, c proto.Component, target proto.Field) uint64 {
	scaled := float64(float64(bits)/c.Scale) - c.Offset
	return uint64(float64(scaled+target.Offset) * target.Scale)
}

// strcount counts the strings in b as the library does for an unknown
// string field.
func strcount(b []byte) (n int) {
	last := 0
	for i := range b {
		if b[i] == 0 {
			if last != i {
				n++
			}
			last = i + 1
		} else if i == len(b)-1 {
			n++
		}
	}
	return n
}
