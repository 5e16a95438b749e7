//go:build unix

package devchain

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/fractal-grid/fractal"
)

// lockDir takes an exclusive lock on dir's lock file, so two devchains never
// write one snapshot. The lock dies with the process.
func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, "devchain.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("devchain lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("devchain data directory %s is in use by another devchain: %w", dir, fractal.ErrConflict)
		}
		return nil, fmt.Errorf("devchain lock %s: %w", path, err)
	}
	return f, nil
}
