package framesfile_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependsOnlyOnTheDomainAndZstd keeps the codec cheap to import: the
// root package (with what it imports), the standard library and zstd.
func TestDependsOnlyOnTheDomainAndZstd(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list framesfile's dependencies: %v", err)
	}
	const root = "github.com/fractal-grid/fractal"
	list := func(pkg string) []string {
		out, err := exec.Command(gobin, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		return strings.Fields(string(out))
	}
	allowed := map[string]bool{root + "/framesfile": true}
	for _, p := range list(root) {
		allowed[p] = true
	}
	const compress = "github.com/klauspost/compress"
	var extra []string
	for _, p := range list(root + "/framesfile") {
		if !allowed[p] && p != compress && !strings.HasPrefix(p, compress+"/") {
			extra = append(extra, p)
		}
	}
	if len(extra) > 0 {
		t.Errorf("framesfile depends on %v, want only %s, zstd and the standard library", extra, root)
	}
}
