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

// Cheats that hide: each fakes every other step (skip-half) but only where
// it hopes not to be looked at, and answers honestly otherwise.
const (
	NameRefuseOpenings = "refuse-openings" // answers 503 to any opening of a faked step
	NameOrganicOnly    = "organic-only"    // cheats on the jobs its classifier calls users'
	NameUnderLoad      = "under-load"      // cheats while another job is queued or running
)

// HiddenCheats lists them in report order.
func HiddenCheats() []string { return []string{NameRefuseOpenings, NameOrganicOnly, NameUnderLoad} }

// HiddenConfig sets up the in-process run of the hiding cheats: each serves
// Jobs jobs, a share ChallengeShare of them the validator's challenges and
// the rest users' jobs, of which the validator verifies OrganicSample (times
// validator.SampleBoost for a job taken under load).
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

// HiddenReport is what the run measured of one hiding cheat. A detection
// is a job the validator verified and failed as a cheat; Within20 is the
// chance of at least one in 20 of the cheat's jobs at the measured rate.
type HiddenReport struct {
	Name       string         `json:"name"`
	Jobs       int            `json:"jobs"`
	Cheated    int            `json:"cheated"`  // jobs it faked steps on
	Verified   int            `json:"verified"` // jobs the validator checked
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
	organic := OrganicPrompts()
	// The organic-only cheat trains on half of the users' prompts and as
	// many challenges; its jobs are drawn from the other half.
	r := rand.New(rand.NewPCG(23, 29))
	var train []string
	var labels []bool
	var heldOut []string
	for i, p := range organic {
		if i%2 == 0 {
			train, labels = append(train, p, corpus.Draw(r)), append(labels, false, true)
		} else {
			heldOut = append(heldOut, p)
		}
	}
	cls := NewClassifier(refengine.Words())
	cls.Train(train, labels)
	var out []HiddenReport
	for _, name := range HiddenCheats() {
		rep, err := runHidden(ctx, cfg, name, key, corpus, cls, heldOut, r)
		if err != nil {
			return nil, err
		}
		if name == NameOrganicOnly {
			var ch, og []float64
			for range len(heldOut) {
				ch = append(ch, cls.Challenge(corpus.Draw(r)))
			}
			for _, p := range heldOut {
				og = append(og, cls.Challenge(p))
			}
			rep.Classifier = AUC(ch, og)
		}
		out = append(out, rep)
	}
	return out, nil
}

func runHidden(ctx context.Context, cfg HiddenConfig, name string, key *sr25519.Keypair, corpus *validator.Corpus, cls *Classifier, heldOut []string, r *rand.Rand) (HiddenReport, error) {
	base := refengine.New()
	skip := SkipSteps{Label: NameSkipHalf, Period: 2, Fake: 1, StepShare: cfg.StepShare}
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
		cheat := true
		switch name {
		case NameOrganicOnly:
			cheat = cls.Challenge(prompt) < 0.5
		case NameUnderLoad:
			cheat = loaded
		}
		rate := cfg.OrganicSample
		if loaded {
			rate *= validator.SampleBoost
		}
		checked := challenge || r.Float64() < min(rate, 1)
		rep.Jobs++
		spec := fractal.Spec{Prompt: prompt, Seed: r.Uint64(), Width: s.Width, Height: s.Height, Frames: s.Frames, FPS: s.FPS, Steps: s.Steps}
		strat := Strategy(Honest{})
		if cheat {
			strat = skip
			rep.Cheated++
		}
		res, w, err := strat.Produce(ctx, base, spec)
		if err != nil {
			return rep, err
		}
		work += w
		if !checked {
			continue
		}
		d, err := deliver(res, spec, key, fmt.Sprintf("hidden-%d", i))
		if err != nil {
			return rep, err
		}
		var open fractal.Opener = d
		if name == NameRefuseOpenings && cheat {
			open = refusing{d: d, period: skip.Period, fake: skip.Fake}
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
// any opening that includes a faked step (every step t with t%period <
// fake): the late opening a loaded miner could plead.
type refusing struct {
	d            *delivery
	period, fake int
}

func (o refusing) Open(ctx context.Context, steps []int) (*fractal.Openings, error) {
	for _, k := range steps {
		if k%o.period < o.fake {
			return nil, fmt.Errorf("busy: %w", fractal.ErrUnavailable)
		}
	}
	return o.d.Open(ctx, steps)
}
