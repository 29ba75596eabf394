package fit

// FIT protects its header and its data with a CRC-16 (the reflected 0x8005
// polynomial, initial value 0, also known as CRC-16/ARC). The FIT protocol
// document gives it as a loop over nibbles with a 16-entry table; that is
// crcNibble below. Encode checksums every byte of the file, so it uses tables
// derived from that loop instead: one byte-indexed table gives one step per
// byte, and sixteen of them ("slicing by 16") fold sixteen bytes per step
// with independent lookups the CPU runs in parallel.

// crcNibbleTable is the FIT protocol document's table.
var crcNibbleTable = [16]uint16{
	0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401,
	0xA001, 0x6C00, 0x7800, 0xB401, 0x5000, 0x9C01, 0x8801, 0x4400,
}

// crcNibble is the FIT protocol document's algorithm: it updates crc with
// byte b, four bits at a time.
func crcNibble(crc uint16, b byte) uint16 {
	tmp := crcNibbleTable[crc&0xF]
	crc = (crc >> 4) & 0x0FFF
	crc = crc ^ tmp ^ crcNibbleTable[b&0xF]
	tmp = crcNibbleTable[crc&0xF]
	crc = (crc >> 4) & 0x0FFF
	return crc ^ tmp ^ crcNibbleTable[(b>>4)&0xF]
}

// crcTable[k][v] is the CRC of byte v followed by k zero bytes, starting
// from 0. crcTable[0] is the usual byte table.
var crcTable = makeCRCTable()

func makeCRCTable() *[16][256]uint16 {
	t := new([16][256]uint16)
	for v := range 256 {
		t[0][v] = crcNibble(0, byte(v))
	}
	for k := 1; k < 16; k++ {
		for v := range 256 {
			prev := t[k-1][v]
			t[k][v] = prev>>8 ^ t[0][byte(prev)]
		}
	}
	return t
}

// crc16 updates crc with p.
func crc16(crc uint16, p []byte) uint16 {
	t := crcTable
	for len(p) >= 16 {
		_ = p[15] // one bounds check for the sixteen bytes
		crc = t[15][p[0]^byte(crc)] ^ t[14][p[1]^byte(crc>>8)] ^
			t[13][p[2]] ^ t[12][p[3]] ^ t[11][p[4]] ^ t[10][p[5]] ^
			t[9][p[6]] ^ t[8][p[7]] ^ t[7][p[8]] ^ t[6][p[9]] ^
			t[5][p[10]] ^ t[4][p[11]] ^ t[3][p[12]] ^ t[2][p[13]] ^
			t[1][p[14]] ^ t[0][p[15]]
		p = p[16:]
	}
	for _, b := range p {
		crc = crc>>8 ^ t[0][byte(crc)^b]
	}
	return crc
}
