package zeppexport

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// Zepp's data exports are often password-protected zips (the password is
// shown in the app or the e-mail), usually with WinZip AES encryption,
// which archive/zip cannot read (zepp-cloud-api.md §5.1). No maintained Go
// module that reads them is served here, so this file implements the two
// published schemes on top of archive/zip's raw entry access:
//
//   - WinZip AES (AE-1/AE-2, "compression method" 99), as specified in
//     WinZip's "AES Encryption Information: Encryption Specification AE-1
//     and AE-2": PBKDF2-HMAC-SHA1 (1 000 rounds) over a per-entry salt
//     gives the AES key, an HMAC-SHA1 key and a 2-byte password check;
//     the data is AES-CTR with a little-endian counter starting at 1,
//     authenticated by the first 10 bytes of HMAC-SHA1 over the
//     ciphertext.
//   - Traditional PKWARE encryption ("ZipCrypto"), as specified in
//     PKWARE's APPNOTE.TXT §6.1: three CRC-32-based keys, a 12-byte
//     header whose last byte checks the password.
//
// Both are checked end to end (HMAC, or the CRC-32 of the inflated bytes)
// before a byte is trusted.

// ErrPassword is matched by the errors of a missing or wrong password.
var ErrPassword = errors.New("password")

const (
	methodAES    = 99
	extraAES     = 0x9901
	aesMACLength = 10
	aesRounds    = 1000
)

// encrypted reports whether a zip entry is encrypted.
func encrypted(f *zip.File) bool { return f.Flags&0x1 != 0 }

// decrypt returns the inflated bytes of an encrypted entry, at most max of
// them (more is an error: the declared size was a lie).
func decrypt(f *zip.File, password []byte, max int64) ([]byte, error) {
	if len(password) == 0 {
		return nil, fmt.Errorf("entry %q is encrypted and no password was given: %w", f.Name, ErrPassword)
	}
	raw, err := f.OpenRaw()
	if err != nil {
		return nil, err
	}
	// The raw (compressed, encrypted) size is declared in the central
	// directory and was bounded by the caller's checks.
	ct, err := io.ReadAll(io.LimitReader(raw, int64(f.CompressedSize64)+1))
	if err != nil {
		return nil, err
	}
	var plain []byte
	method := f.Method
	checkCRC := true
	if f.Method == methodAES {
		var ae aesInfo
		if ae, err = parseAESExtra(f.Extra); err != nil {
			return nil, fmt.Errorf("entry %q: %w", f.Name, err)
		}
		if plain, err = decryptAES(ct, password, ae.keyLen); err != nil {
			return nil, fmt.Errorf("entry %q: %w", f.Name, err)
		}
		method = ae.method
		// AE-2 leaves the CRC at zero: the HMAC authenticates instead.
		checkCRC = ae.version == 1
	} else {
		check := byte(f.CRC32 >> 24)
		if f.Flags&0x8 != 0 {
			// With a data descriptor the check byte is the high byte of
			// the DOS modification time (APPNOTE 6.1.6).
			check = byte(f.ModifiedTime >> 8)
		}
		if plain, err = decryptZipCrypto(ct, password, check); err != nil {
			return nil, fmt.Errorf("entry %q: %w", f.Name, err)
		}
	}
	out, err := inflateEntry(plain, method, max)
	if err != nil {
		return nil, fmt.Errorf("entry %q: %w", f.Name, err)
	}
	if checkCRC && crc32.ChecksumIEEE(out) != f.CRC32 {
		return nil, fmt.Errorf("entry %q: checksum mismatch after decryption (damaged archive, or a wrong password that passed the 1-byte check): %w", f.Name, ErrPassword)
	}
	return out, nil
}

// inflateEntry undoes the entry's compression, refusing more than max bytes.
func inflateEntry(data []byte, method uint16, max int64) ([]byte, error) {
	var r io.Reader
	switch method {
	case zip.Store:
		r = bytes.NewReader(data)
	case zip.Deflate:
		fr := flate.NewReader(bytes.NewReader(data))
		defer fr.Close()
		r = fr
	default:
		return nil, fmt.Errorf("compression method %d is not supported (only stored and deflated)", method)
	}
	out, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("inflate: %w", err)
	}
	if int64(len(out)) > max {
		return nil, fmt.Errorf("inflates past its declared size of %d bytes (zip bomb?)", max)
	}
	return out, nil
}

type aesInfo struct {
	version int    // 1 = AE-1, 2 = AE-2
	keyLen  int    // 16, 24 or 32
	method  uint16 // the real compression method
}

// parseAESExtra reads the 0x9901 extra field: version (2), "AE" (2),
// strength (1), compression method (2).
func parseAESExtra(extra []byte) (aesInfo, error) {
	for len(extra) >= 4 {
		id := binary.LittleEndian.Uint16(extra)
		n := int(binary.LittleEndian.Uint16(extra[2:]))
		if 4+n > len(extra) {
			break
		}
		body := extra[4 : 4+n]
		extra = extra[4+n:]
		if id != extraAES {
			continue
		}
		if n < 7 || body[2] != 'A' || body[3] != 'E' {
			return aesInfo{}, errors.New("malformed AES extra field")
		}
		ae := aesInfo{version: int(binary.LittleEndian.Uint16(body)), method: binary.LittleEndian.Uint16(body[5:])}
		switch body[4] {
		case 1:
			ae.keyLen = 16
		case 2:
			ae.keyLen = 24
		case 3:
			ae.keyLen = 32
		default:
			return aesInfo{}, fmt.Errorf("unknown AES strength %d", body[4])
		}
		return ae, nil
	}
	return aesInfo{}, errors.New("AES-encrypted entry without its AES extra field")
}

// decryptAES checks and decrypts WinZip AES data: salt, 2-byte password
// verifier, ciphertext, 10-byte HMAC.
func decryptAES(data, password []byte, keyLen int) ([]byte, error) {
	saltLen := keyLen / 2
	if len(data) < saltLen+2+aesMACLength {
		return nil, errors.New("AES data too short")
	}
	salt, verifier := data[:saltLen], data[saltLen:saltLen+2]
	ct := data[saltLen+2 : len(data)-aesMACLength]
	mac := data[len(data)-aesMACLength:]
	keys, err := pbkdf2.Key(sha1.New, string(password), salt, aesRounds, 2*keyLen+2)
	if err != nil {
		return nil, err
	}
	if !hmac.Equal(keys[2*keyLen:], verifier) {
		return nil, fmt.Errorf("wrong %w", ErrPassword)
	}
	h := hmac.New(sha1.New, keys[keyLen:2*keyLen])
	h.Write(ct)
	if !hmac.Equal(h.Sum(nil)[:aesMACLength], mac) {
		return nil, fmt.Errorf("authentication failed (damaged archive or wrong %w)", ErrPassword)
	}
	block, err := aes.NewCipher(keys[:keyLen])
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(ct))
	xorCTRLittleEndian(block, out, ct)
	return out, nil
}

// xorCTRLittleEndian is AES-CTR as WinZip defines it: the counter block is
// a little-endian integer starting at 1 (crypto/cipher's CTR counts
// big-endian, so it cannot be used).
func xorCTRLittleEndian(block cipher.Block, dst, src []byte) {
	var ctr, ks [aes.BlockSize]byte
	for i := 0; i < len(src); i += aes.BlockSize {
		for j := range ctr { // increment, little-endian
			ctr[j]++
			if ctr[j] != 0 {
				break
			}
		}
		block.Encrypt(ks[:], ctr[:])
		n := min(aes.BlockSize, len(src)-i)
		for j := range n {
			dst[i+j] = src[i+j] ^ ks[j]
		}
	}
}

// zipCryptoKeys is the traditional PKWARE cipher's state.
type zipCryptoKeys [3]uint32

func newZipCrypto(password []byte) *zipCryptoKeys {
	k := &zipCryptoKeys{0x12345678, 0x23456789, 0x34567890}
	for _, b := range password {
		k.update(b)
	}
	return k
}

func crc32Byte(crc uint32, b byte) uint32 {
	return crc32.IEEETable[byte(crc)^b] ^ crc>>8
}

func (k *zipCryptoKeys) update(b byte) {
	k[0] = crc32Byte(k[0], b)
	k[1] = (k[1]+k[0]&0xff)*134775813 + 1
	k[2] = crc32Byte(k[2], byte(k[1]>>24))
}

func (k *zipCryptoKeys) decryptByte(c byte) byte {
	t := k[2] | 2
	p := c ^ byte((t*(t^1))>>8)
	k.update(p)
	return p
}

// decryptZipCrypto checks the 12-byte header's last byte against check and
// decrypts the rest.
func decryptZipCrypto(data, password []byte, check byte) ([]byte, error) {
	if len(data) < 12 {
		return nil, errors.New("ZipCrypto data too short")
	}
	k := newZipCrypto(password)
	var last byte
	for _, c := range data[:12] {
		last = k.decryptByte(c)
	}
	if last != check {
		return nil, fmt.Errorf("wrong %w", ErrPassword)
	}
	out := make([]byte, len(data)-12)
	for i, c := range data[12:] {
		out[i] = k.decryptByte(c)
	}
	return out, nil
}
