package cli

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkDemo runs `bandsync demo` — both emulators in this process with
// their delays at zero, the real login, OAuth, engine, store and archive —
// over BANDSYNC_BENCH_WORKOUTS
// workouts (default 1000; the README's figure uses 10000) and reports the
// time per workout, Strava requests per upload and the process's peak RSS.
//
//	BANDSYNC_BENCH_WORKOUTS=10000 go test -run '^$' -bench Demo -benchtime 1x ./internal/cli
func BenchmarkDemo(b *testing.B) {
	n := benchWorkouts(b)
	for b.Loop() {
		var out bytes.Buffer
		f := &Factory{IO: IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: io.Discard}, Getenv: func(string) string { return "" }, Quiet: true}
		f.dataDir = b.TempDir()
		if err := demoRun(context.Background(), f, &DemoOptions{IO: f.IO, Quiet: true, Workouts: n, Seed: 1, ProcessingDelay: time.Nanosecond}); err != nil {
			b.Fatalf("demo: %v\n%s", err, out.String())
		}
		if m := regexp.MustCompile(`= ([0-9.]+) per upload \([0-9]+ of them edits: .*; ([0-9.]+) without those\)`).FindStringSubmatch(out.String()); m != nil {
			all, _ := strconv.ParseFloat(m[1], 64)
			plain, _ := strconv.ParseFloat(m[2], 64)
			b.ReportMetric(all, "req/upload")
			b.ReportMetric(plain, "req/upload-no-mute")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N*n), "ms/workout")
	b.ReportMetric(peakRSSMB(), "peak-RSS-MB")
}

// benchWorkouts is the history length of the sync benchmarks:
// BANDSYNC_BENCH_WORKOUTS, default 1000.
func benchWorkouts(b *testing.B) int {
	v := os.Getenv("BANDSYNC_BENCH_WORKOUTS")
	if v == "" {
		return 1000
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("BANDSYNC_BENCH_WORKOUTS=%q: want a positive number", v)
	}
	return n
}

// peakRSSMB reads the process's peak resident set (VmHWM) on Linux; 0
// elsewhere.
func peakRSSMB() float64 {
	return float64(vmHWM("self")) / 1024
}

// vmHWM is the VmHWM of /proc/<pid>/status, in KiB: the peak resident set
// of process pid ("self": this one) on Linux; 0 elsewhere.
func vmHWM(pid string) int64 {
	f, err := os.Open("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb
		}
	}
	return 0
}
