package atomicfile

import (
	"fmt"
	"os"
)

// SyncFiles makes the content of the files at paths, all on the file
// system holding dir, durable: where the system can (Linux) with one
// flush of that file system, much cheaper than one per file when there
// are many, else by syncing each file.
func SyncFiles(dir string, paths []string) error {
	if len(paths) == 0 {
		return nil
	}
	if len(paths) > 1 && syncFS(dir) == nil {
		return nil
	}
	for _, p := range paths {
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if err != nil {
			return err
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
	}
	return nil
}
