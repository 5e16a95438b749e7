package main

import (
	"fmt"

	"github.com/fractal-grid/fractal"
)

func runVersion(rio IO) error {
	_, err := fmt.Fprintf(rio.Stdout, "fractal %s\n", fractal.Version)
	return err
}
