package enginetest_test

import (
	"testing"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/enginetest"
	"github.com/fractal-grid/fractal/refengine"
)

// TestReferenceEngine holds the built-in engine to the contract; package
// remote runs the same suite over the engine protocol.
func TestReferenceEngine(t *testing.T) {
	enginetest.Run(t, func(t *testing.T) fractal.Engine { return refengine.New() })
}
