package zeppjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// scanner is a small JSON reader for the flat objects Zepp sends.
// encoding/json spends most of a detail decode copying and re-scanning the
// long stream strings (0.7 ms for a 53-minute run); this reader only finds
// where each value ends and hands out sub-slices of the input, so the stream
// parsers read the bytes in place.
type scanner struct {
	data  []byte
	pos   int
	depth int
}

const maxDepth = 100

func (s *scanner) errorf(format string, args ...any) error {
	return fmt.Errorf("invalid JSON at byte %d: %s", s.pos, fmt.Sprintf(format, args...))
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

func (s *scanner) peek() byte {
	if s.pos < len(s.data) {
		return s.data[s.pos]
	}
	return 0
}

// end checks that nothing but white space follows the value just read.
func (s *scanner) end() error {
	s.skipSpace()
	if s.pos != len(s.data) {
		return s.errorf("unexpected %q after the top-level value", s.data[s.pos])
	}
	return nil
}

// object reads an object and calls fn with each member's key (unescaped)
// and raw value.
func (s *scanner) object(fn func(key, val []byte) error) error {
	s.skipSpace()
	if s.peek() != '{' {
		return s.errorf("want an object, got %s", kindAt(s.data, s.pos))
	}
	s.pos++
	s.skipSpace()
	if s.peek() == '}' {
		s.pos++
		return nil
	}
	for {
		s.skipSpace()
		if s.peek() != '"' {
			return s.errorf("want a member name")
		}
		start := s.pos
		if err := s.str(); err != nil {
			return err
		}
		key, err := unquote(s.data[start:s.pos])
		if err != nil {
			return s.errorf("%v", err)
		}
		s.skipSpace()
		if s.peek() != ':' {
			return s.errorf("want ':' after member name")
		}
		s.pos++
		s.skipSpace()
		vstart := s.pos
		if err := s.value(); err != nil {
			return err
		}
		if err := fn(key, s.data[vstart:s.pos]); err != nil {
			return err
		}
		s.skipSpace()
		switch s.peek() {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return nil
		default:
			return s.errorf("want ',' or '}' in object")
		}
	}
}

// array reads an array and calls fn with each raw element and its index.
func (s *scanner) array(fn func(i int, val []byte) error) error {
	s.skipSpace()
	if s.peek() != '[' {
		return s.errorf("want an array, got %s", kindAt(s.data, s.pos))
	}
	s.pos++
	s.skipSpace()
	if s.peek() == ']' {
		s.pos++
		return nil
	}
	for i := 0; ; i++ {
		s.skipSpace()
		start := s.pos
		if err := s.value(); err != nil {
			return err
		}
		if err := fn(i, s.data[start:s.pos]); err != nil {
			return err
		}
		s.skipSpace()
		switch s.peek() {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return nil
		default:
			return s.errorf("want ',' or ']' in array")
		}
	}
}

// value skips over one value, checking its syntax.
func (s *scanner) value() error {
	switch c := s.peek(); {
	case c == '"':
		return s.str()
	case c == '{' || c == '[':
		s.depth++
		if s.depth > maxDepth {
			return s.errorf("nested deeper than %d levels", maxDepth)
		}
		var err error
		if c == '{' {
			err = s.object(func(_, _ []byte) error { return nil })
		} else {
			err = s.array(func(int, []byte) error { return nil })
		}
		s.depth--
		return err
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	case s.pos >= len(s.data):
		return s.errorf("unexpected end of input")
	default:
		return s.errorf("unexpected %q", c)
	}
}

func (s *scanner) literal(lit string) error {
	if !bytes.HasPrefix(s.data[s.pos:], []byte(lit)) {
		return s.errorf("invalid literal")
	}
	s.pos += len(lit)
	return nil
}

// str skips a string, validating its escapes. The closing quote is found
// with bytes.IndexByte (vectorised): the stream strings are long and plain.
// Control characters inside a skipped string are not rejected; every value
// the decoder uses is checked by its own parser (streams accept only
// numbers and separators, text goes through checkText).
func (s *scanner) str() error {
	d := s.data
	i := s.pos + 1
	for {
		q := bytes.IndexByte(d[i:], '"')
		if q < 0 {
			s.pos = len(d)
			return s.errorf("unterminated string")
		}
		b := bytes.IndexByte(d[i:i+q], '\\')
		if b < 0 {
			s.pos = i + q + 1
			return nil
		}
		i += b // at a backslash
		if i+1 >= len(d) {
			s.pos = i
			return s.errorf("unterminated string")
		}
		switch d[i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i += 2
		case 'u':
			if i+6 > len(d) || !isHex(d[i+2]) || !isHex(d[i+3]) || !isHex(d[i+4]) || !isHex(d[i+5]) {
				s.pos = i
				return s.errorf("invalid \\u escape")
			}
			i += 6
		default:
			s.pos = i
			return s.errorf("invalid escape")
		}
	}
}

// checkText rejects control characters, which JSON does not allow raw in
// strings, in a string the decoder keeps.
func checkText(b []byte) error {
	for _, c := range b {
		if c < 0x20 {
			return errors.New("control character in string")
		}
	}
	return nil
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// number skips a number following the JSON grammar.
func (s *scanner) number() error {
	d, i := s.data, s.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		return s.errorf("invalid number")
	}
	if i < len(d) && d[i] == '.' {
		i++
		j := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		if i == j {
			return s.errorf("invalid number")
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		j := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		if i == j {
			return s.errorf("invalid number")
		}
	}
	s.pos = i
	return nil
}

// unquote returns the contents of a raw JSON string token; without escapes it
// is a sub-slice of the input (no copy).
func unquote(tok []byte) ([]byte, error) {
	inner := tok[1 : len(tok)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return inner, nil
	}
	var str string
	if err := json.Unmarshal(tok, &str); err != nil {
		return nil, err
	}
	return []byte(str), nil
}

// kindAt names the kind of JSON value starting at data[pos], for errors.
func kindAt(data []byte, pos int) string {
	if pos >= len(data) {
		return "end of input"
	}
	return kindOf(data[pos:])
}

func kindOf(val []byte) string {
	if len(val) == 0 {
		return "nothing"
	}
	switch c := val[0]; {
	case c == '"':
		return "a string"
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	case c == '-' || c >= '0' && c <= '9':
		return "a number"
	}
	return fmt.Sprintf("%q", val[0])
}
