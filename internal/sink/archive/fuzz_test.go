package archive

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bandsync/bandsync/internal/sink"
	"github.com/bandsync/bandsync/internal/sink/sinktest"
)

// FuzzIndex feeds arbitrary index files (outside data: anything may have
// written them) to List: it must not fail or panic, and must still report
// the archived workout.
func FuzzIndex(f *testing.F) {
	f.Add([]byte(`{"version":1,"files":{}}`))
	f.Add([]byte(`{"version":1,"files":{"2022/2022-06-01T0800_run_zepp-1.fit":{"size":-1,"ok":true,"distance_m":1e308}}}`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`null`))
	f.Add([]byte{0})
	dir := f.TempDir()
	a, _ := New(Options{Dir: dir})
	w := sinktest.Workout(sinktest.KindRun, time.Date(2022, 6, 1, 7, 0, 0, 0, time.UTC), "1")
	if _, err := a.Put(f.Context(), w, "zepp-1"); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, index []byte) {
		if err := os.WriteFile(filepath.Join(dir, indexName), index, 0o644); err != nil {
			t.Fatal(err)
		}
		b, _ := New(Options{Dir: dir})
		acts, err := b.List(t.Context(), sink.Window{})
		if err != nil || len(acts) != 1 || acts[0].ExternalID != "zepp-1" {
			t.Fatalf("List = %v, %v", acts, err)
		}
	})
}
