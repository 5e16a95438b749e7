package fractal

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestDeviation(t *testing.T) {
	st := func(v ...float32) State { return State{Shape: []int{len(v)}, Data: v} }
	prev := st(0, 0, 0, 0)
	want := st(3, 4, 0, 0) // the verifier's step moved by 5
	for _, tc := range []struct {
		name       string
		got        State
		err, cos   float64
		wantErrMsg string
	}{
		{"the same step", st(3, 4, 0, 0), 0, 1, ""},
		{"off by a tenth of the step, at right angles", st(3, 4, 0, 0.5), 0.1, 5 / math.Sqrt(25.25), ""},
		{"twice the step (a skipped one)", st(6, 8, 0, 0), 1, 1, ""},
		{"no step at all", st(0, 0, 0, 0), 1, 0, ""},
		{"another shape", st(3, 4, 0), 0, 0, "shapes"},
		{"not finite", st(3, float32(math.NaN()), 0, 0), 0, 0, "not finite"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Deviation(prev, tc.got, want)
			if tc.wantErrMsg != "" {
				if !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), tc.wantErrMsg) {
					t.Fatalf("got %v, want a mismatch about %s", err, tc.wantErrMsg)
				}
				return
			}
			if err != nil || math.Abs(d.Error-tc.err) > 1e-12 || math.Abs(d.Cosine-tc.cos) > 1e-12 {
				t.Errorf("got %+v, %v, want error %g cosine %g", d, err, tc.err, tc.cos)
			}
		})
	}
	if d, _ := Deviation(prev, prev, prev); d.Error != 0 || d.Cosine != 1 {
		t.Errorf("a step that did not move, matched: %+v", d)
	}
	if d, _ := Deviation(prev, want, prev); !math.IsInf(d.Error, 1) {
		t.Errorf("a step that did not move, answered with one that did: %+v", d)
	}
	tol := CrossClassTolerance{MaxError: 0.2, MinCosine: 0.99}
	if err := CompareAcross(prev, st(3, 4, 0, 0.5), want, tol); err != nil {
		t.Errorf("within tolerance: %v", err)
	}
	if err := CompareAcross(prev, st(6, 8, 0, 0), want, tol); !errors.Is(err, ErrMismatch) {
		t.Errorf("a skipped step: got %v, want a mismatch", err)
	}
}

func TestCrossClassRules(t *testing.T) {
	for _, tc := range []struct {
		miner, own string
		want       bool
	}{{"", "", false}, {"a", "", false}, {"", "a", false}, {"a", "a", false}, {"a", "b", true}} {
		if got := CrossClass(tc.miner, tc.own); got != tc.want {
			t.Errorf("CrossClass(%q, %q) = %v, want %v", tc.miner, tc.own, got, tc.want)
		}
	}
	for _, bad := range []string{"has space", "a|b", "tab\t", strings.Repeat("x", MaxClassBytes+1), "é"} {
		if err := ValidateClass(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidateClass(%q) = %v, want invalid", bad, err)
		}
	}
	if err := ValidateClass("sha256:0123abcd"); err != nil {
		t.Error(err)
	}
	for _, bad := range []CrossClassTolerance{{0, 0.9, 0}, {1, 0.9, 0}, {0.1, 0, 0}, {0.1, 1, 0}, {0.1, 0.9, -1}, {0.1, 0.9, 65}, {math.NaN(), 0.9, 0}} {
		p := Profile{ID: "p", Version: "1", Determinism: Exact, Limits: LegacyLimits(), Cost: LegacyCost(), CrossClass: &bad}
		if err := p.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("cross-class tolerance %+v: got %v, want invalid", bad, err)
		}
	}
}

func TestReceiptSignsTheClass(t *testing.T) {
	r := Receipt{RequestID: "req_1", Miner: "5F", Profile: "p@1"}
	v1 := string(r.Message())
	if !strings.HasPrefix(v1, "fractal/receipt/v1|") {
		t.Fatalf("a receipt without a class is version 1: %q", v1)
	}
	r.Class = "sha256:ab"
	v2 := string(r.Message())
	if v2 != "fractal/receipt/v2"+strings.TrimPrefix(v1, "fractal/receipt/v1")+"|sha256:ab" {
		t.Errorf("with a class: %q", v2)
	}
}
