package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// BenchmarkSync measures what bandsync itself costs per workout: the demo's
// emulators run in this process, and `bandsync sync` (built from
// cmd/bandsync) runs as a child process against them, so its
// CPU time and peak RSS are bandsync's alone — listing, fetching and
// decoding, encoding FIT once for Strava and the archive, uploading,
// confirming and the ledger — without the emulators' work of generating
// and reading the files. Delays are zero. BANDSYNC_BENCH_WORKOUTS sets the
// history's length (default 1000; the README's figure uses 10000):
//
//	BANDSYNC_BENCH_WORKOUTS=10000 go test -run '^$' -bench '^BenchmarkSync$' -benchtime 1x ./internal/cli
//
// BANDSYNC_BENCH_CHILD_ENV adds variables to bandsync's environment alone
// (for example "GOGC=400"), leaving the emulators' as they are.
//
// The data dir is in TMPDIR. On an ext4 without a journal (this project's
// machine) a new file skips, one by one, the inodes of its block group
// deleted in the last one to six minutes, so a run right after another
// one's cleanup in the same folder pays up to 0.7 ms more per file: give
// each run a fresh top-level folder (TMPDIR=/bench-N), which ext4 places
// in another block group, or wait six minutes.
func BenchmarkSync(b *testing.B) {
	n := benchWorkouts(b)
	bin := filepath.Join(b.TempDir(), "bandsync")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/bandsync/bandsync/cmd/bandsync").CombinedOutput(); err != nil {
		b.Fatalf("build bandsync: %v\n%s", err, out)
	}
	var cpu, sys, wall time.Duration
	var rss int64
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		f := &Factory{IO: IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}, Getenv: func(string) string { return "" }, Quiet: true}
		f.dataDir = filepath.Join(dir, "data")
		opts := &DemoOptions{IO: f.IO, Quiet: true, Workouts: n, Seed: 1, ProcessingDelay: time.Nanosecond, EmulatorDir: emulatorDir(b)}
		d, err := startDemo(f, opts)
		if err != nil {
			b.Fatal(err)
		}
		df := demoFactory(f, d)
		ctx := context.Background()
		if err := authZeppRun(ctx, df, &AuthZeppOptions{IO: IOStreams{In: strings.NewReader(demoPassword + "\n"), Out: io.Discard, ErrOut: io.Discard},
			Email: demoEmail, PasswordStdin: true}); err != nil {
			b.Fatal(err)
		}
		if err := authStravaRun(ctx, df, &AuthStravaOptions{IO: f.IO, OpenBrowser: clickAuthorize, Timeout: time.Minute}); err != nil {
			b.Fatal(err)
		}
		cfgText, err := toml.Marshal(df.cfg)
		if err != nil {
			b.Fatal(err)
		}
		cfgPath := filepath.Join(dir, "config.toml")
		if err := os.WriteFile(cfgPath, cfgText, 0o600); err != nil {
			b.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd := exec.Command(bin, "sync", "--quiet", "--wait", "--config", cfgPath, "--data-dir", d.dataDir)
		cmd.Stdout, cmd.Stderr = io.Discard, &stderr
		if extra := os.Getenv("BANDSYNC_BENCH_CHILD_ENV"); extra != "" {
			cmd.Env = append(os.Environ(), strings.Fields(extra)...)
		}
		b.StartTimer()
		start := time.Now()
		var hwm int64
		if err = cmd.Start(); err == nil {
			stop := watchPeakRSS(cmd.Process.Pid)
			err = cmd.Wait()
			hwm = stop()
		}
		wall += time.Since(start)
		b.StopTimer()
		d.close()
		if err != nil {
			b.Fatalf("bandsync sync: %v\n%s", err, stderr.String())
		}
		if got := len(d.strava.Activities()); got != n {
			b.Fatalf("%d activities on the Strava emulator, want %d", got, n)
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		cpu += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		sys += time.Duration(ru.Stime.Nano())
		rss = max(rss, hwm)
		b.StartTimer()
	}
	per := float64(b.N * n)
	b.ReportMetric(float64(cpu.Microseconds())/1000/per, "cpu-ms/workout")
	b.ReportMetric(float64(sys.Microseconds())/1000/per, "sys-ms/workout")
	b.ReportMetric(float64(wall.Microseconds())/1000/per, "wall-ms/workout")
	b.ReportMetric(float64(rss)/1024, "peak-RSS-MB")
}

// emulatorDir is where the emulated Strava keeps the uploads: in memory
// (tmpfs) where the system has one, so that the syncfs(2) with which
// bandsync makes its archive durable does not also write the emulator's
// 400 MB of files, which a real Strava keeps elsewhere.
func emulatorDir(b *testing.B) string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		dir, err := os.MkdirTemp("/dev/shm", "bandsync-bench-")
		if err == nil {
			b.Cleanup(func() { os.RemoveAll(dir) })
			return dir
		}
	}
	return b.TempDir()
}

// watchPeakRSS reads the process's VmHWM (its peak resident set) every
// 10 ms; the returned function stops it and gives the last reading, in
// KiB. The child's own rusage cannot tell: Go starts it with CLONE_VM, and
// Linux then counts this process's resident set, at the moment of the
// exec, in the child's ru_maxrss. Only the last milliseconds of the
// child's life are unseen.
func watchPeakRSS(pid int) (stop func() int64) {
	done := make(chan struct{})
	peak := make(chan int64)
	go func() {
		var kib int64
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				peak <- kib
				return
			case <-t.C:
				kib = max(kib, vmHWM(strconv.Itoa(pid)))
			}
		}
	}()
	return func() int64 {
		close(done)
		return <-peak
	}
}
