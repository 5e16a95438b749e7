// Package testenv finds what tests need outside the module: the shared
// fixtures beside the repository and tools installed by scripts/test. A test
// that needs a missing tool fails; it never skips silently.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// RepoRoot returns the directory holding go.mod.
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("testenv: go.mod not found above the working directory")
		}
		dir = parent
	}
}

// Shared returns a path under the shared fixtures directory (../shared next to
// the repository, or $FRACTAL_SHARED), failing the test when it is missing.
func Shared(tb testing.TB, parts ...string) string {
	tb.Helper()
	base := os.Getenv("FRACTAL_SHARED")
	if base == "" {
		base = filepath.Join(RepoRoot(tb), "..", "shared")
	}
	p := filepath.Join(append([]string{base}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		tb.Fatalf("testenv: shared fixture missing: %v", err)
	}
	return p
}

// Tool returns the path of an executable, failing the test when it is not
// installed (scripts/test installs every tool the tests use).
func Tool(tb testing.TB, name string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		tb.Fatalf("testenv: %s is not installed (scripts/test installs it): %v", name, err)
	}
	return p
}

// Chopsticks returns the chopsticks executable installed by scripts/test
// (.cache/chopsticks, or $FRACTAL_CHOPSTICKS).
func Chopsticks(tb testing.TB) string {
	tb.Helper()
	p := os.Getenv("FRACTAL_CHOPSTICKS")
	if p == "" {
		p = filepath.Join(RepoRoot(tb), ".cache", "chopsticks", "node_modules", ".bin", "chopsticks")
	}
	if _, err := os.Stat(p); err != nil {
		tb.Fatalf("testenv: chopsticks is not installed (run scripts/test): %v", err)
	}
	return p
}
