package main

import (
	"math"
	"os"
	"runtime/debug"
	"testing"
)

// restoreGC puts the process's collector settings back after a test.
func restoreGC(t *testing.T) {
	pct := debug.SetGCPercent(100)
	limit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		debug.SetGCPercent(pct)
		debug.SetMemoryLimit(limit)
	})
}

func TestTuneGCUsesTheMemoryBudget(t *testing.T) {
	restoreGC(t)
	debug.SetGCPercent(100)
	debug.SetMemoryLimit(math.MaxInt64)
	unset(t, "GOGC", "GOMEMLIMIT")
	tuneGC()
	if got := debug.SetGCPercent(100); got != 200 {
		t.Errorf("GC percent %d, want 200", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 32<<20 {
		t.Errorf("memory limit %d, want %d", got, 32<<20)
	}
}

func TestTuneGCLeavesAPersonsSettings(t *testing.T) {
	restoreGC(t)
	debug.SetGCPercent(150) // as the runtime would from GOGC=150
	debug.SetMemoryLimit(1 << 30)
	t.Setenv("GOGC", "150")
	t.Setenv("GOMEMLIMIT", "1GiB")
	tuneGC()
	if got := debug.SetGCPercent(100); got != 150 {
		t.Errorf("GC percent %d, want GOGC's 150", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 1<<30 {
		t.Errorf("memory limit %d, want GOMEMLIMIT's", got)
	}
}

// unset removes environment variables for the test's length.
func unset(t *testing.T, keys ...string) {
	for _, k := range keys {
		t.Setenv(k, "") // restores the old value after the test
		os.Unsetenv(k)
	}
}
