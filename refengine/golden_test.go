package refengine

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/fractal-grid/fractal"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.json from the current model")

const goldenPath = "testdata/golden.json"

// goldenFile pins the model's output. Specs are small so that the file can
// also be checked under CPU emulation (see TestCrossArch).
type goldenFile struct {
	Profile fractal.Profile `json:"profile"`
	Cases   []goldenCase    `json:"cases"`
}

type goldenCase struct {
	Name           string         `json:"name"`
	Spec           fractal.Spec   `json:"spec"`
	FramesDigest   fractal.Digest `json:"frames_digest"`
	FramesRoot     fractal.Digest `json:"frames_root"`
	TrajectoryRoot fractal.Digest `json:"trajectory_root"`
}

var goldenSpecs = []struct {
	name string
	spec fractal.Spec
}{
	{"ball-ocean-night", fractal.Spec{Prompt: "a red ball bouncing over the ocean at night", Seed: 7, Frames: 3, Width: 64, Height: 64, FPS: 8, Steps: 4}},
	{"stars-purple-sky", fractal.Spec{Prompt: "two yellow stars spinning in a purple sky", Seed: 42, Frames: 2, Width: 96, Height: 64, FPS: 12, Steps: 3}},
	{"non-ascii", fractal.Spec{Prompt: "ein roter Ball über dem Meer 🌊 日本の夜 ñandú", Seed: 1 << 63, Frames: 2, Width: 64, Height: 80, FPS: 1, Steps: 2}},
	{"unknown-words", fractal.Spec{Prompt: "zorblax quivering flummoxed", Seed: 18446744073709551615, Frames: 3, Width: 72, Height: 64, FPS: 30, Steps: 5}},
	{"city-neon-fog", fractal.Spec{Prompt: "three blue cars moving left in a foggy neon city at dusk, a moon rising", Seed: 3, Frames: 4, Width: 128, Height: 96, FPS: 8, Steps: 6}},
}

func TestGolden(t *testing.T) {
	e := New()
	got := goldenFile{Profile: e.Profile()}
	for _, g := range goldenSpecs {
		res := MustGenerate(t, e, g.spec, fractal.GenerateOptions{})
		c := res.Commit()
		got.Cases = append(got.Cases, goldenCase{Name: g.name, Spec: g.spec, FramesDigest: c.FramesDigest, FramesRoot: c.FramesRoot, TrajectoryRoot: c.TrajectoryRoot})
	}
	var want goldenFile
	b, err := os.ReadFile(goldenPath)
	if err == nil {
		err = json.Unmarshal(b, &want)
	}
	if *update {
		if err == nil && want.Profile.Version == Version && !sameOutputs(got, want) {
			t.Fatalf("the model's output changed but Version is still %q: bump refengine.Version, then rerun with -update", Version)
		}
		out, err := json.MarshalIndent(got, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(goldenPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenPath, append(out, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if err != nil {
		t.Fatalf("reading %s (create it with -update): %v", goldenPath, err)
	}
	if got.Profile.Same(want.Profile) != nil {
		t.Errorf("got profile %+v, want %+v (a model change must bump Version; then run -update)", got.Profile, want.Profile)
	}
	if len(got.Cases) != len(want.Cases) {
		t.Fatalf("got %d cases, want %d", len(got.Cases), len(want.Cases))
	}
	for i, g := range got.Cases {
		if g != want.Cases[i] {
			t.Errorf("%s: got\n%+v\nwant\n%+v\n(a model change must bump Version; then run -update)", g.Name, g, want.Cases[i])
		}
	}
}

// sameOutputs reports whether two golden files record the same results.
func sameOutputs(a, b goldenFile) bool {
	if a.Profile.Digest != b.Profile.Digest || len(a.Cases) != len(b.Cases) {
		return false
	}
	for i := range a.Cases {
		if a.Cases[i] != b.Cases[i] {
			return false
		}
	}
	return true
}
