package cli

import "runtime/debug"

// tuneSyncGC lets the garbage collector of a `bandsync sync` process use
// the memory it has to spare: a sync allocates about half a megabyte per
// workout (the samples, the bodies sent and received) over a live heap of
// 5–8 MB, so with Go's default the collector runs every dozen or so
// workouts. Three times the live heap, held under a soft limit of 32 MiB of
// Go memory, collects less often with the same peak resident set
// (58–59 MB for 10 000 workouts). Only sync is tuned: the demo's and the
// dashboard's processes also hold emulators or pages whose live heap alone
// can pass the limit, and the collector would then run without pause.
// GOGC and GOMEMLIMIT, when set, win.
func tuneSyncGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(32 << 20)
	}
}
