package contract

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/engineapi"
	"github.com/fractal-grid/fractal/engines/diffusers/diffuserstest"
	"github.com/fractal-grid/fractal/enginetest"
	"github.com/fractal-grid/fractal/remote"
)

// TestDiffusersEngine runs the contract suite against the Python engine's
// tiny Wan profile. A missing Python environment fails the test: run
// scripts/python-env, or set FRACTAL_PYTHON.
func TestDiffusersEngine(t *testing.T) {
	url := diffuserstest.MustStartEngine(t)
	start := time.Now()
	enginetest.Run(t, func(t *testing.T) fractal.Engine {
		e, err := remote.New(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Open(t.Context()); err != nil {
			t.Fatal(err)
		}
		return &diffuserstest.Queued{Engine: e}
	})
	t.Logf("contract suite against the Python engine took %s", time.Since(start).Round(time.Millisecond))
}

// TestProfileReply checks the engine's profile reply: protocol version 2,
// rules the Go side accepts (the client refuses anything else at Open), and
// the optional execution class.
func TestProfileReply(t *testing.T) {
	url := diffuserstest.MustStartEngine(t)
	resp, err := http.Get(url + "/v1/profile")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var reply struct {
		engineapi.ProfileReply
		ExecutionClass map[string]any `json:"execution_class"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil {
		t.Fatal(err)
	}
	p := reply.Profile
	if got, want := p.ID, "wan2.1-t2v-1.3b-tiny"; got != want {
		t.Errorf("profile id %q, want %q", got, want)
	}
	if got, want := reply.Protocol, engineapi.Protocol; got != want {
		t.Errorf("protocol %q, want %q", got, want)
	}
	if p.Limits.Zero() || p.Cost.Zero() {
		t.Fatalf("profile without limits or cost: %+v", p)
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("profile %s: %v", p, err)
	}
	if err := p.Check(p.DefaultSpec("a red ball", 1)); err != nil {
		t.Errorf("default spec: %v", err)
	}
	e, err := remote.New(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := e.Profile(); !reflect.DeepEqual(got, p) {
		t.Errorf("client profile %+v, want the reply's %+v", got, p)
	}
	for _, k := range []string{"device", "torch", "diffusers"} {
		if reply.ExecutionClass[k] == nil {
			t.Errorf("execution_class lacks %q: %v", k, reply.ExecutionClass)
		}
	}
}

// TestEngineRefusesOutsideLimits checks the engine's answers to specs its
// profile does not serve: a *fractal.FieldError naming the field, worded as
// the Go side words it (the allowed values), and the same as Profile.Check.
func TestEngineRefusesOutsideLimits(t *testing.T) {
	e := &diffuserstest.Queued{Engine: diffuserstest.MustOpen(t, diffuserstest.MustStartEngine(t))}
	p := e.Profile()
	base := p.DefaultSpec("a red ball bouncing over the ocean at night", 3)
	tests := []struct {
		name string
		mod  func(*fractal.Spec)
	}{
		{"Width", func(s *fractal.Spec) { s.Width = 100 }},
		{"Height", func(s *fractal.Spec) { s.Height = 272 }},
		{"Frames", func(s *fractal.Spec) { s.Frames = 65 }},
		{"Steps", func(s *fractal.Spec) { s.Steps = 51 }},
		{"FPS", func(s *fractal.Spec) { s.FPS = 61 }},
		{"Prompt", func(s *fractal.Spec) { s.Prompt = strings.Repeat("é", 501) }},
		{"OtherProfile", func(s *fractal.Spec) { s.Profile = "ltx-video-2b-distilled-tiny@1" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := base
			tc.mod(&spec)
			want := p.Check(spec)
			if want == nil {
				t.Fatalf("Profile.Check(%+v) = nil, want a refusal", spec)
			}
			_, err := e.Generate(t.Context(), spec, fractal.GenerateOptions{})
			var got *fractal.FieldError
			if !errors.As(err, &got) {
				t.Fatalf("Generate: got %v, want a *fractal.FieldError", err)
			}
			if got.Error() != want.Error() {
				t.Errorf("Generate: got %q, want %q", got, want)
			}
		})
	}
	named := base
	named.Profile = p.String()
	res, err := e.Generate(t.Context(), named, fractal.GenerateOptions{})
	if err != nil {
		t.Fatalf("Generate of a spec naming the profile: %v", err)
	}
	if res.Spec != named {
		t.Errorf("result spec %+v, want %+v", res.Spec, named)
	}
}

// TestProfileRules checks the rules of every profile the package defines,
// the real models' included (no weights needed): the Go side accepts them,
// each default shape is allowed, and the shapes are the models' own.
func TestProfileRules(t *testing.T) {
	cmd := diffuserstest.CLI(t, "profiles")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("fractal-diffusers profiles: %v", err)
	}
	var profiles []fractal.Profile
	if err := json.Unmarshal(out, &profiles); err != nil {
		t.Fatal(err)
	}
	byID := map[string]fractal.Profile{}
	for _, p := range profiles {
		p.Digest = fractal.Digest{1} // only an engine with weights has one
		if err := p.Validate(); err != nil {
			t.Errorf("profile %s: %v", p, err)
		}
		if err := p.Check(p.DefaultSpec("a red ball", 1)); err != nil {
			t.Errorf("profile %s default spec: %v", p, err)
		}
		if c := p.CostOf(p.DefaultSpec("a red ball", 1)); !(c > 0) {
			t.Errorf("profile %s default spec costs %g, want > 0", p, c)
		}
		byID[p.ID] = p
	}
	shapes := []struct {
		id                   string
		frames, width, fps   []int // allowed
		notFrames, notWidths []int
	}{
		{"wan2.1-t2v-1.3b", []int{5, 33, 81}, []int{480, 832, 1280}, []int{16}, []int{4, 80, 85}, []int{840, 1296}},
		{"ltx-video-2b-distilled", []int{9, 121, 257}, []int{512, 768, 1216}, []int{24, 25, 30}, []int{8, 120, 265}, []int{700, 1312}},
	}
	for _, tc := range shapes {
		p, ok := byID[tc.id]
		if !ok {
			t.Errorf("no profile %s among %d", tc.id, len(profiles))
			continue
		}
		l := p.Limits
		for _, c := range []struct {
			r       fractal.Range
			in, out []int
		}{{l.Frames, tc.frames, tc.notFrames}, {l.Width, tc.width, tc.notWidths}, {l.Height, tc.width, tc.notWidths}, {l.FPS, tc.fps, nil}} {
			for _, v := range c.in {
				if !c.r.Contains(v) {
					t.Errorf("%s: %s does not allow %d", tc.id, c.r, v)
				}
			}
			for _, v := range c.out {
				if c.r.Contains(v) {
					t.Errorf("%s: %s allows %d", tc.id, c.r, v)
				}
			}
		}
	}
}
