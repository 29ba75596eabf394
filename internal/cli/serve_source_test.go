package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bandsync/bandsync/internal/progress"
	"github.com/bandsync/bandsync/internal/store"
)

// The dashboard's "sync now" reads the source the last sync read: a
// person who syncs a folder of FIT files gets that folder synced, not the
// Zepp cloud they never logged in to.
func TestSyncNowReadsTheLastSource(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte("token_store = \"file\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"BANDSYNC_CONFIG": cfg}
	t.Setenv("XDG_DATA_HOME", filepath.Join(dir, "xdg")) // should anything miss the data dir
	var errOut bytes.Buffer
	f := &Factory{IO: IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &errOut},
		Getenv: func(k string) string { return env[k] }}

	st, err := store.Open(ctx, filepath.Join(dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	if got := rememberedSource(ctx, st); got != (lastSource{From: "zepp"}) {
		t.Errorf("before any sync: %+v, want the Zepp cloud", got)
	}
	st.Close()

	folder := filepath.Join(dir, "fit")
	if err := os.MkdirAll(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	fixtures, err := filepath.Abs(filepath.Join("..", "source", "files", "testdata", "fit"))
	if err != nil {
		t.Fatal(err)
	}
	fixture := func(name string) {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(fixtures, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(folder, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fixture("garmin-fenix-5-run.fit")
	// A relative --path is remembered as an absolute one.
	t.Chdir(dir)
	if code := Run(ctx, f, []string{"sync", "--data-dir", filepath.Join(dir, "data"), "--from", "files", "--path", "fit", "--quiet"}); code != 0 {
		t.Fatalf("sync: exit %d\n%s", code, errOut.String())
	}

	fixture("garmin-fenix-5-walk.fit")
	st, err = store.Open(ctx, filepath.Join(dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got := rememberedSource(ctx, st); got != (lastSource{From: "files", Path: folder}) {
		t.Errorf("remembered %+v, want files at %s", got, folder)
	}
	if err := f.syncInto(ctx, st, progress.Discard{}); err != nil {
		t.Fatalf("sync now: %v", err)
	}
	rows, _, err := st.Workouts(ctx, store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	done := 0
	for _, r := range rows {
		if r.Workout.Source != "files" {
			t.Errorf("workout %s from %q", r.Workout.SourceID, r.Workout.Source)
		}
		if d, ok := r.Delivery("archive"); ok && d.State == store.Done {
			done++
		}
	}
	if len(rows) != 2 || done != 2 {
		t.Errorf("after sync now: %d workouts, %d archived; want both fixtures archived", len(rows), done)
	}
}
