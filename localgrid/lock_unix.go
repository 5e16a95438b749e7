//go:build unix

package localgrid

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/fractal-grid/fractal"
)

// lockData takes an exclusive lock on the data directory, so two grids
// never share one store. The lock dies with the process.
func lockData(dir string) (func() error, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	path := filepath.Join(dir, "grid.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("grid lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("data directory %s is in use by another 'fractal up': %w", dir, fractal.ErrConflict)
		}
		return nil, fmt.Errorf("grid lock %s: %w", path, err)
	}
	return f.Close, nil
}
