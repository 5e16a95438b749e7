package verify_test

import (
	"testing"

	"github.com/fractal-grid/fractal/internal/testenv"
)

// TestDependsOnlyOnTheDomain keeps verify on the domain nouns: it may import
// the root package (with what the root itself imports) and the standard
// library, and nothing else — above all not the miner protocol, whose types
// minerapi converts to claims.
func TestDependsOnlyOnTheDomain(t *testing.T) {
	if extra := testenv.DepsBeyond(t, "verify", ""); len(extra) > 0 {
		t.Errorf("verify depends on %v, want only %s and the standard library", extra, testenv.Module)
	}
}
