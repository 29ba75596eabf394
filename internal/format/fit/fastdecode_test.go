package fit

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/muktihari/fit/profile/basetype"

	"github.com/bandsync/bandsync/internal/workout"
)

// compareWithLibrary decodes b with Decode/DecodeSalvage and with
// decodeLibrary, the library-only reference, and fails on any difference in
// the Workout or the error. It reports whether the fast path handled b.
// The fast path runs first on its own, without decode's recover, so that a
// panic in it fails the test instead of falling back quietly.
func compareWithLibrary(t testing.TB, name string, b []byte) (handled bool) {
	t.Helper()
	_, handled = decodeFast(b)
	for _, salvage := range []bool{false, true} {
		want, werr := decodeLibrary(bytes.NewReader(b), salvage)
		got, gerr := decode(bytes.NewReader(b), salvage)
		if fmt.Sprint(gerr) != fmt.Sprint(werr) {
			t.Errorf("%s (salvage %v, fast path %v): error %v, library %v", name, salvage, handled, gerr, werr)
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (salvage %v, fast path %v): workout differs from the library's (-library +fast):\n%s", name, salvage, handled, diff)
		}
	}
	return handled
}

// moduleTestdata returns the FIT files muktihari/fit ships as its test data
// (Garmin SDK examples: developer fields, compressed timestamps, gear
// changes, chained and truncated files), from the module cache. They are
// read there rather than copied: they are the library's, under its and
// Garmin's terms. Without the module directory the test skips them.
func moduleTestdata(t testing.TB) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/muktihari/fit").Output()
	if err != nil {
		t.Logf("muktihari/fit test data not found: %v", err)
		return nil
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "testdata")
	var paths []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".fit") && !strings.Contains(p, "fuzz") {
			paths = append(paths, p)
		}
		return nil
	})
	return paths
}

// fixCRC rewrites the header and file CRCs of the first FIT file in b so
// that a mutated file passes the integrity checks and its content reaches
// the decoders. Inputs too short to hold them are returned unchanged.
func fixCRC(b []byte) []byte {
	b = bytes.Clone(b)
	if len(b) < 12 || (b[0] != 12 && b[0] != 14) || len(b) < int(b[0]) {
		return b
	}
	hs := int(b[0])
	from := 0
	if hs == 14 {
		binary.LittleEndian.PutUint16(b[12:], crc16(0, b[:12]))
		from = 14
	}
	end := hs + int(binary.LittleEndian.Uint32(b[4:8]))
	if end < hs || end+2 > len(b) {
		return b
	}
	binary.LittleEndian.PutUint16(b[end:], crc16(0, b[from:end]))
	return b
}

// fitMessage is one message of a sound FIT file, as rewriteFIT sees it.
type fitMessage struct {
	header byte
	body   []byte // after the header
}

// fitDef is what rewriteFIT knows of a definition.
type fitDef struct {
	mesg   uint16
	fields [][3]byte // num, size, base type
	dev    int       // bytes of developer fields
}

// rewriteFIT parses a sound single little-endian FIT file and rebuilds it
// from what fn makes of each message (given the definition in force for a
// data message), with fresh CRCs. ok is false when b is not such a file.
func rewriteFIT(b []byte, fn func(m fitMessage, def *fitDef, out *bytes.Buffer)) (res []byte, ok bool) {
	if len(b) < 14 || (b[0] != 12 && b[0] != 14) {
		return nil, false
	}
	hs := int(b[0])
	end := hs + int(binary.LittleEndian.Uint32(b[4:8]))
	if end > len(b) {
		return nil, false
	}
	var defs [16]*fitDef
	var out bytes.Buffer
	out.Write(b[:hs])
	for pos := hs; pos < end; {
		h := b[pos]
		pos++
		start := pos
		var def *fitDef
		if h&0xC0 == 0x40 {
			if pos+5 > end || b[pos+1] != 0 {
				return nil, false
			}
			d := &fitDef{mesg: binary.LittleEndian.Uint16(b[pos+2:])}
			n := int(b[pos+4])
			pos += 5
			for range n {
				if pos+3 > end {
					return nil, false
				}
				d.fields = append(d.fields, [3]byte{b[pos], b[pos+1], b[pos+2]})
				pos += 3
			}
			if h&0x20 != 0 {
				if pos >= end {
					return nil, false
				}
				n := int(b[pos])
				pos++
				for range n {
					if pos+3 > end {
						return nil, false
					}
					d.dev += int(b[pos+1])
					pos += 3
				}
			}
			defs[h&0x0F] = d
		} else {
			local := h & 0x0F
			if h&0x80 != 0 {
				local = h >> 5 & 3
			}
			if def = defs[local]; def == nil {
				return nil, false
			}
			for _, f := range def.fields {
				pos += int(f[1])
			}
			pos += def.dev
			if pos > end {
				return nil, false
			}
		}
		fn(fitMessage{h, b[start:pos]}, def, &out)
	}
	res = out.Bytes()
	binary.LittleEndian.PutUint32(res[4:8], uint32(len(res)-hs))
	res = append(res, 0, 0)
	return fixCRC(res), true
}

// bigEndian rewrites a little-endian FIT file as a big-endian one.
func bigEndian(b []byte) ([]byte, bool) {
	return rewriteFIT(b, func(m fitMessage, def *fitDef, out *bytes.Buffer) {
		out.WriteByte(m.header)
		body := bytes.Clone(m.body)
		if def == nil {
			body[1] = 1
			body[2], body[3] = body[3], body[2]
			out.Write(body)
			return
		}
		p := body
		for _, f := range def.fields {
			field := p[:f[1]]
			p = p[f[1]:]
			n := int(basetype.BaseType(f[2]).Size())
			if basetype.BaseType(f[2]) == basetype.String {
				continue
			}
			for ; n > 1 && len(field) >= n; field = field[n:] {
				for i, j := 0, n-1; i < j; i, j = i+1, j-1 {
					field[i], field[j] = field[j], field[i]
				}
			}
		}
		out.Write(body)
	})
}

// compressTimestamps rewrites records to use compressed timestamp headers
// where the time since the last timestamp allows, as low-power devices do:
// under local message 3, with a definition without the timestamp, and the
// file's own definition for local 3 put back before its next message.
func compressTimestamps(b []byte) ([]byte, bool) {
	var (
		last       uint32
		have       bool
		origHeader [16]byte
		origBody   [16][]byte
		in3        = -1 // what local 3 holds in the output: -1 its own, else the stripped record layout of local in3
		compressed int
	)
	res, sound := rewriteFIT(b, func(m fitMessage, def *fitDef, out *bytes.Buffer) {
		if def == nil {
			l := m.header & 0x0F
			origHeader[l], origBody[l] = m.header, m.body
			if l == 3 {
				in3 = -1
			}
			out.WriteByte(m.header)
			out.Write(m.body)
			return
		}
		ts, tsOff, off := uint32(0), -1, 0
		for _, f := range def.fields {
			if f[0] == 253 && f[1] == 4 {
				ts, tsOff = binary.LittleEndian.Uint32(m.body[off:]), off
			}
			off += int(f[1])
		}
		l := int(m.header & 0x0F)
		if m.header&0x80 == 0 && def.mesg == 20 && tsOff >= 0 && have && ts >= last && ts-last < 32 {
			if in3 != l {
				body := origBody[l]
				var fields []byte
				for i := 0; i < int(body[4]); i++ {
					if f := body[5+3*i : 8+3*i]; f[0] != 253 {
						fields = append(fields, f...)
					}
				}
				out.WriteByte(0x40 | 3 | origHeader[l]&0x20)
				out.Write(body[:4])
				out.WriteByte(byte(len(fields) / 3))
				out.Write(fields)
				out.Write(body[5+3*int(body[4]):]) // developer field definitions
				in3 = l
			}
			out.WriteByte(0x80 | 3<<5 | byte(ts&0x1F))
			out.Write(m.body[:tsOff])
			out.Write(m.body[tsOff+4:])
			compressed++
		} else {
			if l == 3 && m.header&0x80 == 0 && in3 != -1 {
				out.WriteByte(origHeader[3])
				out.Write(origBody[3])
				in3 = -1
			}
			out.WriteByte(m.header)
			out.Write(m.body)
		}
		if tsOff >= 0 {
			last, have = ts, true
		}
	})
	return res, sound && compressed > 0
}

// differentialInputs are the files the fast path is checked on: the
// fixtures, the module's test data and the encoder's output for the varied
// workouts, with big-endian and compressed-timestamp versions of them.
func differentialInputs(t testing.TB) map[string][]byte {
	t.Helper()
	in := map[string][]byte{}
	paths, _ := filepath.Glob(filepath.Join(fixtures, "*.fit"))
	for _, p := range append(paths, moduleTestdata(t)...) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		in[filepath.Base(p)] = b
	}
	for _, c := range variedWorkouts() {
		var buf bytes.Buffer
		if Encode(&buf, c.w, c.opt) == nil {
			in["encoded "+c.name] = buf.Bytes()
		}
	}
	for name, b := range in {
		if len(b) > 1<<20 {
			continue // big_activity.fit: once is enough
		}
		if be, ok := bigEndian(b); ok {
			in[name+" big-endian"] = be
		}
		if ct, ok := compressTimestamps(b); ok {
			in[name+" compressed timestamps"] = ct
		}
	}
	return in
}

// TestFastDecodeMatchesLibrary: on every sound input, and on truncated and
// corrupted versions of them (with CRCs fixed up so the fast path reads
// the damage), Decode and DecodeSalvage return what the library decoder
// makes of the input, or the same error.
func TestFastDecodeMatchesLibrary(t *testing.T) {
	in := differentialInputs(t)
	var sound, handled, mutants, mutantsHandled int
	var bigEndians, compressed int
	rng := rand.New(rand.NewPCG(7, 8))
	for name, b := range in {
		sound++
		if compareWithLibrary(t, name, b) {
			handled++
			if strings.HasSuffix(name, "big-endian") {
				bigEndians++
			}
			if strings.HasSuffix(name, "compressed timestamps") {
				compressed++
			}
		}
		if strings.HasPrefix(name, "encoded random") || strings.HasPrefix(name, "encoded sport") || len(b) > 1<<20 {
			continue // enough of those; the mutants come from the rest
		}
		for _, cut := range []int{0, 1, 13, 14, 20, len(b) / 3, len(b) / 2, len(b) - 3, len(b) - 2, len(b) - 1} {
			if cut >= 0 && cut < len(b) {
				compareWithLibrary(t, fmt.Sprintf("%s cut at %d", name, cut), b[:cut])
			}
		}
		compareWithLibrary(t, name+" with trailing bytes", append(bytes.Clone(b), 0, 1, 2))
		if len(b) < 20000 {
			compareWithLibrary(t, name+" twice", append(bytes.Clone(b), b...))
		}
		n := 30
		if len(b) > 20000 {
			n = 3 // the library is slow on big files
		}
		for i := range n {
			m := bytes.Clone(b)
			for range 1 + rng.IntN(4) {
				p := 14 + rng.IntN(max(len(m)-16, 1))
				if p < len(m) {
					m[p] = byte(rng.Uint32())
				}
			}
			mutants++
			if compareWithLibrary(t, fmt.Sprintf("%s mutant %d", name, i), fixCRC(m)) {
				mutantsHandled++
			}
		}
	}
	t.Logf("%d sound inputs, %d read by the fast path (%d big-endian, %d with compressed timestamps); %d mutants, %d read by the fast path",
		sound, handled, bigEndians, compressed, mutants, mutantsHandled)
	// The comparison proves nothing about inputs the fast path leaves to
	// the library: it must take most of them.
	if handled < sound*9/10 || bigEndians < 50 || compressed < 50 || mutantsHandled < mutants/2 {
		t.Errorf("the fast path read too few inputs")
	}
}

// FuzzFastDecode compares Decode with the library decoder on arbitrary
// bytes, as given and with their CRCs fixed up (so that damage inside the
// data reaches the fast path instead of failing the checksum). Seeded with
// the fixtures and encoded workouts.
//
//	go test -run='^$' -fuzz=FuzzFastDecode -fuzztime=60s -fuzzminimizetime=0 ./internal/format/fit/
func FuzzFastDecode(f *testing.F) {
	addFixtures(f)
	for _, w := range []*workout.Workout{sparseWalk(), poolSwim(), outdoorRun(120, []workout.Interval{pause(30, 40)}), ride()} {
		b := encoded(f, w)
		f.Add(b)
		if be, ok := bigEndian(b); ok {
			f.Add(be)
		}
		if ct, ok := compressTimestamps(b); ok {
			f.Add(ct)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		compareWithLibrary(t, "input", b)
		compareWithLibrary(t, "input with fixed CRCs", fixCRC(b))
	})
}

// TestDecodeReaderErrorAfterData: a read error after a sound file's bytes reaches
// the library decoder as it did the caller.
func TestDecodeReaderErrorAfterData(t *testing.T) {
	good := encoded(t, sparseWalk())
	for _, n := range []int{5, 14, len(good) / 2, len(good)} {
		r := func() io.Reader { return io.MultiReader(bytes.NewReader(good[:n]), errReader{io.ErrClosedPipe}) }
		_, err := Decode(r())
		_, want := decodeLibrary(r(), false)
		if fmt.Sprint(err) != fmt.Sprint(want) {
			t.Errorf("read error after %d bytes: %v, library %v", n, err, want)
		}
	}
}
