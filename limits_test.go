package fractal_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/fractal-grid/fractal"
)

func TestRange(t *testing.T) {
	for _, tc := range []struct {
		r      fractal.Range
		in     []int
		out    []int
		words  string
		larges int
	}{
		{fractal.Range{Min: 1, Max: 100}, []int{1, 50, 100}, []int{0, 101}, "between 1 and 100", 100},
		{fractal.Range{Min: 5, Max: 81, Step: 4}, []int{5, 9, 81}, []int{1, 4, 6, 80, 85}, "one of 5, 9, 13, … up to 81 (every 4 from 5)", 81},
		{fractal.Range{Min: 256, Max: 1290, Step: 16}, []int{256, 832, 1280}, []int{240, 260, 1296}, "a multiple of 16 between 256 and 1280", 1280},
		{fractal.Range{Min: 9, Max: 25, Step: 8}, []int{9, 17, 25}, []int{8, 10, 33}, "one of 9, 17, 25", 25},
		{fractal.Range{Values: []int{480, 832}}, []int{480, 832}, []int{481, 640}, "one of 480, 832", 832},
	} {
		for _, v := range tc.in {
			if !tc.r.Contains(v) {
				t.Errorf("%+v does not contain %d", tc.r, v)
			}
		}
		for _, v := range tc.out {
			if tc.r.Contains(v) {
				t.Errorf("%+v contains %d", tc.r, v)
			}
		}
		if got := tc.r.String(); got != tc.words {
			t.Errorf("%+v says %q, want %q", tc.r, got, tc.words)
		}
		if got := tc.r.Largest(); got != tc.larges {
			t.Errorf("%+v largest %d, want %d", tc.r, got, tc.larges)
		}
	}
}

// wan is a profile with Wan 2.1's shapes: frames 4k+1 up to 81, sides in multiples of 16.
func wan() fractal.Profile {
	return fractal.Profile{
		ID: "wan2.1-t2v-1.3b", Version: "1", Determinism: fractal.Tolerant, Tolerance: 0.02, FrameTolerance: 6,
		Limits: fractal.Limits{
			Frames: fractal.Range{Min: 5, Max: 81, Step: 4}, Width: fractal.Range{Min: 256, Max: 1280, Step: 16},
			Height: fractal.Range{Min: 256, Max: 1280, Step: 16}, FPS: fractal.Range{Min: 16, Max: 16},
			Steps: fractal.Range{Min: 1, Max: 50}, PromptBytes: 1000,
			Default: fractal.Shape{Frames: 81, Width: 832, Height: 480, FPS: 16, Steps: 50},
		},
		Cost: fractal.CostModel{Fixed: 1, PerStep: 0.2, Attention: 0.01, Decode: 2},
	}
}

func TestProfileRulesRoundTrip(t *testing.T) {
	p := wan()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var q fractal.Profile
	if err := json.Unmarshal(b, &q); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, q) || !reflect.DeepEqual(q.WithDefaults(), p) {
		t.Errorf("round trip: got %+v, want %+v", q, p)
	}
	s := p.DefaultSpec("a kite over a beach", 3)
	if s.Profile != "wan2.1-t2v-1.3b@1" || p.Check(s) != nil {
		t.Errorf("default spec %+v: %v", s, p.Check(s))
	}
	s.Frames = 80
	if err := p.Check(s); err == nil || !strings.Contains(err.Error(), "every 4 from 5") {
		t.Errorf("80 frames: got %v, want the allowed frames named", err)
	}
}

func TestProfileRulesRefused(t *testing.T) {
	for name, edit := range map[string]func(*fractal.Profile){
		"frames over the cap":      func(p *fractal.Profile) { p.Limits.Frames.Max = fractal.MaxFrames + 4 },
		"side off the 8 grid":      func(p *fractal.Profile) { p.Limits.Width = fractal.Range{Min: 260, Max: 1280, Step: 4} },
		"empty range":              func(p *fractal.Profile) { p.Limits.Steps = fractal.Range{Min: 10, Max: 5} },
		"default not allowed":      func(p *fractal.Profile) { p.Limits.Default.Frames = 80 },
		"no prompt":                func(p *fractal.Profile) { p.Limits.PromptBytes = 0 },
		"no work per step":         func(p *fractal.Profile) { p.Cost = fractal.CostModel{Decode: 1} },
		"negative cost":            func(p *fractal.Profile) { p.Cost.Fixed = -1 },
		"frame tolerance on exact": func(p *fractal.Profile) { p.Determinism, p.Tolerance = fractal.Exact, 0 },
		"at in id":                 func(p *fractal.Profile) { p.ID = "wan@2" },
	} {
		p := wan()
		edit(&p)
		if err := p.Validate(); !errors.Is(err, fractal.ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", name, err)
		}
	}
}

func TestWithDefaultsFillsVersion1(t *testing.T) {
	p := fractal.Profile{ID: "x", Version: "1", Determinism: fractal.Tolerant, Tolerance: 0.01}.WithDefaults()
	if !reflect.DeepEqual(p.Limits, fractal.LegacyLimits()) || p.Cost != fractal.LegacyCost() || p.FrameTolerance != fractal.LegacyFrameTolerance {
		t.Errorf("got %+v", p)
	}
	if err := p.Validate(); err != nil {
		t.Error(err)
	}
}
