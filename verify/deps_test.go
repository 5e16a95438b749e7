package verify_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependsOnlyOnTheDomain keeps verify on the domain nouns: it may import
// the root package (with what the root itself imports) and the standard
// library, and nothing else — above all not the miner protocol, whose types
// minerapi converts to claims.
func TestDependsOnlyOnTheDomain(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list verify's dependencies: %v", err)
	}
	const root = "github.com/fractal-grid/fractal"
	list := func(pkg string) string {
		out, err := exec.Command(gobin, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		return string(out)
	}
	domain := map[string]bool{root + "/verify": true}
	for _, p := range strings.Fields(list(root)) {
		domain[p] = true
	}
	out := list(root + "/verify")
	var deps []string
	for _, p := range strings.Fields(out) {
		if !domain[p] {
			deps = append(deps, p)
		}
	}
	if len(deps) > 0 {
		t.Errorf("verify depends on %v, want only %s and the standard library", deps, root)
	}
	if !strings.Contains(out, root+"/verify") {
		t.Errorf("go list did not list verify itself: %q", out)
	}
}
