package fit

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/muktihari/fit/kit/datetime"
	"github.com/muktihari/fit/profile"
	"github.com/muktihari/fit/profile/basetype"
	"github.com/muktihari/fit/profile/factory"
	"github.com/muktihari/fit/profile/typedef"
	"github.com/muktihari/fit/proto"
)

// fileWriter writes a FIT file straight into one byte slice: the 14-byte
// header, definition and data messages in little-endian order, and the
// file CRC. It replaces building proto messages for a general encoder,
// which boxed every field value and cost ten times more.
//
// Local message types: the timer events, laps, lengths and the one-off
// messages (file_id, device_info, session, activity) each have their own,
// and a definition is written again only when a message's layout differs
// from the last one written under its type. Records take the remaining
// types, one per set of present fields: a sample holds only the fields it
// has, so a record never carries a field as zero or as FIT's invalid value.
type fileWriter struct {
	b []byte

	// defs[lt] is where the definition local type lt holds now sits in b.
	defs [recordTypeFirst]struct{ off, n int }

	// recMask[lt] is the record layout local type lt holds, for lt from
	// recordTypeFirst; recUsed orders them for reuse (least recent first).
	recMask  [16]recordFields
	recUsed  [16]uint32
	recDef   [16]bool
	clock    uint32
	lastMask recordFields
	lastType byte

	// The message being built: its field definitions and its data.
	fields []byte
	data   []byte

	other []timedMesg // reused by encode
}

// Local message types.
const (
	localEvent = iota
	localLap
	localLength
	localOther
	recordTypeFirst // records use recordTypeFirst..15
)

// writerPool keeps fileWriters, and so their output buffers, between
// Encode calls: a sync of many workouts then allocates its buffer once.
var writerPool = sync.Pool{New: func() any { return new(fileWriter) }}

// maxPooledBuffer is the largest buffer put back in the pool; a rare huge
// file should not pin its memory.
const maxPooledBuffer = 4 << 20

func (w *fileWriter) release() {
	if cap(w.b) > maxPooledBuffer {
		w.b = nil
	}
	w.other = w.other[:0]
	writerPool.Put(w)
}

// start resets w for a new file of about size bytes and reserves the header.
func (w *fileWriter) start(size int) {
	if cap(w.b) < size {
		w.b = make([]byte, 0, size)
	}
	w.b = w.b[:fileHeaderSize]
	for i := range w.defs {
		w.defs[i].n = 0
	}
	w.recMask = [16]recordFields{}
	w.recUsed = [16]uint32{}
	w.recDef = [16]bool{}
	w.clock = 0
	w.lastType = 0 // no record type yet
}

const fileHeaderSize = 14

// finish writes the header, which needs the data size, and the file CRC,
// and returns the file.
func (w *fileWriter) finish() ([]byte, error) {
	dataSize := len(w.b) - fileHeaderSize
	if uint64(dataSize) > 0xFFFFFFFF {
		return nil, fmt.Errorf("fit: encode: %d bytes of messages is too large for a FIT file", dataSize)
	}
	h := w.b[:fileHeaderSize]
	h[0] = fileHeaderSize
	h[1] = byte(proto.V1)
	binary.LittleEndian.PutUint16(h[2:], profile.Version)
	binary.LittleEndian.PutUint32(h[4:], uint32(dataSize))
	copy(h[8:12], proto.DataTypeFIT)
	binary.LittleEndian.PutUint16(h[12:], crc16(0, h[:12]))
	// The file CRC covers the data; including the header would give the
	// same value, since a block followed by its own CRC checks to zero.
	w.b = binary.LittleEndian.AppendUint16(w.b, crc16(0, w.b[fileHeaderSize:]))
	return w.b, nil
}

// field is a message field as the FIT profile defines it.
type field struct {
	num     byte
	typ     basetype.BaseType
	size    byte
	invalid uint32 // the base type's invalid value, which means "not set"
}

// profileField looks up a field's base type in the FIT profile.
func profileField(mesg typedef.MesgNum, num byte) field {
	bt := factory.CreateField(mesg, num).BaseType
	f := field{num: num, typ: bt, size: bt.Size()}
	switch v := bt.Invalid().(type) {
	case uint8:
		f.invalid = uint32(v)
	case uint16:
		f.invalid = uint32(v)
	case uint32:
		f.invalid = v
	case int32:
		f.invalid = uint32(v)
	case string:
		// strings: the empty string means "not set"
	default:
		panic(fmt.Sprintf("fit: field %d of message %v has base type %v, which the writer does not handle", num, mesg, bt))
	}
	return f
}

// begin starts a message.
func (w *fileWriter) begin() {
	w.fields = w.fields[:0]
	w.data = w.data[:0]
}

// put adds field f holding v, unless v is f's invalid value: FIT readers
// take that as "not set", so the field is left out, as the profile's own
// message types do.
func (w *fileWriter) put(f field, v uint32) {
	if v == f.invalid {
		return
	}
	w.fields = append(w.fields, f.num, f.size, byte(f.typ))
	switch f.size {
	case 1:
		w.data = append(w.data, byte(v))
	case 2:
		w.data = binary.LittleEndian.AppendUint16(w.data, uint16(v))
	default:
		w.data = binary.LittleEndian.AppendUint32(w.data, v)
	}
}

// putDate adds a date_time field holding t, unless t is before FIT's epoch.
func (w *fileWriter) putDate(f field, t time.Time) {
	if t.Before(fitEpoch) {
		return
	}
	v := uint32(t.Sub(fitEpoch).Seconds())
	w.fields = append(w.fields, f.num, f.size, byte(f.typ))
	w.data = binary.LittleEndian.AppendUint32(w.data, v)
}

var fitEpoch = datetime.Epoch()

// putString adds a string field, null-terminated, unless s is empty. The
// strings Encode writes are bounded well below FIT's 255 bytes.
func (w *fileWriter) putString(f field, s string) {
	if s == "" {
		return
	}
	n := len(s)
	if s[n-1] != 0 {
		n++
	}
	w.fields = append(w.fields, f.num, byte(n), byte(f.typ))
	w.data = append(w.data, s...)
	if s[len(s)-1] != 0 {
		w.data = append(w.data, 0)
	}
}

// end writes the message built since begin as global message num under
// local type lt, preceded by its definition unless lt already holds it.
func (w *fileWriter) end(lt byte, num typedef.MesgNum) {
	off := len(w.b)
	w.appendDefinition(lt, num)
	if d := &w.defs[lt]; d.n == len(w.b)-off && bytes.Equal(w.b[d.off:d.off+d.n], w.b[off:]) {
		w.b = w.b[:off]
	} else {
		d.off, d.n = off, len(w.b)-off
	}
	w.b = append(w.b, lt)
	w.b = append(w.b, w.data...)
}

// appendDefinition appends a definition message: local type lt is global
// message num with the fields in w.fields.
func (w *fileWriter) appendDefinition(lt byte, num typedef.MesgNum) {
	w.b = append(w.b, proto.MesgDefinitionMask|lt, 0, proto.LittleEndian, byte(num), byte(num>>8), byte(len(w.fields)/3))
	w.b = append(w.b, w.fields...)
}
