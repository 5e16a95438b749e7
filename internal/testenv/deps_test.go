package testenv_test

import (
	"slices"
	"testing"

	"github.com/fractal-grid/fractal/internal/testenv"
)

func TestDeps(t *testing.T) {
	deps := testenv.Deps(t, "minerapi")
	for _, want := range []string{testenv.Module, testenv.Module + "/minerapi", testenv.Module + "/apierr"} {
		if !slices.Contains(deps, want) {
			t.Errorf("Deps(minerapi) = %v, want %s among them", deps, want)
		}
	}
	if slices.Contains(deps, "fmt") {
		t.Errorf("Deps(minerapi) lists the standard library: %v", deps)
	}
	if extra := testenv.DepsBeyond(t, "minerapi", ""); !slices.Contains(extra, testenv.Module+"/apierr") || slices.Contains(extra, testenv.Module+"/minerapi") {
		t.Errorf("DepsBeyond(minerapi, root) = %v, want apierr and not minerapi itself", extra)
	}
	if extra := testenv.DepsBeyond(t, "minerapi", "minerapi"); len(extra) != 0 {
		t.Errorf("DepsBeyond(minerapi, minerapi) = %v, want none", extra)
	}
}
