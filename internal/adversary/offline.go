package adversary

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/sr25519"
	"github.com/fractal-grid/fractal/validator"
	"github.com/fractal-grid/fractal/verify"
)

// delivery is a result as a miner delivers it: the claim with a signed
// receipt, and the committed states with their tree, so it can be opened
// like a miner opens it. No HTTP: the checks are the same.
type delivery struct {
	claim  fractal.Claim
	states []fractal.State
	tree   *fractal.MerkleTree
}

func deliver(res *fractal.Result, spec fractal.Spec, key fractal.Signer, jobID string) (*delivery, error) {
	r := fractal.Receipt{RequestID: jobID, Profile: res.Profile.String(), SpecHash: spec.Hash(), Commitment: res.Commit()}
	if err := r.Sign(key); err != nil {
		return nil, err
	}
	return &delivery{
		claim:  fractal.Claim{RequestID: jobID, Miner: key.SS58(), Spec: spec, Profile: res.Profile, Receipt: r, Frames: res.Frames},
		states: res.States,
		tree:   fractal.NewMerkleTree(res.StateDigests),
	}, nil
}

// Open opens steps of the delivery like its miner would.
func (d *delivery) Open(ctx context.Context, steps []int) (*fractal.Openings, error) {
	resp := &fractal.Openings{TrajectoryRoot: d.tree.Root()}
	for _, k := range steps {
		if k < 1 || k >= len(d.states) {
			return nil, fmt.Errorf("step %d: %w", k, fractal.ErrNotFound)
		}
		pp, err := d.tree.Proof(k - 1)
		if err != nil {
			return nil, err
		}
		p, err := d.tree.Proof(k)
		if err != nil {
			return nil, err
		}
		resp.Openings = append(resp.Openings, fractal.Opening{
			Step: k, Prev: d.states[k-1], PrevProof: pp, State: d.states[k], Proof: p,
		})
	}
	return resp, nil
}

var _ fractal.Opener = (*delivery)(nil)

// newChecker returns a checker that verifies with eng alone, its profile
// pinned from block 0 for good.
func newChecker(eng fractal.Engine, p verify.Policy, r *rand.Rand) *verify.Checker {
	return &verify.Checker{Engines: verify.EnginesOf(eng), Pins: fractal.PinsOf(eng.Profile()), Verifier: &sr25519.Verifier{}, Policy: p, Rand: r}
}

// HonestConfig sets up the false-positive run.
type HonestConfig struct {
	Verifications int           // honest checks in all (10,000)
	PerResult     int           // checks of each generated result
	Policy        verify.Policy // the checks' policy
	Shapes        []validator.Shape
}

// DefaultHonestConfig checks 10,000 times, twenty checks per result, each
// opening at least two steps and decoding a frame, and one in a hundred
// regenerating: stricter than the policy p it starts from.
func DefaultHonestConfig(p verify.Policy) HonestConfig {
	p.OpenSteps, p.DecodeProb, p.RegenProb = max(p.OpenSteps, 2), 1, max(p.RegenProb, 0.01)
	return HonestConfig{
		Verifications: 10_000,
		PerResult:     20,
		Policy:        p,
		Shapes: []validator.Shape{
			{Width: 64, Height: 64, Frames: 4, FPS: 8, Steps: 8},
			{Width: 96, Height: 64, Frames: 3, FPS: 12, Steps: 12},
			{Width: 64, Height: 128, Frames: 2, FPS: 8, Steps: 6},
		},
	}
}

// HonestReport counts honest verifications and the false accusations
// among them.
type HonestReport struct {
	Verifications  int            `json:"verifications"`
	Exact          int            `json:"exact"`
	Tolerant       int            `json:"tolerant"`
	FalsePositives int            `json:"false_positives"`
	Reasons        map[string]int `json:"reasons,omitempty"`
	Internal       int            `json:"verifier_errors"`
	Policy         verify.Policy  `json:"policy"`
	Seconds        float64        `json:"wall_s"`
}

// CheckHonest generates honest results (half from the exact engine, half
// from jittered engines, each with its own noise, checked by a tolerant
// verifier with noise of its own) and verifies each PerResult times with
// fresh random steps.
func CheckHonest(ctx context.Context, cfg HonestConfig) (*HonestReport, error) {
	if cfg.Verifications < 1 || cfg.PerResult < 1 || len(cfg.Shapes) == 0 {
		return nil, fmt.Errorf("honest run %+v: %w", cfg, fractal.ErrInvalid)
	}
	if err := cfg.Policy.Validate(); err != nil {
		return nil, err
	}
	start := time.Now()
	key, err := sr25519.FromURI("//Alice//adversary-honest")
	if err != nil {
		return nil, err
	}
	corpus, err := validator.NewCorpus(refengine.Words(), validator.DefaultConfig().CorpusSize)
	if err != nil {
		return nil, err
	}
	exactChecker := refengine.New()
	tolerantChecker, err := refengine.NewWithJitter(honestJitter, 7)
	if err != nil {
		return nil, err
	}
	results := (cfg.Verifications + cfg.PerResult - 1) / cfg.PerResult
	rep := &HonestReport{Policy: cfg.Policy, Reasons: map[string]int{}}
	var mu sync.Mutex
	var firstErr error
	next := make(chan int)
	var wg sync.WaitGroup
	for w := range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 0xfa15e))
			for i := range next {
				n := min(cfg.PerResult, cfg.Verifications-i*cfg.PerResult)
				tolerant := i%2 == 1
				miner, checker := fractal.Engine(refengine.New()), fractal.Engine(exactChecker)
				if tolerant {
					jm, err := refengine.NewWithJitter(honestJitter, uint64(1000+i))
					if err != nil {
						mu.Lock()
						firstErr = err
						mu.Unlock()
						continue
					}
					miner, checker = jm, tolerantChecker
				}
				s := cfg.Shapes[i%len(cfg.Shapes)]
				spec := fractal.Spec{Prompt: corpus.Draw(r), Seed: r.Uint64(), Width: s.Width, Height: s.Height, Frames: s.Frames, FPS: s.FPS, Steps: s.Steps}
				verdicts, err := checkResult(ctx, miner, checker, spec, key, cfg.Policy, n, r.Uint64())
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				for _, v := range verdicts {
					rep.Verifications++
					if tolerant {
						rep.Tolerant++
					} else {
						rep.Exact++
					}
					switch {
					case v.Internal:
						rep.Internal++
					case !v.OK:
						rep.FalsePositives++
						rep.Reasons[v.Reason]++
					}
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < results && ctx.Err() == nil; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	rep.Seconds = time.Since(start).Seconds()
	return rep, firstErr
}

// checkResult generates spec with miner and checks it n times.
func checkResult(ctx context.Context, miner, checker fractal.Engine, spec fractal.Spec, key *sr25519.Keypair, p verify.Policy, n int, seed uint64) ([]verify.Verdict, error) {
	res, err := miner.Generate(ctx, spec, fractal.GenerateOptions{KeepStates: true})
	if err != nil {
		return nil, err
	}
	d, err := deliver(res, spec, key, fmt.Sprintf("honest-%x", seed))
	if err != nil {
		return nil, err
	}
	c := newChecker(checker, p, rand.New(rand.NewPCG(seed, 3)))
	out := make([]verify.Verdict, 0, n)
	for range n {
		out = append(out, c.Check(ctx, 0, d.claim, d))
	}
	return out, nil
}

// OfflineDetection is how often the checks catch a strategy over many
// in-process trials, each a fresh challenge.
type OfflineDetection struct {
	Trials   int     `json:"trials"`
	Detected int     `json:"detected"`
	Rate     float64 `json:"per_challenge"`
}

// DetectOffline runs trials challenges of each verification cheat through
// the checks, without HTTP: a fresh seed per trial on a corpus prompt, which
// the replay cheat has in its cache.
func DetectOffline(ctx context.Context, cfg Config, trials int) (map[string]OfflineDetection, error) {
	key, err := sr25519.FromURI("//Alice//adversary-offline")
	if err != nil {
		return nil, err
	}
	corpus, err := validator.NewCorpus(refengine.Words(), cfg.CorpusSize)
	if err != nil {
		return nil, err
	}
	base, err := baseEngine(cfg, 0)
	if err != nil {
		return nil, err
	}
	checker, err := baseEngine(cfg, 1)
	if err != nil {
		return nil, err
	}
	s := cfg.Shape
	shape := fractal.Spec{Width: s.Width, Height: s.Height, Frames: s.Frames, FPS: s.FPS, Steps: s.Steps}
	out := map[string]OfflineDetection{}
	r := rand.New(rand.NewPCG(11, 13))
	if cfg.Tolerant {
		r = rand.New(rand.NewPCG(17, 19))
	}
	for _, name := range VerificationCheats() {
		strat := plainStrategy(name, cfg)
		c := newChecker(checker, cfg.Policy, rand.New(rand.NewPCG(r.Uint64(), 5)))
		var od OfflineDetection
		for i := range trials {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			prompt := corpus.Prompts()[r.IntN(corpus.Len())]
			if rp, ok := strat.(*Replay); ok {
				if err := rp.Warm(ctx, base, []string{prompt}, shape); err != nil {
					return nil, err
				}
			}
			spec := shape
			spec.Prompt, spec.Seed = prompt, r.Uint64()
			res, _, err := strat.Produce(ctx, base, spec)
			if err != nil {
				return nil, err
			}
			d, err := deliver(res, spec, key, fmt.Sprintf("offline-%d", i))
			if err != nil {
				return nil, err
			}
			v := c.Check(ctx, 0, d.claim, d)
			if v.Internal {
				return nil, fmt.Errorf("%s trial %d: verifier error: %s", name, i, v.Detail)
			}
			od.Trials++
			if !v.OK {
				od.Detected++
			}
		}
		od.Rate = float64(od.Detected) / float64(max(od.Trials, 1))
		out[name] = od
	}
	return out, nil
}
