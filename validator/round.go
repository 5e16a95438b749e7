package validator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"sort"
	"sync"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/minerapi"
	"github.com/fractal-grid/fractal/verify"
)

// Log keys.
const (
	logKeyError  = "err"
	logKeyMiner  = "miner"
	logKeyReason = "reason"
)

// Round runs one challenge round: sync the metagraph, pick miners so that
// every serving miner is challenged within a tempo, challenge and verify
// them, and record the outcomes. It returns the number of challenges sent.
func (v *Validator) Round(ctx context.Context) int {
	if g, err := v.Chain.Metagraph(ctx, v.Config.NetUID); err != nil {
		v.logger.Warn("metagraph sync failed; using the last one", slog.Any(logKeyError, err))
	} else {
		v.mu.Lock()
		v.graph = g
		v.mu.Unlock()
		v.metrics.synced(g.Block, v.now())
	}
	picked := v.pick()
	if len(picked) == 0 {
		v.logger.Debug("round skipped", slog.Any(logKeyError, errNoMiners))
		return 0
	}
	type job struct {
		miner fractal.Neuron
		req   minerapi.GenerateRequest
	}
	var jobs []job
	for i := 0; i < len(picked); i++ {
		req := v.challenger.next()
		jobs = append(jobs, job{picked[i], req})
		// Now and then the same challenge goes to the next miner too, to
		// cross-check: honest miners of one model agree exactly.
		if i+1 < len(picked) && v.challenger.rand.Float64() < v.Config.SharedProb {
			i++
			jobs = append(jobs, job{picked[i], req})
		}
	}
	sem := make(chan struct{}, v.Config.Parallel)
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			v.Challenge(ctx, j.miner, j.req)
		}()
	}
	wg.Wait()
	return len(jobs)
}

// pick chooses this round's miners round-robin over the serving ones.
func (v *Validator) pick() []fractal.Neuron {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.graph == nil {
		return nil
	}
	var serving []fractal.Neuron
	for _, n := range v.graph.Neurons {
		if n.Hotkey == v.Hotkey.SS58() || !n.Axon.Served() || !v.axonAllowed(n.Axon.IP) {
			continue
		}
		serving = append(serving, n)
	}
	if len(serving) == 0 {
		return nil
	}
	sort.Slice(serving, func(i, j int) bool { return serving[i].UID < serving[j].UID })
	k := v.Config.PerRound
	if k == 0 {
		tempo := time.Duration(max(v.graph.Tempo, 1)) * v.Config.BlockTime
		k = int(math.Ceil(float64(len(serving)) * float64(v.Config.Round) / float64(tempo)))
	}
	k = min(max(k, 1), len(serving))
	out := make([]fractal.Neuron, 0, k)
	for range k {
		out = append(out, serving[v.cursor%len(serving)])
		v.cursor++
	}
	return out
}

// axonAllowed refuses private, loopback and link-local addresses unless the
// validator runs a local grid.
func (v *Validator) axonAllowed(ip netip.Addr) bool {
	return v.Config.AllowPrivateAxons || fractal.IsPublicIP(ip)
}

// Record is one verification as the audit log keeps it.
type Record struct {
	JobID         string  `json:"job_id"`
	Miner         string  `json:"miner"`
	UID           uint16  `json:"uid"`
	Organic       bool    `json:"organic,omitempty"`
	Prompt        string  `json:"prompt"`
	Seed          uint64  `json:"seed"`
	Steps         int     `json:"steps"`
	OK            bool    `json:"ok"`
	Reason        string  `json:"reason"`
	Detail        string  `json:"detail,omitempty"`
	Opened        []int   `json:"opened,omitempty"`
	AcceptMs      int64   `json:"accept_ms"`
	FirstProgress int64   `json:"first_progress_ms"`
	TotalMs       int64   `json:"total_ms"`
	VerifyMs      float64 `json:"verify_ms"`
}

// Failure reasons that are not verification results.
const (
	ReasonTimeout     = "timeout"
	ReasonUnavailable = "unavailable"
	ReasonOverloaded  = "overloaded"
	ReasonStream      = "stream"
	ReasonRefused     = "refused"
	ReasonJobFailed   = "job_failed"
)

// Challenge sends req to miner, verifies the answer and records it.
func (v *Validator) Challenge(ctx context.Context, miner fractal.Neuron, req minerapi.GenerateRequest) Record {
	target := minerapi.Target{URL: "http://" + miner.Axon.AddrPort().String(), Hotkey: miner.Hotkey}
	v.metrics.challenges.Inc()
	deadline := v.Config.ChallengeTimeout + time.Duration(req.Spec.Cost()*float64(v.Config.SecsPerCost))
	cctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	out, err := v.client.Generate(cctx, target, req, nil)
	rec := Record{JobID: req.JobID, Miner: miner.Hotkey, UID: miner.UID, Prompt: req.Spec.Prompt, Seed: req.Spec.Seed, Steps: req.Spec.Steps}
	if err != nil {
		if ctx.Err() != nil {
			return rec // shutting down: no verdict
		}
		rec.Reason, rec.Detail = classify(err), err.Error()
		v.record(ctx, miner, req, rec, nil, rec.Reason == verify.ReasonFrames)
		return rec
	}
	return v.verify(ctx, miner, target, req, out, rec)
}

// verify checks an outcome and records the verdict.
func (v *Validator) verify(ctx context.Context, miner fractal.Neuron, target minerapi.Target, req minerapi.GenerateRequest, out *minerapi.Outcome, rec Record) Record {
	rec.AcceptMs, rec.FirstProgress, rec.TotalMs = out.Accepted.Milliseconds(), out.FirstProgress.Milliseconds(), out.Total.Milliseconds()
	open := func(ctx context.Context, steps []int) (*minerapi.OpenResponse, error) {
		octx, cancel := context.WithTimeout(ctx, v.Config.ChallengeTimeout)
		defer cancel()
		return v.client.Open(octx, target, minerapi.OpenRequest{JobID: req.JobID, Steps: steps})
	}
	verdict := v.newChecker().Check(ctx, miner.Hotkey, req, out, open)
	if ctx.Err() != nil {
		return rec // shutting down: an opening cut short is no verdict on the miner
	}
	rec.OK, rec.Reason, rec.Detail, rec.Opened = verdict.OK, verdict.Reason, verdict.Detail, verdict.Opened
	rec.VerifyMs = float64(verdict.Compute.Microseconds()) / 1000
	if verdict.Internal {
		v.logger.Error("verifier failed; no verdict", slog.Any(logKeyError, verdict.Detail))
		return rec
	}
	v.record(ctx, miner, req, rec, out, !verdict.OK)
	return rec
}

// classify names the reason a challenge failed before verification.
func classify(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return ReasonTimeout
	case errors.Is(err, fractal.ErrMismatch):
		return verify.ReasonFrames
	case errors.Is(err, minerapi.ErrStream):
		return ReasonStream
	case errors.Is(err, fractal.ErrOverloaded):
		return ReasonOverloaded
	case errors.Is(err, fractal.ErrUnavailable):
		return ReasonUnavailable
	case errors.Is(err, fractal.ErrForbidden), errors.Is(err, fractal.ErrUnauthorized):
		return ReasonRefused
	}
	return ReasonJobFailed
}

// record folds one outcome into the miner's statistics, saves them and
// appends the audit record.
func (v *Validator) record(ctx context.Context, miner fractal.Neuron, req minerapi.GenerateRequest, rec Record, out *minerapi.Outcome, cheat bool) {
	obs := Observation{At: v.now(), OK: rec.OK, Cheat: cheat, Reason: rec.Reason, Cost: req.Spec.Cost()}
	if out != nil {
		obs.Accept, obs.FirstProgress, obs.Total = out.Accepted, out.FirstProgress, out.Total
	}
	v.mu.Lock()
	s, ok := v.stats[miner.Hotkey]
	if !ok {
		s = &Stats{Hotkey: miner.Hotkey}
		v.stats[miner.Hotkey] = s
	}
	s.UID = miner.UID
	s.Observe(v.Config.Score, obs)
	snapshot := *s
	v.mu.Unlock()
	v.metrics.verdict(rec)
	if rec.OK {
		v.logger.Info("verified", slog.String(logKeyMiner, miner.Hotkey), slog.Int("uid", int(miner.UID)), slog.Bool("organic", rec.Organic),
			slog.Int64("total_ms", rec.TotalMs), slog.Any("opened", rec.Opened), slog.Float64("verify_ms", rec.VerifyMs))
	} else {
		v.logger.Warn("challenge failed", slog.String(logKeyMiner, miner.Hotkey), slog.Int("uid", int(miner.UID)), slog.String(logKeyReason, rec.Reason), slog.String("detail", rec.Detail))
	}
	if err := v.save(ctx, snapshot); err != nil {
		v.logger.Warn("saving scores failed", slog.Any(logKeyError, err))
	}
	if _, err := v.Audit.Append(ctx, fmt.Sprintf("audit.%d", miner.UID), rec); err != nil {
		v.logger.Warn("audit append failed", slog.Any(logKeyError, err))
	}
}
