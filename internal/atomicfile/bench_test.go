package atomicfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkFiles measures what a 40 KB file (a one-hour FIT) costs on the
// disk holding TMPDIR: written the way Write does, synced on its own, or
// in groups of 64 synced together with SyncFiles (the archive's Stage and
// Flush).
func BenchmarkFiles(b *testing.B) {
	data := make([]byte, 40<<10)
	fill := func(w io.Writer) error { _, err := w.Write(data); return err }
	b.Run("write-synced-each", func(b *testing.B) {
		dir := b.TempDir()
		i := 0
		for b.Loop() {
			i++
			if err := Write(filepath.Join(dir, fmt.Sprint(i)), 0o644, fill); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("write-synced-by-64", func(b *testing.B) {
		dir := b.TempDir()
		var temps []string
		flush := func() {
			if err := SyncFiles(dir, temps); err != nil {
				b.Fatal(err)
			}
			for _, t := range temps {
				if err := os.Rename(t, t+".fit"); err != nil {
					b.Fatal(err)
				}
			}
			SyncDir(dir)
			temps = temps[:0]
		}
		i := 0
		for b.Loop() {
			i++
			t, err := Temp(dir, fmt.Sprint(i), 0o644, false, fill)
			if err != nil {
				b.Fatal(err)
			}
			if temps = append(temps, t); len(temps) == 64 {
				flush()
			}
		}
		flush()
	})
}
