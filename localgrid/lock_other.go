//go:build !unix

package localgrid

import (
	"fmt"
	"os"
)

// lockData only creates the data directory where flock is missing.
func lockData(dir string) (func() error, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	return func() error { return nil }, nil
}
