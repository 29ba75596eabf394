package zeppjson

import (
	"bytes"
	"errors"
)

// cursor reads the numbers of a stream in place, one field at a time, in a
// single pass: splitting entries first and parsing them after costs twice
// as much. The general stream parsers use it; the fast paths (fast.go)
// inline the same reading for the common shapes.
type cursor struct {
	s    []byte
	i    int
	term byte // what ended the last field: ',', ';' or 0 at the end
}

var errBadChar = errors.New("unexpected character")

func (c *cursor) done() bool { return c.i >= len(c.s) }

// finish consumes the field terminator at c.i, or reports a bad character.
func (c *cursor) finish(i int) error {
	if i >= len(c.s) {
		c.i, c.term = i, 0
		return nil
	}
	switch ch := c.s[i]; ch {
	case ',', ';':
		c.i, c.term = i+1, ch
		return nil
	}
	c.i = i
	return errBadChar
}

// int reads an optionally negative integer field; empty reports an empty
// field.
func (c *cursor) int() (n int64, empty bool, err error) {
	s, i := c.s, c.i
	neg := i < len(s) && s[i] == '-'
	if neg {
		i++
	}
	start := i
	for i < len(s) && s[i]-'0' <= 9 {
		n = n*10 + int64(s[i]-'0')
		i++
	}
	digits := i - start
	if err := c.finish(i); err != nil {
		return 0, false, err
	}
	switch {
	case digits == 0 && neg:
		return 0, false, errNotNumber
	case digits > 18:
		return 0, false, errRange
	case neg:
		n = -n
	}
	return n, digits == 0, nil
}

// float reads a decimal field; see parseFloat for the exactness argument.
// Integer and fraction digits are read in two tight loops: this is the
// decoder's hottest code.
func (c *cursor) float() (f float64, empty bool, err error) {
	s, i := c.s, c.i
	start := i
	neg := i < len(s) && s[i] == '-'
	if neg {
		i++
	}
	var mant uint64
	intStart := i
	for i < len(s) && s[i]-'0' <= 9 {
		mant = mant*10 + uint64(s[i]-'0')
		i++
	}
	nd, frac := i-intStart, 0
	if i < len(s) && s[i] == '.' {
		i++
		fracStart := i
		for i < len(s) && s[i]-'0' <= 9 {
			mant = mant*10 + uint64(s[i]-'0')
			i++
		}
		frac = i - fracStart
		nd += frac
	}
	if nd > 15 || i < len(s) && s[i] != ',' && s[i] != ';' {
		return c.slowFloat(start) // long mantissa (or leading zeros), exponent, junk
	}
	if err := c.finish(i); err != nil {
		return 0, false, err
	}
	if nd == 0 {
		if i == start {
			return 0, true, nil
		}
		return 0, false, errNotNumber
	}
	f = float64(mant) / pow10[frac]
	if neg {
		f = -f
	}
	return f, false, nil
}

// slowFloat parses the field starting at start with parseFloat (exponents,
// long mantissas) and consumes it.
func (c *cursor) slowFloat(start int) (float64, bool, error) {
	end := start
	for end < len(c.s) && c.s[end] != ',' && c.s[end] != ';' {
		end++
	}
	f, err := parseFloat(c.s[start:end])
	if err != nil {
		c.i = start
		return 0, false, err
	}
	return f, false, c.finish(end)
}

// skipEntry skips what is left of the current entry (extra columns).
func (c *cursor) skipEntry() {
	if c.term != ',' {
		return
	}
	if j := bytes.IndexByte(c.s[c.i:], ';'); j >= 0 {
		c.i, c.term = c.i+j+1, ';'
	} else {
		c.i, c.term = len(c.s), 0
	}
}

// entryAt returns the entry that starts at start, for error messages.
func (c *cursor) entryAt(start int) []byte {
	e := c.s[min(start, len(c.s)):]
	if j := bytes.IndexByte(e, ';'); j >= 0 {
		e = e[:j]
	}
	return truncate(e)
}
