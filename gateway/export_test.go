package gateway

import (
	"context"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/minerapi"
)

// Exported for tests in package gateway_test.
var (
	FramesKey        = framesKey
	ErrJobOver       = errJobOver
	FailureReason    = failureReason
	ChallengeFailure = challengeFailure
)

// Complete stores the outcome of the job's attempt that sent requestID as
// a dispatcher does when the miner delivered it.
func (g *Gateway) Complete(ctx context.Context, job *fractal.Job, requestID string, out *minerapi.Outcome) error {
	file, err := framesFile(out)
	if err != nil {
		return err
	}
	_, err = g.complete(ctx, nopDelivery(job.ID), job, requestID, out, file)
	return err
}

// Subscribers counts the open subscriptions to the job feed.
func (g *Gateway) Subscribers() int { return g.feed.subscribers() }

// nopDelivery stands for a queue delivery in tests that call the dispatch
// path directly.
type nopDelivery string

func (d nopDelivery) JobID() string                            { return string(d) }
func (d nopDelivery) Attempt() int                             { return 1 }
func (d nopDelivery) Ack(context.Context) error                { return nil }
func (d nopDelivery) Nak(context.Context, time.Duration) error { return nil }
func (d nopDelivery) InProgress(context.Context) error         { return nil }
