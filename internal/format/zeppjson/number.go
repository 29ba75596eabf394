package zeppjson

import (
	"errors"
	"math"
	"strconv"
)

var (
	errNotNumber = errors.New("not a number")
	errRange     = errors.New("number out of range")
)

// parseInt parses an optionally signed decimal integer of at most 18 digits.
func parseInt(b []byte) (int64, error) {
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, errNotNumber
	}
	if len(b) > 18 {
		return 0, errRange
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, errNotNumber
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, nil
}

var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// parseFloat parses a decimal number ("-12", "0.34602076", "1e3"). Inputs
// with at most 15 significant digits and no exponent take an exact fast path
// (an integer below 2^53 divided by an exact power of ten is correctly
// rounded); the rest go to strconv. NaN, Inf, hex and '_' are rejected.
func parseFloat(b []byte) (float64, error) {
	i, neg := 0, false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg, i = b[0] == '-', 1
	}
	var mant uint64
	sig, frac, nd := 0, 0, 0
	dot, exact := false, true
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			nd++
			switch {
			case sig < 15:
				mant = mant*10 + uint64(c-'0')
				if mant != 0 {
					sig++
				}
				if dot {
					frac++
				}
			case !dot || c != '0':
				exact = false
			}
		case c == '.' && !dot:
			dot = true
		case c == 'e' || c == 'E':
			return slowFloat(b)
		default:
			return 0, errNotNumber
		}
	}
	if nd == 0 {
		return 0, errNotNumber
	}
	if !exact || frac >= len(pow10) {
		return slowFloat(b)
	}
	f := float64(mant) / pow10[frac]
	if neg {
		f = -f
	}
	return f, nil
}

func slowFloat(b []byte) (float64, error) {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
			return 0, errNotNumber
		}
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, errNotNumber
	}
	return f, nil
}

// flexNumber extracts the number from a JSON value that may be a number, a
// numeric string, "" or null (ok is false for the last two). Anything else
// is an error naming the JSON kind found.
func flexNumber(val []byte) (num []byte, ok bool, err error) {
	switch {
	case len(val) == 0:
		return nil, false, nil
	case val[0] == '"':
		s, err := unquote(val)
		if err != nil {
			return nil, false, err
		}
		if len(s) == 0 {
			return nil, false, nil
		}
		if _, err := parseFloat(s); err != nil {
			return nil, false, errors.New("want a number, got the string " + strconv.Quote(string(truncate(s))))
		}
		return s, true, nil
	case val[0] == 'n':
		return nil, false, nil
	case val[0] == '-' || val[0] >= '0' && val[0] <= '9':
		return val, true, nil
	}
	return nil, false, errors.New("want a number, got " + kindOf(val))
}

func truncate(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}

// flexFloat reads a flexible number as float64 (0 when absent).
func flexFloat(val []byte) (float64, error) {
	num, ok, err := flexNumber(val)
	if err != nil || !ok {
		return 0, err
	}
	return parseFloat(num)
}

// flexInt reads a flexible number as an integer; "3157.0" is accepted, 12.5 is not.
func flexInt(val []byte) (int64, error) {
	num, ok, err := flexNumber(val)
	if err != nil || !ok {
		return 0, err
	}
	if n, err := parseInt(num); err == nil {
		return n, nil
	}
	f, err := parseFloat(num)
	if err != nil {
		return 0, err
	}
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, errors.New("want an integer, got " + string(truncate(num)))
	}
	return int64(f), nil
}

// flexString reads a JSON string or null.
func flexString(val []byte) (string, error) {
	if len(val) > 0 && val[0] == 'n' {
		return "", nil
	}
	if len(val) == 0 || val[0] != '"' {
		return "", errors.New("want a string, got " + kindOf(val))
	}
	s, err := unquote(val)
	if err == nil {
		err = checkText(s)
	}
	return string(s), err
}

// flexStream reads a detail stream: a JSON string (returned without a copy
// when it has no escapes) or null.
func flexStream(val []byte) ([]byte, error) {
	if len(val) > 0 && val[0] == 'n' {
		return nil, nil
	}
	if len(val) == 0 || val[0] != '"' {
		return nil, errors.New("want a string, got " + kindOf(val))
	}
	return unquote(val)
}
