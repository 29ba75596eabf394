//go:build !linux

package atomicfile

import "errors"

// syncFS is not available here: SyncFiles syncs each file.
func syncFS(string) error { return errors.ErrUnsupported }
