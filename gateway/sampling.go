package gateway

import (
	"context"
	"log/slog"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/minerapi"
)

// shareSample hands a user's job that miner n finished to every validator
// through the store, when the queue carries samples (fractal.SampleLog):
// whichever replica dispatched the job, the validators can verify it. The
// frames stay where complete stored them. A gateway with a validator in
// its own process (Sampler) hands its jobs over directly instead, so none
// is sampled twice. A sample that cannot be stored is logged and dropped:
// sampling tolerates a gap, and the user's job is done.
func (g *Gateway) shareSample(ctx context.Context, n fractal.Neuron, job *fractal.Job, req minerapi.GenerateRequest, out *minerapi.Outcome) {
	log, ok := g.Queue.(fractal.SampleLog)
	if !ok || g.Sampler != nil {
		return
	}
	a := job.Attempts.Find(req.RequestID)
	if a == nil {
		return
	}
	claim := out.Claim(n.Hotkey, req)
	claim.Frames = nil
	s := &fractal.Sample{Miner: n, Claim: claim, FramesKey: framesKey(job.ID, a.N), Load: out.QueuePosition, Finished: g.now()}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := log.PublishSample(context.WithoutCancel(ctx), s); err != nil {
			g.logger.Warn("sample not shared", slog.String(logKeyJob, job.ID), slog.String(logKeyMiner, n.Hotkey), slog.Any(logKeyError, err))
		}
	}()
}
