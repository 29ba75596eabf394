package fit

import (
	"math/rand/v2"
	"testing"
)

// TestCRC16MatchesSpec: the table-driven CRC equals the FIT protocol
// document's nibble algorithm on random data of every length around the
// 16-byte step, from random starting values.
func TestCRC16MatchesSpec(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 200 {
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(r.Uint32())
		}
		init := uint16(r.Uint32())
		want := init
		for _, b := range p {
			want = crcNibble(want, b)
		}
		if got := crc16(init, p); got != want {
			t.Fatalf("crc16(%#04x, %d bytes) = %#04x, want %#04x", init, n, got, want)
		}
	}
}

// TestCRC16KnownValue checks a FIT file header against its stored CRC.
func TestCRC16KnownValue(t *testing.T) {
	header := []byte{14, 32, 84, 8, 214, 204, 9, 0, 46, 70, 73, 84}
	if got := crc16(0, header); got != 12856 {
		t.Errorf("crc16 = %d, want 12856", got)
	}
	// CRC-16/ARC's check value.
	if got := crc16(0, []byte("123456789")); got != 0xBB3D {
		t.Errorf("crc16(\"123456789\") = %#04x, want 0xbb3d", got)
	}
}

func BenchmarkCRC16(b *testing.B) {
	p := make([]byte, 100<<10)
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		crc16(0, p)
	}
}
