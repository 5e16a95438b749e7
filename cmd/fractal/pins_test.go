package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/refengine"
)

func writePins(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "pins.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadPins(t *testing.T) {
	a := refengine.New().Profile()
	next, err := refengine.NewVariant(refengine.Variant{Version: "5", Limits: fractal.LegacyLimits()})
	if err != nil {
		t.Fatal(err)
	}
	want := fractal.Pins{{Profile: a, Until: 1200}, {Profile: next.Profile(), From: 1000}}
	got, err := loadPins(writePins(t, want))
	if err != nil || len(got) != 2 || got[0].Until != 1200 || got[1].From != 1000 || got[1].Profile.Same(next.Profile()) != nil {
		t.Fatalf("got %+v, %v; want the pins written", got, err)
	}
	if got, err := loadPins(""); got != nil || err != nil {
		t.Errorf("no file: got %v, %v; want nothing", got, err)
	}
	bad := []struct {
		name string
		pins any
		say  string
	}{
		{"not an array", map[string]int{"from": 1}, "not a JSON array"},
		{"window backwards", fractal.Pins{{Profile: a, From: 10, Until: 5}}, "until"},
		{"no rules", []map[string]any{{"profile": map[string]string{"id": "x", "version": "1", "determinism": "exact"}}}, "limits"},
	}
	for _, tc := range bad {
		if _, err := loadPins(writePins(t, tc.pins)); err == nil || !strings.Contains(err.Error(), tc.say) {
			t.Errorf("%s: got %v, want an error saying %q", tc.name, err, tc.say)
		}
	}
}

func TestValidatorRefusesBadPinsFile(t *testing.T) {
	path := writePins(t, fractal.Pins{{Profile: refengine.New().Profile(), From: 10, Until: 5}})
	var out, errb bytes.Buffer
	code := Run(context.Background(), []string{"validator", "--pins", path}, nil, &out, &errb)
	if code != 2 || !strings.Contains(errb.String(), "until") {
		t.Errorf("got exit %d, stderr %q; want 2 naming the window", code, errb.String())
	}
}

func TestEngineFlagRepeats(t *testing.T) {
	var l engineList
	if got := l.names(); len(got) != 1 || got[0] != "builtin" {
		t.Errorf("no flag: %v, want builtin", got)
	}
	c := NewMinerCommand(nil)
	var errb bytes.Buffer
	if err := c.ParseFlags([]string{"--engine", "builtin", "--engine", "http://127.0.0.1:1"}, &errb); err != nil {
		t.Fatal(err)
	}
	if got := c.Engines.names(); len(got) != 2 || got[1] != "http://127.0.0.1:1" {
		t.Errorf("two engines: got %v", got)
	}
	if _, err := openEngines(context.Background(), []string{"builtin", "ftp://x"}); err == nil {
		t.Error("an engine that is neither builtin nor http: got no error")
	}
}
