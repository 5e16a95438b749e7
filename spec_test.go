package fractal_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/fractal-grid/fractal"
)

// legacy is a profile with the legacy (reference engine) rules.
var legacy = fractal.Profile{ID: "ref", Version: "1", Determinism: fractal.Exact}.WithDefaults()

func TestProfileCheck(t *testing.T) {
	ok := legacy.DefaultSpec("a red ball bouncing over the ocean at night", 7)
	if err := legacy.Check(ok); err != nil {
		t.Fatalf("default spec: got %v, want nil", err)
	}
	for _, tc := range []struct {
		name  string
		edit  func(*fractal.Spec)
		field string
		want  string
	}{
		{"empty prompt", func(s *fractal.Spec) { s.Prompt = "" }, "prompt", "must not be empty"},
		{"long prompt", func(s *fractal.Spec) { s.Prompt = strings.Repeat("a", 1001) }, "prompt", "at most 1000 bytes"},
		{"invalid utf8", func(s *fractal.Spec) { s.Prompt = "ball \xff" }, "prompt", "valid UTF-8"},
		{"nul", func(s *fractal.Spec) { s.Prompt = "ball\x00" }, "prompt", "control characters"},
		{"newline", func(s *fractal.Spec) { s.Prompt = "ball\nstar" }, "prompt", "control characters"},
		{"tab", func(s *fractal.Spec) { s.Prompt = "ball\tstar" }, "prompt", "control characters"},
		{"other profile", func(s *fractal.Spec) { s.Profile = "ref@2" }, "profile", "serves ref@1"},
		{"zero frames", func(s *fractal.Spec) { s.Frames = 0 }, "frames", "between 1 and 64"},
		{"many frames", func(s *fractal.Spec) { s.Frames = 65 }, "frames", "between 1 and 64"},
		{"narrow", func(s *fractal.Spec) { s.Width = 56 }, "width", "a multiple of 8 between 64 and 1024"},
		{"odd width", func(s *fractal.Spec) { s.Width = 100 }, "width", "multiple of 8"},
		{"tall", func(s *fractal.Spec) { s.Height = 1032 }, "height", "between 64 and 1024"},
		{"fps zero", func(s *fractal.Spec) { s.FPS = 0 }, "fps", "between 1 and 60"},
		{"fps high", func(s *fractal.Spec) { s.FPS = 61 }, "fps", "between 1 and 60"},
		{"no steps", func(s *fractal.Spec) { s.Steps = 0 }, "steps", "between 1 and 100"},
		{"many steps", func(s *fractal.Spec) { s.Steps = 101 }, "steps", "between 1 and 100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := ok
			tc.edit(&s)
			err := legacy.Check(s)
			var fe *fractal.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("got %v, want a *FieldError", err)
			}
			if fe.Field != tc.field {
				t.Errorf("field = %q, want %q", fe.Field, tc.field)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if !errors.Is(err, fractal.ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid")
			}
		})
	}
}

func TestProfileProblemsListsEveryField(t *testing.T) {
	s := fractal.Spec{}
	fields := map[string]bool{}
	for _, err := range legacy.Problems(s) {
		var fe *fractal.FieldError
		if errors.As(err, &fe) {
			fields[fe.Field] = true
		}
	}
	for _, f := range []string{"prompt", "frames", "width", "height", "fps", "steps"} {
		if !fields[f] {
			t.Errorf("zero spec: no problem reported for %s", f)
		}
	}
}

func TestSpecNonASCIIPrompt(t *testing.T) {
	s := legacy.DefaultSpec("一只红色的球 über dem Meer 🌊", 1)
	if err := legacy.Check(s); err != nil {
		t.Fatalf("got %v, want nil", err)
	}
}

func TestSpecHash(t *testing.T) {
	a := fractal.DefaultSpec("ball", 1)
	b := a
	if a.Hash() != b.Hash() {
		t.Fatal("equal specs hash differently")
	}
	seen := map[fractal.Digest]string{a.Hash(): "base"}
	for name, edit := range map[string]func(*fractal.Spec){
		"profile": func(s *fractal.Spec) { s.Profile = "ref@2" },
		"prompt":  func(s *fractal.Spec) { s.Prompt = "balls" },
		"seed":    func(s *fractal.Spec) { s.Seed = 2 },
		"frames":  func(s *fractal.Spec) { s.Frames++ },
		"width":   func(s *fractal.Spec) { s.Width += 8 },
		"height":  func(s *fractal.Spec) { s.Height += 8 },
		"fps":     func(s *fractal.Spec) { s.FPS++ },
		"steps":   func(s *fractal.Spec) { s.Steps++ },
	} {
		s := a
		edit(&s)
		if prev, dup := seen[s.Hash()]; dup {
			t.Errorf("changing %s gives the same hash as %s", name, prev)
		}
		seen[s.Hash()] = name
	}
}

func TestLegacyCost(t *testing.T) {
	s := legacy.DefaultSpec("x", 0)
	if got := legacy.CostOf(s); got != 1 {
		t.Errorf("default cost = %v, want 1", got)
	}
	s.Frames = 32
	if got := legacy.CostOf(s); got != 2 {
		t.Errorf("cost with twice the frames = %v, want 2", got)
	}
	s.Frames, s.Steps = 16, 60 // (60+20)/(20+20): twice the work
	if got := legacy.CostOf(s); got != 2 {
		t.Errorf("cost with 60 steps = %v, want 2", got)
	}
}

// TestStepsShare checks the part of a spec's cost its steps take: half of
// the legacy default video (20 steps of 1/40, a decode of 1/2), a sixth
// with 4 steps, all of it for a model without decode or fixed part, and
// all of a spec of no cost.
func TestStepsShare(t *testing.T) {
	s := legacy.DefaultSpec("x", 0)
	for _, c := range []struct {
		name  string
		model fractal.CostModel
		steps int
		want  float64
	}{
		{"legacy, 20 steps", fractal.LegacyCost(), 20, 0.5},
		{"legacy, 4 steps", fractal.LegacyCost(), 4, 1.0 / 6},
		{"steps alone", fractal.CostModel{PerStep: 0.05}, 4, 1},
		{"a fixed part", fractal.CostModel{Fixed: 1, PerStep: 0.05}, 20, 0.5},
		{"no cost", fractal.CostModel{}, 20, 1},
	} {
		s.Steps = c.steps
		if got := c.model.StepsShare(s); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: share %v, want %v", c.name, got, c.want)
		}
	}
}

func TestSpecCheckBounds(t *testing.T) {
	s := fractal.DefaultSpec("x", 0)
	s.Frames, s.Width, s.Height = 81, 832, 480 // a Wan 2.1 shape: outside the legacy limits, inside the caps
	if err := s.CheckBounds(); err != nil {
		t.Errorf("Wan shape: %v", err)
	}
	if legacy.Check(s) == nil {
		t.Error("the legacy profile accepted 81 frames")
	}
	s.Frames = fractal.MaxFrames + 1
	if err := s.CheckBounds(); !errors.Is(err, fractal.ErrInvalid) {
		t.Errorf("over the frame cap: got %v, want ErrInvalid", err)
	}
}
