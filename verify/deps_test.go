package verify_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependsOnlyOnTheDomain keeps verify on the domain nouns: it may import
// the root package and the standard library, and nothing else — above all
// not the miner protocol, whose types minerapi converts to claims.
func TestDependsOnlyOnTheDomain(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list verify's dependencies: %v", err)
	}
	const root = "github.com/fractal-grid/fractal"
	out, err := exec.Command(gobin, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", root+"/verify").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	var deps []string
	for _, p := range strings.Fields(string(out)) {
		if p != root && p != root+"/verify" {
			deps = append(deps, p)
		}
	}
	if len(deps) > 0 {
		t.Errorf("verify depends on %v, want only %s and the standard library", deps, root)
	}
	if !strings.Contains(string(out), root+"/verify") {
		t.Errorf("go list did not list verify itself: %q", out)
	}
}
