package main

import (
	"fmt"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/refengine"
)

// runVersion prints the binary's version and the profile of the built-in
// engine, which miners and validators must agree on.
func runVersion(rio IO) error {
	p := refengine.New().Profile()
	_, err := fmt.Fprintf(rio.Stdout, "fractal %s\nengine %s %s (%s)\n", fractal.Version, p, p.Digest, p.Determinism)
	return err
}
