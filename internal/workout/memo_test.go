package workout

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
)

func TestEncodeOnce(t *testing.T) {
	calls := 0
	enc := func(tag string) func(io.Writer) error {
		return func(out io.Writer) error {
			calls++
			_, err := io.WriteString(out, tag)
			return err
		}
	}
	write := func(ctx context.Context, w *Workout, key string) string {
		t.Helper()
		var b bytes.Buffer
		if err := EncodeOnce(ctx, &b, w, key, enc(key)); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	a, b := &Workout{}, &Workout{}

	// Without a memo every call encodes.
	write(context.Background(), a, "fit")
	write(context.Background(), a, "fit")
	if calls != 2 {
		t.Fatalf("without a memo: %d encodings, want 2", calls)
	}

	calls = 0
	ctx := WithMemo(context.Background())
	if got := write(ctx, a, "fit"); got != "fit" || calls != 1 {
		t.Fatalf("first call wrote %q after %d encodings", got, calls)
	}
	if got := write(ctx, a, "fit"); got != "fit" || calls != 1 {
		t.Fatalf("second call wrote %q after %d encodings, want the kept bytes", got, calls)
	}
	if got := write(ctx, a, "fit-legacy"); got != "fit-legacy" || calls != 2 {
		t.Fatalf("another key wrote %q after %d encodings", got, calls)
	}
	if got := write(ctx, b, "fit"); got != "fit" || calls != 3 {
		t.Fatalf("another workout wrote %q after %d encodings", got, calls)
	}

	// A failed encoding is not kept.
	boom := errors.New("boom")
	c := &Workout{}
	if err := EncodeOnce(ctx, io.Discard, c, "fit", func(io.Writer) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if got := write(ctx, c, "fit"); got != "fit" {
		t.Fatalf("after a failure wrote %q", got)
	}
}
