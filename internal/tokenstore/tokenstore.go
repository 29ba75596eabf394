// Package tokenstore keeps bandsync's secrets (OAuth tokens, Zepp app and
// login tokens): in the system keyring when one answers quickly, otherwise in
// files under the data dir written atomically with mode 0600.
//
// Values are opaque bytes (callers store JSON). Names are short identifiers
// such as "strava" or "zepp". Nothing here ever logs a value.
package tokenstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/bandsync/bandsync/internal/atomicfile"
)

// ErrNotFound is returned by Get when nothing is stored under the name.
var ErrNotFound = errors.New("no token stored")

// Store keeps named secrets.
type Store interface {
	// Get returns the value stored under name, or ErrNotFound.
	Get(ctx context.Context, name string) ([]byte, error)
	// Set stores value under name, replacing any earlier value. When Set
	// returns nil the value is durable (a crash right after keeps it).
	Set(ctx context.Context, name string, value []byte) error
	// Delete removes name; deleting a missing name is not an error.
	Delete(ctx context.Context, name string) error
}

// Kind selects where secrets go.
type Kind string

// Kinds. Auto tries the keyring and falls back to files.
const (
	Auto    Kind = "auto"
	Keyring Kind = "keyring"
	File    Kind = "file"
)

var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

func checkName(name string) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("token name %q: use lower-case letters, digits, '.', '_' or '-'", name)
	}
	return nil
}

// Open returns the store of the given kind for a data dir. With Auto, a
// keyring that does not answer within a few seconds (servers, CI, containers)
// is given up for the rest of the process and files are used.
func Open(kind Kind, dataDir string) (Store, error) {
	files := &FileStore{Dir: filepath.Join(dataDir, "tokens")}
	switch kind {
	case File:
		return files, nil
	case Keyring:
		return &keyringStore{timeout: 3 * time.Second}, nil
	case Auto, "":
		return &autoStore{ring: &keyringStore{timeout: 3 * time.Second}, files: files}, nil
	}
	return nil, fmt.Errorf("token store %q: use auto, keyring or file", kind)
}

// FileStore keeps each secret in Dir/<name>.json with mode 0600.
type FileStore struct{ Dir string }

var _ Store = (*FileStore)(nil)

// Get implements Store.
func (s *FileStore) Get(_ context.Context, name string) ([]byte, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(s.path(name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read token file: %w", err)
	}
	return b, nil
}

// Set implements Store: it writes a temporary file with mode 0600, syncs it
// and renames it over the old one.
func (s *FileStore) Set(_ context.Context, name string, value []byte) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return fmt.Errorf("create token dir: %w", err)
	}
	return atomicfile.WriteBytes(s.path(name), value, 0o600)
}

// Delete implements Store.
func (s *FileStore) Delete(_ context.Context, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := os.Remove(s.path(name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete token file: %w", err)
	}
	return nil
}

func (s *FileStore) path(name string) string { return filepath.Join(s.Dir, name+".json") }

const keyringService = "bandsync"

type keyringStore struct{ timeout time.Duration }

func (k *keyringStore) do(ctx context.Context, fn func() error) error {
	ctx, cancel := context.WithTimeout(ctx, k.timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("system keyring did not answer within %s", k.timeout)
	}
}

func (k *keyringStore) Get(ctx context.Context, name string) ([]byte, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	var v string
	err := k.do(ctx, func() (err error) { v, err = keyring.Get(keyringService, name); return err })
	if errors.Is(err, keyring.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("system keyring: %w", err)
	}
	return []byte(v), nil
}

func (k *keyringStore) Set(ctx context.Context, name string, value []byte) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := k.do(ctx, func() error { return keyring.Set(keyringService, name, string(value)) }); err != nil {
		return fmt.Errorf("system keyring: %w", err)
	}
	return nil
}

func (k *keyringStore) Delete(ctx context.Context, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	err := k.do(ctx, func() error { return keyring.Delete(keyringService, name) })
	if err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return fmt.Errorf("system keyring: %w", err)
	}
	return nil
}

// autoStore prefers the keyring and falls back to files for good once the
// keyring fails, so one process never splits secrets between the two.
type autoStore struct {
	mu     sync.Mutex
	ring   *keyringStore
	files  *FileStore
	noRing bool
}

func (a *autoStore) pick(ctx context.Context) Store {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.noRing {
		return a.files
	}
	// A file written earlier (keyring unavailable then) stays authoritative.
	if entries, err := os.ReadDir(a.files.Dir); err == nil && len(entries) > 0 {
		a.noRing = true
		return a.files
	}
	if _, err := a.ring.Get(ctx, "probe"); err != nil && !errors.Is(err, ErrNotFound) {
		a.noRing = true
		return a.files
	}
	return a.ring
}

func (a *autoStore) Get(ctx context.Context, name string) ([]byte, error) {
	return a.pick(ctx).Get(ctx, name)
}

func (a *autoStore) Set(ctx context.Context, name string, value []byte) error {
	return a.pick(ctx).Set(ctx, name, value)
}

func (a *autoStore) Delete(ctx context.Context, name string) error {
	return a.pick(ctx).Delete(ctx, name)
}
