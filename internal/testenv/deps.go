package testenv

import (
	"os/exec"
	"strings"
	"testing"
)

// Module is the module's import path.
const Module = "github.com/fractal-grid/fractal"

// Deps lists the packages pkg depends on outside the standard library, pkg
// itself among them, as `go list -deps` finds them; a package of this module
// may be named relative to it ("minerapi"; "" for the root). It fails the
// test when the go command is missing or cannot list pkg.
func Deps(tb testing.TB, pkg string) []string {
	tb.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		tb.Fatalf("the go command is needed to list %s's dependencies: %v", pkg, err)
	}
	path := Module
	if pkg != "" && !strings.Contains(pkg, ".") {
		path += "/" + pkg
	} else if pkg != "" {
		path = pkg
	}
	out, err := exec.Command(gobin, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", path).CombinedOutput()
	if err != nil {
		tb.Fatalf("go list -deps %s: %v\n%s", path, err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 || deps[len(deps)-1] != path {
		tb.Fatalf("go list -deps %s did not end with the package itself: %v", path, deps)
	}
	return deps
}

// DepsBeyond lists what pkg depends on beyond the standard library, the
// packages of base (with what they import) and pkg itself.
func DepsBeyond(tb testing.TB, pkg string, base ...string) []string {
	tb.Helper()
	allowed := map[string]bool{}
	for _, b := range base {
		for _, p := range Deps(tb, b) {
			allowed[p] = true
		}
	}
	deps := Deps(tb, pkg)
	allowed[deps[len(deps)-1]] = true
	var extra []string
	for _, p := range deps {
		if !allowed[p] {
			extra = append(extra, p)
		}
	}
	return extra
}
