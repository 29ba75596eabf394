package cli

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// startProfiling writes a CPU profile to BANDSYNC_CPUPROFILE and, when the
// returned function is called, a heap profile to BANDSYNC_MEMPROFILE: for
// measuring bandsync on real histories (see the README's performance
// section). Unset, it does nothing.
func startProfiling(getenv func(string) string) func() {
	var stops []func()
	if p := getenv("BANDSYNC_CPUPROFILE"); p != "" {
		if f, err := os.Create(p); err == nil && pprof.StartCPUProfile(f) == nil {
			stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
		}
	}
	if p := getenv("BANDSYNC_MEMPROFILE"); p != "" {
		stops = append(stops, func() {
			f, err := os.Create(p)
			if err != nil {
				fmt.Fprintln(os.Stderr, "memprofile:", err)
				return
			}
			defer f.Close()
			runtime.GC()
			_ = pprof.WriteHeapProfile(f)
		})
	}
	return func() {
		for _, s := range stops {
			s()
		}
	}
}
