package tokenstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestFileStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(File, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "strava"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("empty store: %v", err)
	}
	if err := s.Set(ctx, "strava", []byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "strava", []byte(`{"a":2}`)); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "strava")
	if err != nil || string(got) != `{"a":2}` {
		t.Fatalf("got %q %v", got, err)
	}
	fi, err := os.Stat(filepath.Join(dir, "tokens", "strava.json"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode %v, want 0600", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "tokens"))
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
	if err := s.Delete(ctx, "strava"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "strava"); err != nil {
		t.Fatal("deleting twice must not fail:", err)
	}
	if _, err := s.Get(ctx, "strava"); !errors.Is(err, ErrNotFound) {
		t.Fatal("deleted value still there")
	}
}

func TestBadNames(t *testing.T) {
	s := &FileStore{Dir: t.TempDir()}
	for _, n := range []string{"", "../x", "A", "a/b"} {
		if err := s.Set(context.Background(), n, []byte("x")); err == nil {
			t.Errorf("name %q accepted", n)
		}
	}
}

func TestUnknownKind(t *testing.T) {
	if _, err := Open("vault", t.TempDir()); err == nil {
		t.Fatal("unknown kind accepted")
	}
}
