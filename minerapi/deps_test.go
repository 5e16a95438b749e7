package minerapi_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestNoEncoders keeps the miner protocol's client light: reading a frames
// file needs package framesfile, never the encoders of package video or the
// ffmpeg subprocess behind them.
func TestNoEncoders(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list minerapi's dependencies: %v", err)
	}
	const root = "github.com/fractal-grid/fractal"
	out, err := exec.Command(gobin, "list", "-deps", "-f", "{{.ImportPath}}", root+"/minerapi").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, root+"/minerapi") || !slices.Contains(deps, root+"/framesfile") {
		t.Fatalf("go list -deps minerapi gave %v, want minerapi and framesfile among them", deps)
	}
	for _, banned := range []string{root + "/video", root + "/ffmpeg", root + "/gifvideo"} {
		if slices.Contains(deps, banned) {
			t.Errorf("minerapi depends on %s, want the frames file through framesfile alone", banned)
		}
	}
}
