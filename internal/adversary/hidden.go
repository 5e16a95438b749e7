package adversary

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/sr25519"
	"github.com/fractal-grid/fractal/validator"
	"github.com/fractal-grid/fractal/verify"
)

// HiddenConfig sets up the in-process run of the hiding cheats: each serves
// Jobs jobs, a share ChallengeShare of them the validator's challenges and
// the rest users' jobs, of which the validator verifies OrganicSample
// (validator.OrganicRate: times SampleBoost for a job taken under load, and
// again for one much faster than the miner's honest record).
type HiddenConfig struct {
	Jobs           int
	ChallengeShare float64
	OrganicSample  float64
	Load           float64 // chance a job arrives while the miner is busy: users' load (0.5)
	OpenRetries    int     // the validator's retries of a late opening
	Policy         verify.Policy
	Shape          validator.Shape
	StepShare      float64
}

// DefaultHiddenConfig: 300 jobs each, half of them challenges, users' load
// at half the capacity, the validator's sampling and retries.
func DefaultHiddenConfig(p verify.Policy, shape validator.Shape, stepShare float64) HiddenConfig {
	d := validator.DefaultConfig()
	return HiddenConfig{Jobs: 300, ChallengeShare: 0.5, OrganicSample: d.OrganicSample, Load: 0.5,
		OpenRetries: d.OpenRetries, Policy: p, Shape: shape, StepShare: stepShare}
}

// HiddenReport is what a run measured of one hiding cheat. A detection
// is a job the validator verified and failed as a cheat; Within20 is the
// chance of at least one in 20 of the cheat's jobs at the measured rate
// (PerJob: detections over all its jobs, honest ones included).
type HiddenReport struct {
	Name     string `json:"name"`
	Jobs     int    `json:"jobs"`
	Cheated  int    `json:"cheated"`  // jobs it faked steps on
	Verified int    `json:"verified"` // jobs the validator checked
	// Of the verified, the challenges and the users' jobs (live);
	// Unanswered counts the requests that failed before their
	// verification (a challenge that timed out, say).
	Challenges int            `json:"challenges,omitempty"`
	Organic    int            `json:"organic,omitempty"`
	Unanswered int            `json:"unanswered,omitempty"`
	Detected   int            `json:"detected"`
	Reasons    map[string]int `json:"reasons,omitempty"`
	Saving     float64        `json:"saving"` // share of an honest miner's work it skipped
	PerJob     float64        `json:"per_job"`
	Within20   float64        `json:"within_20"`
	Classifier float64        `json:"classifier_auc,omitempty"` // the organic-only cheat's own classifier
}

// DetectHidden runs every hiding cheat against the validator's checks in
// process: challenges always checked, users' jobs sampled, late openings
// asked again the validator's way.
func DetectHidden(ctx context.Context, cfg HiddenConfig) ([]HiddenReport, error) {
	key, err := sr25519.FromURI("//Alice//adversary-hidden")
	if err != nil {
		return nil, err
	}
	corpus, err := validator.NewCorpus(refengine.Words(), 10)
	if err != nil {
		return nil, err
	}
	// The organic-only cheat trains on the even users' prompts (NewHiding);
	// its users' jobs are drawn from the odd ones, and the validator's
	// challenges from a stream of its own.
	var heldOut []string
	for i, p := range OrganicPrompts() {
		if i%2 == 1 {
			heldOut = append(heldOut, p)
		}
	}
	r := rand.New(rand.NewPCG(37, 41))
	var out []HiddenReport
	for _, name := range HiddenCheats() {
		h, err := NewHiding(name, cfg.StepShare, refengine.Words())
		if err != nil {
			return nil, err
		}
		rep, err := runHidden(ctx, cfg, h, key, corpus, heldOut, r)
		if err != nil {
			return nil, err
		}
		if h.Classifier != nil {
			var ch, og []float64
			for range len(heldOut) {
				ch = append(ch, h.Classifier.Challenge(corpus.Draw(r)))
			}
			for _, p := range heldOut {
				og = append(og, h.Classifier.Challenge(p))
			}
			rep.Classifier = AUC(ch, og)
		}
		out = append(out, rep)
	}
	return out, nil
}

func runHidden(ctx context.Context, cfg HiddenConfig, h *Hiding, key *sr25519.Keypair, corpus *validator.Corpus, heldOut []string, r *rand.Rand) (HiddenReport, error) {
	base := refengine.New()
	name := h.Name()
	c := newChecker(base, cfg.Policy, rand.New(rand.NewPCG(r.Uint64(), 31)))
	rep := HiddenReport{Name: name, Reasons: map[string]int{}}
	var work float64
	s := cfg.Shape
	for i := range cfg.Jobs {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		challenge := r.Float64() < cfg.ChallengeShare
		loaded := r.Float64() < cfg.Load
		prompt := heldOut[r.IntN(len(heldOut))]
		if challenge {
			prompt = corpus.Draw(r)
		}
		cheat := h.cheats(prompt, loaded)
		rep.Jobs++
		spec := fractal.Spec{Prompt: prompt, Seed: r.Uint64(), Width: s.Width, Height: s.Height, Frames: s.Frames, FPS: s.FPS, Steps: s.Steps}
		strat := Strategy(Honest{})
		if cheat {
			strat = h.Skip
			rep.Cheated++
		}
		res, w, err := strat.Produce(ctx, base, spec)
		if err != nil {
			return rep, err
		}
		work += w
		// A user's job is drawn by the validator's own rule: its time
		// against the miner's record, an honest generation's, is the share
		// of the work it did (the modelled GPU's time follows the work).
		if !challenge && r.Float64() >= validator.OrganicRate(cfg.OrganicSample, loaded, w) {
			continue
		}
		d, err := deliver(res, spec, key, fmt.Sprintf("hidden-%d", i))
		if err != nil {
			return rep, err
		}
		var open fractal.Opener = d
		if cheat {
			open = refusing{d: d, cheat: h}
		}
		v := c.Check(ctx, 0, d.claim, open)
		for try := 0; v.Reason == verify.ReasonOpenLate && try < cfg.OpenRetries; try++ {
			v = c.Recheck(ctx, 0, d.claim, open, v.Opened, v.Decoded)
		}
		if v.Reason == verify.ReasonOpenLate {
			v.Reason = verify.ReasonOpenRefused
		}
		rep.Verified++
		if v.Internal {
			return rep, fmt.Errorf("%s job %d: verifier error: %s", name, i, v.Detail)
		}
		if !v.OK && verify.IsCheck(v.Reason) {
			rep.Detected++
			rep.Reasons[v.Reason]++
		}
	}
	rep.Saving = 1 - work/float64(max(rep.Jobs, 1))
	rep.PerJob = float64(rep.Detected) / float64(max(rep.Jobs, 1))
	rep.Within20 = 1 - math.Pow(1-rep.PerJob, 20)
	return rep, nil
}

// refusing opens a delivery like its miner, but answers "unavailable" to
// an opening the cheat refuses (the refuse-openings cheat's of a faked
// step): the late opening a loaded miner could plead.
type refusing struct {
	d     *delivery
	cheat *Hiding
}

func (o refusing) Open(ctx context.Context, steps []int) (*fractal.Openings, error) {
	if o.cheat.refuses(steps) {
		return nil, fmt.Errorf("busy: %w", fractal.ErrUnavailable)
	}
	return o.d.Open(ctx, steps)
}

// liveHidden reports a hiding cheat of the live suite from its miners'
// counts and the validator's records: each request verified counts once
// (a late opening asked again is recorded twice, the second record its
// outcome), as detected when it failed a check; a request that failed
// before its verification is unanswered, not verified.
func liveHidden(name string, saving float64, miners []fielded, byHotkey map[string][]validator.Record) HiddenReport {
	rep := HiddenReport{Name: name, Reasons: map[string]int{}, Saving: saving}
	for _, m := range miners {
		if m.strategy != name || m.hiding == nil {
			continue
		}
		jobs, cheated := m.hiding.Counts()
		rep.Jobs += jobs
		rep.Cheated += cheated
		for _, rec := range outcomes(byHotkey[m.hotkey]) {
			if !rec.OK && !verify.IsCheck(rec.Reason) && rec.Reason != verify.ReasonOpenLate {
				rep.Unanswered++ // failed before its verification: a timeout, say
				continue
			}
			rep.Verified++
			if rec.Organic {
				rep.Organic++
			} else {
				rep.Challenges++
			}
			if !rec.OK && verify.IsCheck(rec.Reason) {
				rep.Detected++
				rep.Reasons[rec.Reason]++
			}
		}
	}
	rep.PerJob = float64(rep.Detected) / float64(max(rep.Jobs, 1))
	rep.Within20 = 1 - math.Pow(1-rep.PerJob, 20)
	return rep
}
