package workout

import (
	"bytes"
	"context"
	"io"
	"sync"
)

// memoKey is the context key of a memo.
type memoKey struct{}

// memo holds the encodings of one workout by what made them.
type memo struct {
	mu  sync.Mutex
	w   *Workout
	enc map[string][]byte
}

// WithMemo returns a context under which EncodeOnce encodes a workout
// once for each way of encoding it, and writes the same bytes after: the
// syncer sends one workout to several sinks, and Strava's upload and the
// archive both write it as FIT. The workout must not change while the
// context is in use.
func WithMemo(ctx context.Context) context.Context {
	return context.WithValue(ctx, memoKey{}, &memo{})
}

// EncodeOnce writes w to out as encode writes it. key names the encoding
// (format and options): under a context from WithMemo, the first call for
// w and key encodes and keeps the bytes, later ones write them again;
// otherwise encode writes to out directly.
func EncodeOnce(ctx context.Context, out io.Writer, w *Workout, key string, encode func(io.Writer) error) error {
	m, _ := ctx.Value(memoKey{}).(*memo)
	if m == nil {
		return encode(out)
	}
	m.mu.Lock()
	if m.w != w {
		m.w, m.enc = w, map[string][]byte{}
	}
	data, ok := m.enc[key]
	if !ok {
		var buf bytes.Buffer
		if err := encode(&buf); err != nil {
			m.mu.Unlock()
			return err
		}
		data = buf.Bytes()
		m.enc[key] = data
	}
	m.mu.Unlock()
	_, err := out.Write(data)
	return err
}
