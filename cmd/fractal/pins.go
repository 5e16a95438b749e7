package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/fractal-grid/fractal"
)

// engineList is a repeatable --engine flag: the first is the primary engine,
// each further one serves another profile (an upgrade window).
type engineList []string

func (l *engineList) String() string { return fmt.Sprint(*l) }

func (l *engineList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// names returns the engines given, or builtin when none was.
func (l engineList) names() []string {
	if len(l) == 0 {
		return []string{"builtin"}
	}
	return l
}

// addEngineFlag registers --engine on fs.
func addEngineFlag(fs *flag.FlagSet, l *engineList, what string) {
	fs.Var(l, "engine", what+": `builtin` for the reference engine, or http://HOST:PORT of an engine-protocol server (a GPU engine); repeat it to serve one more profile each (default builtin)")
}

// openEngines opens every engine named, closing nothing on error (remote
// engines hold no resources before their first call).
func openEngines(ctx context.Context, names []string) ([]fractal.Engine, error) {
	var out []fractal.Engine
	for _, n := range names {
		e, err := openEngine(ctx, n)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// loadPins reads a pins file: a JSON array of {"profile": PROFILE, "from":
// BLOCK, "until": BLOCK}, each PROFILE as an engine's GET /v1/profile answers
// it (id, version, digest, determinism, limits, cost). "" reads nothing.
func loadPins(path string) (fractal.Pins, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usageErrorf("--pins: %v", err)
	}
	var pins fractal.Pins
	if err := json.Unmarshal(data, &pins); err != nil {
		return nil, usageErrorf("--pins %s: not a JSON array of pins: %v", path, err)
	}
	if err := pins.Validate(); err != nil {
		return nil, usageErrorf("--pins %s: %v", path, err)
	}
	return pins, nil
}
