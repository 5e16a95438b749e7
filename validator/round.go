package validator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
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
	v.mu.Lock()
	var tempo uint64
	if v.graph != nil {
		tempo = uint64(v.graph.Tempo)
	}
	v.mu.Unlock()
	sweep := v.sweepNow(tempo)
	all := v.pick(sweep)
	if len(all) == 0 {
		v.logger.Debug("round skipped", slog.Any(logKeyError, errNoMiners))
		return 0
	}
	v.assignProfiles(ctx, all)
	var picked []picked
	for _, p := range all {
		if p.none {
			v.record(ctx, v.noActiveProfile(p), 0)
			continue
		}
		picked = append(picked, p)
	}
	type groupProfile struct {
		group   int
		profile string
	}
	var jobs []job
	shapes := map[groupProfile]Shape{} // one per operator and model: its burst's times compare like with like
	for i := 0; i < len(picked); i++ {
		key := groupProfile{picked[i].group, picked[i].profile.String()}
		shape, ok := shapes[key]
		if !ok {
			shape = v.challenger.shape(picked[i].profile)
			shapes[key] = shape
		}
		req := v.challenger.nextShaped(shape, picked[i].profile)
		jobs = append(jobs, job{picked[i].n, req, picked[i].group})
		// Now and then the same challenge goes to the next miner too, to
		// cross-check: honest miners of one model agree exactly. Its shape
		// becomes that of the next miner's operator, if it has none yet.
		// Not in a sweep, which times every miner: hotkeys sharing a GPU
		// would answer a shared challenge once, both at full speed.
		if !sweep && i+1 < len(picked) && picked[i+1].profile.String() == key.profile && v.challenger.rand.Float64() < v.Config.SharedProb {
			next := groupProfile{picked[i+1].group, key.profile}
			if _, ok := shapes[next]; !ok {
				shapes[next] = shape
			}
			if shapes[next] == shape {
				i++
				jobs = append(jobs, job{picked[i].n, req, next.group})
			}
		}
	}
	if sweep {
		v.sweep(ctx, jobs)
	} else {
		v.burst(ctx, jobs)
	}
	// A round's verdicts reach gateway replicas at once, not at the next
	// tick of the publisher (a validator driven by Round alone has none).
	if err := v.PublishStandings(ctx); err != nil && ctx.Err() == nil {
		v.logger.Warn("publishing standings failed", slog.Any(logKeyError, err))
	}
	return len(jobs)
}

// picked is a miner chosen for a round, its operator group and the profile
// it is challenged on (none: it serves no active profile; claimed: what it
// says it serves).
type picked struct {
	n       fractal.Neuron
	group   int
	profile fractal.Profile
	none    bool
	claimed []string
}

// pick chooses this round's miners round-robin over the serving ones,
// ordered by operator, and completes the last operator picked so that its
// hotkeys are challenged together; a sweep picks every serving miner.
func (v *Validator) pick(sweep bool) []picked {
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
	serving, groups := byOperator(serving, !v.Config.AllowPrivateAxons, v.linker.links())
	k := v.Config.PerRound
	if k == 0 {
		tempo := time.Duration(max(v.graph.Tempo, 1)) * v.Config.BlockTime
		k = int(math.Ceil(float64(len(serving)) * float64(v.Config.Round) / float64(tempo)))
	}
	k = min(max(k, 1), len(serving))
	if sweep {
		k = len(serving)
	}
	out := make([]picked, 0, k)
	for len(out) < len(serving) {
		i := v.cursor % len(serving)
		if len(out) >= k && (i == 0 || groups[i] != groups[i-1]) {
			break
		}
		out = append(out, picked{n: serving[i], group: groups[i]})
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
	RequestID     string  `json:"request_id"`
	Miner         string  `json:"miner"`
	UID           uint16  `json:"uid"`
	Organic       bool    `json:"organic,omitempty"`
	Profile       string  `json:"profile,omitempty"` // the spec's model, "id@version"
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
	BurstMs       int64   `json:"burst_ms,omitempty"` // the operator's burst, when longer: the time scored
	VerifyMs      float64 `json:"verify_ms"`
	// Class is the execution class the miner's receipt names; CrossClass is
	// set when it differs from the validator engine's and the steps were
	// compared within the profile's cross-class tolerance.
	Class      string `json:"class,omitempty"`
	CrossClass bool   `json:"cross_class,omitempty"`
}

// Failure reasons that are not verification results.
const (
	ReasonTimeout     = verify.ReasonTimeout
	ReasonUnavailable = verify.ReasonUnavailable
	ReasonOverloaded  = verify.ReasonOverloaded
	ReasonStream      = verify.ReasonStream
	ReasonRefused     = verify.ReasonRefused
	ReasonJobFailed   = verify.ReasonJobFailed
)

// Challenge sends req to miner, verifies the answer and records it.
func (v *Validator) Challenge(ctx context.Context, miner fractal.Neuron, req minerapi.GenerateRequest) Record {
	a := v.attempt(ctx, miner, req)
	if a.scored {
		v.record(ctx, a, 0)
	}
	return a.rec
}

// attempt is one challenge's outcome before it is recorded.
type attempt struct {
	miner  fractal.Neuron
	req    minerapi.GenerateRequest
	rec    Record
	out    *minerapi.Outcome
	cheat  bool
	scored bool    // false: no verdict (a shutdown, the verifier's own failure)
	block  uint64  // when the challenge was sent: its profile must be pinned then
	reopen *reopen // a late opening, to be asked again once recorded
	swept  bool    // challenged in a sweep: its time sets the miner's speed
	// sent is when a gateway replica sent a queued challenge to the miner;
	// zero for one the validator sent itself, at its burst's instant.
	sent  time.Time
	drawn float64 // a user's job: the chance it was drawn for verification
}

// attempt sends req to miner, itself or through the gateways' queue
// (Config.ChallengePath), and verifies the answer.
func (v *Validator) attempt(ctx context.Context, miner fractal.Neuron, req minerapi.GenerateRequest) attempt {
	v.metrics.challenges.Inc()
	if v.queued() {
		return v.attemptQueued(ctx, miner, req)
	}
	return v.attemptDirect(ctx, miner, req)
}

// attemptDirect sends req to miner itself and verifies the answer.
func (v *Validator) attemptDirect(ctx context.Context, miner fractal.Neuron, req minerapi.GenerateRequest) attempt {
	target := minerapi.Target{URL: "http://" + miner.Axon.AddrPort().String(), Hotkey: miner.Hotkey}
	deadline := v.Config.ChallengeTimeout + time.Duration(v.costOf(req.Spec)*float64(v.Config.SecsPerCost))
	cctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	block := v.block()
	out, err := v.client.Generate(cctx, target, req, nil)
	a := attempt{miner: miner, req: req, block: block}
	a.rec = Record{RequestID: req.RequestID, Miner: miner.Hotkey, UID: miner.UID, Profile: req.Spec.Profile, Prompt: req.Spec.Prompt, Seed: req.Spec.Seed, Steps: req.Spec.Steps}
	if err != nil {
		if ctx.Err() != nil {
			return a // shutting down: no verdict
		}
		a.rec.Reason, a.rec.Detail = classify(err), err.Error()
		a.cheat, a.scored = a.rec.Reason == verify.ReasonFrames, true
		return a
	}
	return v.verify(ctx, target, a, out)
}

// verify checks an outcome and returns the verdict.
func (v *Validator) verify(ctx context.Context, target minerapi.Target, a attempt, out *minerapi.Outcome) attempt {
	rec, claim := a.rec, out.Claim(a.miner.Hotkey, a.req)
	a.out = out
	rec.AcceptMs, rec.FirstProgress, rec.TotalMs = claim.Accepted.Milliseconds(), claim.FirstProgress.Milliseconds(), claim.Total.Milliseconds()
	block := a.block
	if rec.Organic {
		block = v.block() // a user's job reaches us finished: check it under the pins of now
	}
	open := &minerapi.Opener{Client: v.client, Target: target, RequestID: claim.RequestID,
		MaxStateElems: v.maxStateElems(claim.Receipt.Profile), Timeout: v.Config.ChallengeTimeout}
	verdict := v.newChecker().Check(ctx, block, claim, open)
	if ctx.Err() != nil {
		return a // shutting down: an opening cut short is no verdict on the miner
	}
	rec.OK, rec.Reason, rec.Detail, rec.Opened = verdict.OK, verdict.Reason, verdict.Detail, verdict.Opened
	rec.VerifyMs = float64(verdict.Compute.Microseconds()) / 1000
	rec.Class, rec.CrossClass = claim.Receipt.Class, verdict.CrossClass
	a.rec = rec
	if verdict.Internal {
		v.logger.Error("verifier failed; no verdict", slog.Any(logKeyError, verdict.Detail))
		return a
	}
	a.cheat, a.scored = verdict.Cheat(), true
	if verdict.Reason == verify.ReasonOpenLate {
		a.reopen = &reopen{target: target, claim: claim, block: block, steps: verdict.Opened, decode: verdict.Decoded}
	}
	return a
}

// maxStateElems bounds the states a miner may open for a receipt naming
// profile: the pinned profile's largest state. A profile we do not pin is
// refused before anything is opened.
func (v *Validator) maxStateElems(profile string) int {
	if p, ok := v.pins().Lookup(profile); ok {
		return p.WithDefaults().Limits.MaxStateElems()
	}
	return 0
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
// appends the audit record. A pass is timed by makespan, its operator's
// burst, when that took longer than the miner's own answer.
func (v *Validator) record(ctx context.Context, a attempt, makespan time.Duration) {
	miner, req, rec, out := a.miner, a.req, a.rec, a.out
	obs := Observation{At: v.now(), OK: rec.OK, Cheat: a.cheat, Reason: rec.Reason, Profile: req.Spec.Profile, Cost: v.costOf(req.Spec), Swept: a.swept}
	if rec.Organic && a.drawn > 0 {
		obs.Organic = obs.Cost / a.drawn
	}
	if out != nil {
		obs.Accept, obs.FirstProgress, obs.Total = out.Accepted, out.FirstProgress, out.Total
		if rec.OK && makespan > out.Total {
			obs.Total = makespan
			rec.BurstMs = makespan.Milliseconds()
		}
	}
	v.fold(ctx, miner, obs, rec)
	v.scheduleReopen(a)
}

// fold folds obs into the miner's statistics, saves them and appends rec
// to the audit log.
func (v *Validator) fold(ctx context.Context, miner fractal.Neuron, obs Observation, rec Record) {
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
		v.logger.Warn("challenge failed", slog.String(logKeyMiner, miner.Hotkey), slog.Int("uid", int(miner.UID)), slog.Bool("organic", rec.Organic),
			slog.String(logKeyReason, rec.Reason), slog.String("detail", rec.Detail))
	}
	if err := v.save(ctx, snapshot); err != nil {
		v.logger.Warn("saving scores failed", slog.Any(logKeyError, err))
	}
	if _, err := v.Audit.Append(ctx, fmt.Sprintf("audit.%d", miner.UID), rec); err != nil {
		v.logger.Warn("audit append failed", slog.Any(logKeyError, err))
	}
}
