package fractal_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/fractal-grid/fractal"
)

func TestPinsWindow(t *testing.T) {
	a := legacy
	b := legacy
	b.Version = "2"
	pins := fractal.Pins{{Profile: a, Until: 200}, {Profile: b, From: 100}}
	if err := pins.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		block uint64
		want  []string
	}{{0, []string{"ref@1"}}, {99, []string{"ref@1"}}, {100, []string{"ref@2", "ref@1"}}, {199, []string{"ref@2", "ref@1"}}, {200, []string{"ref@2"}}} {
		var got []string
		for _, p := range pins.Active(tc.block) {
			got = append(got, p.String())
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("block %d: active %v, want %v", tc.block, got, tc.want)
		}
	}
	for _, tc := range []struct {
		ref   string
		block uint64
		want  string
	}{{"", 50, "ref@1"}, {"", 150, "ref@1"}, {"", 250, "ref@2"}, {"ref", 150, "ref@2"}, {"ref@1", 150, "ref@1"}, {"ref@1", 50, "ref@1"}} {
		p, err := pins.Resolve(tc.ref, tc.block)
		if err != nil || p.String() != tc.want {
			t.Errorf("Resolve(%q, %d) = %v, %v; want %s", tc.ref, tc.block, p, err, tc.want)
		}
	}
	_, err := pins.Resolve("ref@1", 250)
	var fe *fractal.FieldError
	if !errors.As(err, &fe) || fe.Field != "model" || !strings.Contains(err.Error(), "ref, ref@2") {
		t.Errorf("expired pin: got %v, want a model error listing ref, ref@2", err)
	}
	if _, err := pins.Resolve("sora-2", 150); err == nil || !strings.Contains(err.Error(), "ref@1") {
		t.Errorf("unknown model: got %v", err)
	}
}

func TestPinsRefused(t *testing.T) {
	b := legacy
	b.Version = "2"
	for name, pins := range map[string]fractal.Pins{
		"none":         nil,
		"twice":        {{Profile: legacy}, {Profile: legacy, From: 5}},
		"until ≤ from": {{Profile: legacy, From: 10, Until: 10}},
		"bad profile":  {{Profile: fractal.Profile{ID: "x"}}},
	} {
		if err := pins.Validate(); !errors.Is(err, fractal.ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", name, err)
		}
	}
	if _, err := (fractal.Pins{{Profile: b, From: 100}}).Resolve("", 5); !errors.Is(err, fractal.ErrUnavailable) {
		t.Errorf("nothing pinned yet: got %v, want ErrUnavailable", err)
	}
}
