package framesfile_test

import (
	"strings"
	"testing"

	"github.com/fractal-grid/fractal/internal/testenv"
)

// TestDependsOnlyOnTheDomainAndZstd keeps the codec cheap to import: the
// root package (with what it imports), the standard library and zstd.
func TestDependsOnlyOnTheDomainAndZstd(t *testing.T) {
	const compress = "github.com/klauspost/compress"
	var extra []string
	for _, p := range testenv.DepsBeyond(t, "framesfile", "") {
		if p != compress && !strings.HasPrefix(p, compress+"/") {
			extra = append(extra, p)
		}
	}
	if len(extra) > 0 {
		t.Errorf("framesfile depends on %v, want only %s, zstd and the standard library", extra, testenv.Module)
	}
}
