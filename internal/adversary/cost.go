package adversary

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/sr25519"
	"github.com/fractal-grid/fractal/verify"
)

// CostConfig sets up the cost measurement.
type CostConfig struct {
	Spec      fractal.Spec // a realistic job: the default shape
	Videos    int          // honest generations (miner work)
	Checks    int          // checks of each video
	Goal      verify.Goal
	RegenProb float64       // p: kept small; its expected cost is added
	Floor     verify.Policy // the least checking to run whatever the rule says (zero: the rule's choice)
}

// DefaultCostConfig measures two default videos, checked 20 times each,
// with the policy the proof-of-sampling rule chooses, except that frames
// are decoded in at least a quarter of the checks: the rule's q sits right
// at the goal (0.21 against 0.2057 needed), and a frame decode costs about
// 1/frames of the decode share, so margin there is cheap.
func DefaultCostConfig() CostConfig {
	return CostConfig{
		Spec:      fractal.DefaultSpec("a red ball bouncing over the ocean at night", 1),
		Videos:    2,
		Checks:    20,
		Goal:      verify.DefaultGoal(),
		RegenProb: verify.DefaultPolicy().RegenProb,
		Floor:     verify.Policy{DecodeProb: verify.DefaultPolicy().DecodeProb},
	}
}

// CostReport is the measured cost shape of the engine and of verification.
type CostReport struct {
	Clock        string        `json:"clock"`
	Spec         fractal.Spec  `json:"spec"`
	GenerateSecs float64       `json:"generate_s"`     // per video
	StepsSecs    float64       `json:"steps_s"`        // spec.Steps single steps
	StepShare    float64       `json:"sigma"`          // σ = steps ÷ generate
	Chosen       verify.Policy `json:"chosen"`         // by verify.Choose from σ
	Policy       verify.Policy `json:"policy"`         // in force: chosen, at least the floor
	ModelCost    float64       `json:"model_cost"`     // Policy.Cost: expected check ÷ generation
	EngineSecs   float64       `json:"check_engine_s"` // engine CPU per check (c steps, q frame decodes)
	CheckSecs    float64       `json:"check_s"`        // all CPU per check: frames digest, receipt, proofs, engine
	RegenSecs    float64       `json:"regen_s"`        // expected per check: p × generate
	MinerSecs    float64       `json:"miner_s"`        // all generations
	VerifierSecs float64       `json:"verifier_s"`     // engine CPU of the checks, regeneration expected
	Checks       int           `json:"checks"`         // checks run
	// Ratio is the validator's engine CPU per challenge ÷ the miner's
	// engine CPU per job; TotalRatio counts all of the validator's CPU for a
	// challenge (hashing the frames and opened states, the signature).
	Ratio      float64 `json:"cost_ratio"`
	TotalRatio float64 `json:"total_ratio"`
	Detection  float64 `json:"detect_20pct"` // per-check detection of a cheat saving 20%
}

// MeasureCost generates cfg.Videos honest videos, measures σ, chooses the
// policy and measures the checks' CPU against the generations'. Run it
// alone in the process: it reads the process CPU clock.
func MeasureCost(ctx context.Context, cfg CostConfig) (*CostReport, error) {
	if cfg.Videos < 1 || cfg.Checks < 1 {
		return nil, fmt.Errorf("cost config %+v: %w", cfg, fractal.ErrInvalid)
	}
	e := refengine.New()
	key, err := sr25519.FromURI("//Alice//adversary-cost")
	if err != nil {
		return nil, err
	}
	rep := &CostReport{Clock: cpuClock, Spec: cfg.Spec}
	var videos []*delivery
	var gen, steps time.Duration
	for i := range cfg.Videos {
		spec := cfg.Spec
		spec.Seed += uint64(i)
		start := processCPU()
		res, err := e.Generate(ctx, spec, fractal.GenerateOptions{KeepStates: true})
		if err != nil {
			return nil, err
		}
		gen += processCPU() - start
		start = processCPU()
		for t := 1; t <= spec.Steps; t++ {
			if _, err := e.Step(ctx, spec, t, res.States[t-1]); err != nil {
				return nil, err
			}
		}
		steps += processCPU() - start
		d, err := deliver(res, spec, key, fmt.Sprintf("cost-%d", i))
		if err != nil {
			return nil, err
		}
		videos = append(videos, d)
	}
	rep.GenerateSecs = gen.Seconds() / float64(cfg.Videos)
	rep.StepsSecs = steps.Seconds() / float64(cfg.Videos)
	rep.StepShare = min(1, steps.Seconds()/gen.Seconds())
	model := verify.CostModel{Steps: cfg.Spec.Steps, StepFraction: rep.StepShare, Frames: cfg.Spec.Frames}
	if rep.Chosen, err = verify.Choose(model, cfg.Goal, cfg.RegenProb); err != nil {
		return nil, err
	}
	rep.Policy = rep.Chosen
	rep.Policy.OpenSteps = max(rep.Policy.OpenSteps, cfg.Floor.OpenSteps)
	rep.Policy.DecodeProb = max(rep.Policy.DecodeProb, cfg.Floor.DecodeProb)
	rep.Policy.RegenProb = max(rep.Policy.RegenProb, cfg.Floor.RegenProb)
	rep.ModelCost = rep.Policy.Cost(model)
	fake := min(1, cfg.Goal.MinSaving/rep.StepShare)
	rep.Detection = rep.Policy.Detection(fake, false)
	// Measure the checks without the rare regeneration and add its
	// expected cost: a 0.5% event needs thousands of checks to be seen.
	noRegen := rep.Policy
	noRegen.RegenProb = 0
	eng := &cpuEngine{Engine: e}
	c := newChecker(eng, noRegen, rand.New(rand.NewPCG(1, 2)))
	var check time.Duration
	for _, d := range videos {
		for range cfg.Checks {
			start := processCPU()
			// All a validator does for a challenge: the frames digest the
			// client checks on receipt, then the checks.
			if d.claim.Frames.Digest() != d.claim.Receipt.Commitment.FramesDigest {
				return nil, fmt.Errorf("cost run: frames digest: %w", fractal.ErrMismatch)
			}
			v := c.Check(ctx, 0, d.claim, d)
			check += processCPU() - start
			if !v.OK {
				return nil, fmt.Errorf("cost run: an honest video failed its check: %s: %s", v.Reason, v.Detail)
			}
			rep.Checks++
		}
	}
	n := float64(rep.Checks)
	rep.CheckSecs = check.Seconds() / n
	rep.EngineSecs = eng.spent.Seconds() / n
	rep.RegenSecs = rep.Policy.RegenProb * rep.GenerateSecs
	rep.MinerSecs = gen.Seconds()
	rep.VerifierSecs = (rep.EngineSecs + rep.RegenSecs) * float64(cfg.Videos)
	rep.Ratio = (rep.EngineSecs + rep.RegenSecs) / rep.GenerateSecs
	rep.TotalRatio = (rep.CheckSecs + rep.RegenSecs) / rep.GenerateSecs
	return rep, nil
}

// cpuEngine adds up the process CPU time spent in engine calls; it is only
// meaningful while nothing else in the process works.
type cpuEngine struct {
	fractal.Engine
	spent time.Duration
}

func (e *cpuEngine) Step(ctx context.Context, spec fractal.Spec, t int, prev fractal.State) (fractal.State, error) {
	start := processCPU()
	defer func() { e.spent += processCPU() - start }()
	return e.Engine.Step(ctx, spec, t, prev)
}

func (e *cpuEngine) Generate(ctx context.Context, spec fractal.Spec, opts fractal.GenerateOptions) (*fractal.Result, error) {
	start := processCPU()
	defer func() { e.spent += processCPU() - start }()
	return e.Engine.Generate(ctx, spec, opts)
}

func (e *cpuEngine) Decode(ctx context.Context, spec fractal.Spec, final fractal.State) (*fractal.Frames, error) {
	start := processCPU()
	defer func() { e.spent += processCPU() - start }()
	return e.Engine.Decode(ctx, spec, final)
}

// DecodeFrame keeps the single-frame decode of the wrapped engine.
func (e *cpuEngine) DecodeFrame(ctx context.Context, spec fractal.Spec, final fractal.State, i int) ([]byte, error) {
	start := processCPU()
	defer func() { e.spent += processCPU() - start }()
	return fractal.DecodeFrame(ctx, e.Engine, spec, final, i)
}
