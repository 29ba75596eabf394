package cli

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

// keepGC puts the process's collector settings back after a test.
func keepGC(t *testing.T) {
	pct := debug.SetGCPercent(100)
	limit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		debug.SetGCPercent(pct)
		debug.SetMemoryLimit(limit)
	})
}

func TestTuneSyncGC(t *testing.T) {
	keepGC(t)
	debug.SetGCPercent(100)
	debug.SetMemoryLimit(math.MaxInt64)
	tuneSyncGC(func(string) string { return "" })
	if got := debug.SetGCPercent(100); got != 200 {
		t.Errorf("GC percent %d, want 200", got)
	}
	if got := debug.SetMemoryLimit(math.MaxInt64); got != 32<<20 {
		t.Errorf("memory limit %d, want %d", got, 32<<20)
	}

	// A person's GOGC and GOMEMLIMIT (applied by the runtime) win.
	env := map[string]string{"GOGC": "150", "GOMEMLIMIT": "1GiB"}
	debug.SetGCPercent(150)
	debug.SetMemoryLimit(1 << 30)
	tuneSyncGC(func(k string) string { return env[k] })
	if got := debug.SetGCPercent(100); got != 150 {
		t.Errorf("GC percent %d, want GOGC's 150", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 1<<30 {
		t.Errorf("memory limit %d, want GOMEMLIMIT's", got)
	}
}

// Only sync tunes the collector: the demo's process also holds both
// emulators, whose live heap alone passes the 32 MiB limit.
func TestOnlySyncTunesTheCollector(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_DATA_HOME", filepath.Join(dir, "xdg"))
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte("token_store = \"file\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"BANDSYNC_CONFIG": cfg}
	tuned := 0
	newFactory := func() *Factory {
		return &Factory{IO: IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}},
			Getenv: func(k string) string { return env[k] }, tuneGC: func(func(string) string) { tuned++ }}
	}
	if code := Run(t.Context(), newFactory(), []string{"demo", "--workouts", "5", "--data-dir", filepath.Join(dir, "demo")}); code != 0 {
		t.Fatalf("demo: exit %d", code)
	}
	if tuned != 0 {
		t.Fatalf("demo tuned the collector %d times", tuned)
	}
	folder := filepath.Join(dir, "empty")
	if err := os.MkdirAll(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	Run(t.Context(), newFactory(), []string{"sync", "--data-dir", filepath.Join(dir, "data"), "--from", "files", "--path", folder, "--to", "archive", "--quiet"})
	if tuned != 1 {
		t.Fatalf("sync tuned the collector %d times, want once", tuned)
	}
}
