package files

import (
	"bytes"
	stdgzip "compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/bandsync/bandsync/internal/format"
)

// FuzzInflate feeds gzip streams, whole, cut and damaged, to inflate: it
// must never panic, must keep to its size bounds, and must agree with the
// standard library's reader on every stream both read to the end.
func FuzzInflate(f *testing.F) {
	fit, err := os.ReadFile(filepath.Join("testdata", "fit", "garmin-fenix-5-run.fit"))
	if err != nil {
		f.Fatal(err)
	}
	whole := gzipBytes(f, fit)
	f.Add(whole)
	f.Add(whole[:len(whole)/2])
	f.Add(whole[:len(whole)-4]) // no length trailer
	damaged := bytes.Clone(whole)
	damaged[len(damaged)/2] ^= 0xff
	f.Add(damaged)
	f.Add(gzipBytes(f, nil))
	f.Add([]byte("not gzip at all"))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := inflate(data, true)
		if err != nil {
			return
		}
		if len(out) == 0 || len(out) > format.MaxFileSize {
			t.Fatalf("inflate gave %d bytes without an error", len(out))
		}
		zr, err := stdgzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		want, err := io.ReadAll(io.LimitReader(zr, format.MaxFileSize+1))
		if err == nil && !bytes.Equal(out, want) {
			t.Fatalf("inflate gave %d bytes, compress/gzip %d", len(out), len(want))
		}
	})
}
