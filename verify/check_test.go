package verify_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/sr25519"
	"github.com/fractal-grid/fractal/verify"
)

// job is a generation as a miner would deliver it, with an opener serving
// its states. Tests tamper with it to play cheats.
type job struct {
	claim  fractal.Claim
	states []fractal.State
}

func testSpec(seed uint64) fractal.Spec {
	return fractal.Spec{Prompt: "two yellow stars spinning in a purple sky", Seed: seed, Frames: 4, Width: 64, Height: 64, FPS: 8, Steps: 8}
}

func honestJob(t *testing.T, eng fractal.Engine, key fractal.Signer, seed uint64) *job {
	t.Helper()
	return jobFor(t, eng, key, testSpec(seed))
}

func jobFor(t *testing.T, eng fractal.Engine, key fractal.Signer, spec fractal.Spec) *job {
	t.Helper()
	res, err := eng.Generate(context.Background(), spec, fractal.GenerateOptions{KeepStates: true})
	if err != nil {
		t.Fatal(err)
	}
	r := fractal.Receipt{RequestID: "j1", Profile: res.Profile.String(), SpecHash: spec.Hash(), Commitment: res.Commit()}
	if err := r.Sign(key); err != nil {
		t.Fatal(err)
	}
	return &job{
		claim:  fractal.Claim{RequestID: "j1", Miner: key.SS58(), Spec: spec, Profile: res.Profile, Receipt: r, Frames: res.Frames},
		states: res.States,
	}
}

func (j *job) recommit(t *testing.T, key fractal.Signer) {
	digests := make([]fractal.Digest, len(j.states))
	for i, s := range j.states {
		digests[i] = s.Digest()
	}
	r := &j.claim.Receipt
	r.Commitment = fractal.Commitment{FramesDigest: j.claim.Frames.Digest(), FramesRoot: j.claim.Frames.FrameTree().Root(), TrajectoryRoot: fractal.MerkleRoot(digests)}
	if err := r.Sign(key); err != nil {
		t.Fatal(err)
	}
}

func (j *job) opener() fractal.Opener {
	return fractal.OpenerFunc(func(ctx context.Context, steps []int) (*fractal.Openings, error) {
		digests := make([]fractal.Digest, len(j.states))
		for i, s := range j.states {
			digests[i] = s.Digest()
		}
		tree := fractal.NewMerkleTree(digests)
		resp := &fractal.Openings{TrajectoryRoot: tree.Root()}
		for _, k := range steps {
			pp, _ := tree.Proof(k - 1)
			p, _ := tree.Proof(k)
			resp.Openings = append(resp.Openings, fractal.Opening{Step: k, Prev: j.states[k-1], PrevProof: pp, State: j.states[k], Proof: p})
		}
		return resp, nil
	})
}

func failing(err error) fractal.Opener {
	return fractal.OpenerFunc(func(context.Context, []int) (*fractal.Openings, error) { return nil, err })
}

// checker checks for engines pinned from block 0 with no end.
func checker(p verify.Policy, seed uint64, engines ...fractal.Engine) *verify.Checker {
	pins := make(fractal.Pins, len(engines))
	for i, e := range engines {
		pins[i] = fractal.Pin{Profile: e.Profile()}
	}
	return &verify.Checker{Engines: verify.EnginesOf(engines...), Pins: pins, Verifier: &sr25519.Verifier{}, Policy: p, Rand: rand.New(rand.NewPCG(seed, 1))}
}

func TestHonestPasses(t *testing.T) {
	eng := refengine.New()
	key, _ := sr25519.FromURI("//Alice//miner")
	j := honestJob(t, eng, key, 5)
	c := checker(verify.Policy{OpenSteps: 3, DecodeProb: 1, RegenProb: 1}, 1, eng)
	for i := range 5 {
		v := c.Check(context.Background(), 7, j.claim, j.opener())
		if !v.OK {
			t.Fatalf("check %d: honest result failed: %+v", i, v)
		}
		if len(v.Opened) != 3 || !v.Decoded || !v.Regen || v.Profile != eng.Profile().String() {
			t.Errorf("check %d: did not run every stage under %s: %+v", i, eng.Profile(), v)
		}
	}
}

func TestCheatsFail(t *testing.T) {
	eng := refengine.New()
	key, _ := sr25519.FromURI("//Alice//miner")
	other, _ := sr25519.FromURI("//Alice//other")
	all := verify.Policy{OpenSteps: 8, DecodeProb: 1}
	for _, tc := range []struct {
		name   string
		cheat  func(t *testing.T, j *job)
		reason string
	}{
		{"random frames", func(t *testing.T, j *job) {
			for i := range j.claim.Frames.Pix {
				j.claim.Frames.Pix[i] = byte(i * 31)
			}
			j.recommit(t, key)
		}, verify.ReasonDecode},
		{"faked step", func(t *testing.T, j *job) {
			s := j.states[4].Clone()
			s.Data[0] += 0.5
			j.states[4] = s
			j.recommit(t, key)
		}, verify.ReasonStep},
		{"wrong seed", func(t *testing.T, j *job) {
			replay := honestJob(t, eng, key, 6)
			j.states, j.claim.Frames = replay.states, replay.claim.Frames
			j.recommit(t, key)
		}, verify.ReasonInitialState},
		{"receipt by another key", func(t *testing.T, j *job) { j.claim.Receipt.Sign(other) }, verify.ReasonReceipt},
		{"forged receipt", func(t *testing.T, j *job) { j.claim.Receipt.Commitment.TrajectoryRoot[0] ^= 1 }, verify.ReasonReceipt},
		{"other profile", func(t *testing.T, j *job) {
			j.claim.Profile.Version = "0"
			j.claim.Receipt.Profile = j.claim.Profile.String()
			j.claim.Receipt.Sign(key)
		}, verify.ReasonProfile},
		{"stated profile differs from the receipt's", func(t *testing.T, j *job) { j.claim.Profile.Digest[0] ^= 1 }, verify.ReasonProfile},
		{"spec swapped", func(t *testing.T, j *job) { j.claim.Spec.Seed++ }, verify.ReasonReceipt},
		{"no frames", func(t *testing.T, j *job) { j.claim.Frames = nil }, verify.ReasonFrames},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := honestJob(t, eng, key, 5)
			tc.cheat(t, j)
			v := checker(all, 2, eng).Check(context.Background(), 0, j.claim, j.opener())
			if v.OK || v.Reason != tc.reason {
				t.Errorf("got %+v, want failure %q", v, tc.reason)
			}
		})
	}
	t.Run("refuses to open", func(t *testing.T) {
		j := honestJob(t, eng, key, 5)
		v := checker(all, 3, eng).Check(context.Background(), 0, j.claim, failing(errors.New("gone")))
		if v.OK || v.Reason != verify.ReasonOpen {
			t.Errorf("got %+v, want %q", v, verify.ReasonOpen)
		}
	})
	t.Run("opening that is not a state", func(t *testing.T) {
		j := honestJob(t, eng, key, 5)
		v := checker(all, 3, eng).Check(context.Background(), 0, j.claim, failing(fmt.Errorf("step 2: %w", fractal.ErrBadOpening)))
		if v.OK || v.Reason != verify.ReasonProof || !v.Cheat() {
			t.Errorf("got %+v, want a cheat for %q", v, verify.ReasonProof)
		}
	})
}

func TestTolerantEngine(t *testing.T) {
	// A miner whose GPU adds small honest noise passes a tolerant checker,
	// while a faked step still fails.
	noisy, err := refengine.NewWithJitter(1e-5, 99)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := refengine.NewWithJitter(1e-5, 7)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := sr25519.FromURI("//Alice//miner")
	j := honestJob(t, noisy, key, 5)
	c := checker(verify.Policy{OpenSteps: 8, DecodeProb: 1, RegenProb: 1}, 4, ref)
	if v := c.Check(context.Background(), 0, j.claim, j.opener()); !v.OK {
		t.Fatalf("honest noisy miner failed: %+v", v)
	}
	s := j.states[3].Clone()
	for i := range s.Data {
		s.Data[i] *= 1.05
	}
	j.states[3] = s
	j.recommit(t, key)
	if v := c.Check(context.Background(), 0, j.claim, j.opener()); v.OK || v.Reason != verify.ReasonStep {
		t.Errorf("faked step on a tolerant profile: got %+v, want %q", v, verify.ReasonStep)
	}
}

func TestChoose(t *testing.T) {
	m := verify.CostModel{Steps: 20, StepFraction: 0.5, Frames: 16}
	p, err := verify.Choose(m, verify.DefaultGoal(), 0.005)
	if err != nil {
		t.Fatal(err)
	}
	// A cheat saving 20% fakes 40% of the steps here.
	perCheck := p.Detection(0.4, false)
	within20 := 1 - pow(1-perCheck, 20)
	if within20 < 0.99 {
		t.Errorf("policy %+v catches a 20%%-saving step skipper with %.4f within 20, want ≥ 0.99", p, within20)
	}
	if p.DecodeProb == 0 {
		t.Errorf("decode is half the cost here, so frames must be checked: %+v", p)
	}
	if c := p.Cost(m); c > 0.05 {
		t.Errorf("policy %+v costs %.3f of a generation, want ≤ 0.05", p, c)
	}
	if _, err := verify.Choose(verify.CostModel{}, verify.DefaultGoal(), 0); !errors.Is(err, fractal.ErrInvalid) {
		t.Errorf("empty cost model: got %v, want ErrInvalid", err)
	}
}

func pow(x float64, n int) float64 {
	r := 1.0
	for range n {
		r *= x
	}
	return r
}

func TestLateOpeningIsNotACheat(t *testing.T) {
	eng := refengine.New()
	key, _ := sr25519.FromURI("//Alice//miner")
	j := honestJob(t, eng, key, 5)
	for _, err := range []error{context.DeadlineExceeded, fmt.Errorf("dial: %w", fractal.ErrUnavailable)} {
		v := checker(verify.Policy{OpenSteps: 2}, 5, eng).Check(context.Background(), 0, j.claim, failing(err))
		if v.OK || v.Reason != verify.ReasonOpenLate || v.Cheat() {
			t.Errorf("opening failed with %v: got %+v (cheat %v), want a late failure that is no cheat", err, v, v.Cheat())
		}
	}
	v := checker(verify.Policy{OpenSteps: 2}, 5, eng).Check(context.Background(), 0, j.claim, failing(fmt.Errorf("job is not retained: %w", fractal.ErrNotFound)))
	if v.Reason != verify.ReasonOpen || !v.Cheat() {
		t.Errorf("a miner that lost its commitment: got %+v, want a cheat", v)
	}
}
