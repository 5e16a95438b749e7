package gateway

import (
	"context"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/minerapi"
)

// Exported for tests in package gateway_test.
var (
	FramesKey  = framesKey
	ErrJobOver = errJobOver
)

// Complete stores an attempt's outcome as a dispatcher does when a miner
// delivered it.
func (g *Gateway) Complete(ctx context.Context, job *fractal.Job, out *minerapi.Outcome) error {
	return g.complete(ctx, job, out, time.Now())
}
