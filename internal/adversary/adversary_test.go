package adversary_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/fractal-grid/fractal/internal/adversary"
	"github.com/fractal-grid/fractal/internal/gridtest"
	"github.com/fractal-grid/fractal/validator"
	"github.com/fractal-grid/fractal/verify"
)

// shortConfig is a suite of three challenges per miner whose checks open
// every step and decode a frame each time, so each cheat is caught on every
// challenge and the test does not depend on luck.
func shortConfig(t *testing.T) adversary.Config {
	cfg := adversary.DefaultConfig(t.TempDir())
	cfg.Challenges = 3
	cfg.Honest = 2
	cfg.Sybils = 2
	cfg.Policy = verify.Policy{OpenSteps: 8, DecodeProb: 1}
	// The default device (about 270 ms a video): speed, not the test's
	// CPUs, decides the timings; the rounds last the timeout anyway.
	cfg.ChallengeTimeout = 4 * time.Second
	cfg.FlakyRate = 0.5 // fails its first job and every other one
	cfg.CorpusSize = 40
	cfg.UsersLoad = 0 // TestUsersLoad runs users' jobs
	cfg.Logger = gridtest.Logger(t)
	// The cheats that hide need users' jobs: TestHidingCheatsLive.
	cfg.Strategies = slices.DeleteFunc(adversary.AllCheats(), func(s string) bool { return slices.Contains(adversary.HiddenCheats(), s) })
	return cfg
}

// TestHidingCheatsLive: the plain hiding cheats as live miners among users'
// jobs, every job verified and every step opened. The refuse-openings
// cheat fakes steps on every job and ends every verification refused; no
// hiding cheat is caught on more jobs than it cheated on, and the honest
// miners never fail a check.
func TestHidingCheatsLive(t *testing.T) {
	cfg := adversary.DefaultConfig(t.TempDir())
	cfg.Challenges, cfg.Honest = 4, 2
	cfg.Strategies = []string{adversary.NameRefuseOpenings, adversary.NameOrganicOnly, adversary.NameUnderLoad}
	cfg.UsersLoad, cfg.OrganicSample = 0.3, 1
	cfg.Policy = verify.Policy{OpenSteps: 8, DecodeProb: 1}
	cfg.CorpusSize = 40
	cfg.Logger = gridtest.Logger(t)
	rep := run(t, cfg)
	honest := mustStrategy(t, rep, adversary.NameHonest)
	// Once the cheats are caught the gateways send the honest miners most
	// of the users' load, so a challenge may time out; none fails a check.
	if honest.Caught != 0 || honest.OrganicFailed != 0 {
		t.Errorf("honest miners: %d challenges (%v) and %d users' jobs failed a check, want none", honest.Caught, honest.Reasons, honest.OrganicFailed)
	}
	if len(rep.Hidden) != len(cfg.Strategies) {
		t.Fatalf("got %d hiding cheats' reports, want %d", len(rep.Hidden), len(cfg.Strategies))
	}
	for _, h := range rep.Hidden {
		t.Logf("%-16s jobs %d cheated %d verified %d (%d challenges, %d users') detected %d %v saving %.2f within 20 %.3f",
			h.Name, h.Jobs, h.Cheated, h.Verified, h.Challenges, h.Organic, h.Detected, h.Reasons, h.Saving, h.Within20)
		if h.Verified+h.Unanswered < cfg.Challenges || h.Detected > h.Cheated {
			t.Errorf("%s: verified %d (%d unanswered), detected %d of %d cheated; want at least %d asked and no detection beyond its cheats",
				h.Name, h.Verified, h.Unanswered, h.Detected, h.Cheated, cfg.Challenges)
		}
	}
	refuse := rep.Hidden[0]
	if refuse.Cheated != refuse.Jobs || refuse.Detected == 0 || refuse.Reasons[verify.ReasonOpenRefused] != refuse.Detected {
		t.Errorf("refuse-openings: cheated %d of %d jobs, detected %d %v; want every job cheated and every detection open_refused",
			refuse.Cheated, refuse.Jobs, refuse.Detected, refuse.Reasons)
	}
	if s := rep.Sweeps; s == nil || s.Sweeps != cfg.Challenges || s.ChallengeGPUSecs <= 0 || s.UsersGPUSecs <= 0 {
		t.Errorf("sweeps: %+v, want %d sweeps and device time on challenges and users' jobs", s, cfg.Challenges)
	} else {
		t.Logf("sweeps: %+v", *s)
	}
}

// TestUsersLoad: users' jobs submitted in turn to the validator's own
// gateway and to a replica reach the miners and the validator verifies
// them (all of them here), apart from the challenges: the honest miners'
// pass, and they still pass every challenge.
func TestUsersLoad(t *testing.T) {
	cfg := adversary.DefaultConfig(t.TempDir())
	cfg.Challenges, cfg.Honest, cfg.Strategies = 6, 2, []string{adversary.NameLazy}
	cfg.UsersLoad, cfg.OrganicSample = 0.3, 1
	cfg.Policy = verify.Policy{OpenSteps: 8, DecodeProb: 1}
	cfg.CorpusSize = 40
	cfg.Logger = gridtest.Logger(t)
	rep := run(t, cfg)
	u := rep.Users
	if u == nil {
		t.Fatal("no users' report")
	}
	t.Logf("users: %+v", *u)
	if u.Submitted["validator"] < 1 || u.Submitted["replica"] < 1 || u.Refused != 0 {
		t.Errorf("submitted %v, refused %d; want jobs through both gateways and none refused", u.Submitted, u.Refused)
	}
	honest := mustStrategy(t, rep, adversary.NameHonest)
	if honest.Organic < 1 || honest.OrganicFailed != 0 {
		t.Errorf("honest miners: %d users' jobs verified, %d failed; want some, none failed", honest.Organic, honest.OrganicFailed)
	}
	if honest.Detected != 0 || honest.Challenges < cfg.Honest*cfg.Challenges {
		t.Errorf("honest miners: %d of %d challenges failed, want 0 of at least %d", honest.Detected, honest.Challenges, cfg.Honest*cfg.Challenges)
	}
	if u.Verified < honest.Organic {
		t.Errorf("%d users' jobs verified in all, fewer than the honest miners' %d", u.Verified, honest.Organic)
	}
}

func run(t *testing.T, cfg adversary.Config) *adversary.Report {
	t.Helper()
	rep, err := adversary.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rep.Strategies {
		t.Logf("%-12s challenges %d detected %d caught %d reasons %v weight %.3f saving %.2f",
			s.Name, s.Challenges, s.Detected, s.Caught, s.Reasons, s.WeightShare, s.Saving)
	}
	for _, m := range rep.Miners {
		t.Logf("%-16s uid %-2d tier %d success %.3f sweeps %v weight %.3f", m.Strategy, m.UID, m.Tier, m.Success, m.SweepSecs, m.Weight)
	}
	return rep
}

func mustStrategy(t *testing.T, rep *adversary.Report, name string) adversary.StrategyReport {
	t.Helper()
	s, ok := rep.Strategy(name)
	if !ok {
		t.Fatalf("no report for %s", name)
	}
	return s
}

// TestSuiteCatchesEveryCheat runs the challenges through the gateways'
// queue, as the suite does by default (TestTolerantPath sends them
// directly).
func TestSuiteCatchesEveryCheat(t *testing.T) {
	cfg := shortConfig(t)
	rep := run(t, cfg)
	if rep.ChallengePath != validator.ChallengeQueue {
		t.Errorf("challenges went %s, want through the queue", rep.ChallengePath)
	}
	honest := mustStrategy(t, rep, adversary.NameHonest)
	if honest.Detected != 0 || honest.Challenges < cfg.Honest*cfg.Challenges {
		t.Errorf("honest: %d of %d challenges failed (%v), want 0 of at least %d", honest.Detected, honest.Challenges, honest.Reasons, cfg.Honest*cfg.Challenges)
	}
	// Three rounds are too few for speed to separate the Sybil from the
	// honest miners (bench verify runs twenty); the rest share nothing.
	if honest.WeightShare < 0.25 {
		t.Errorf("honest weight share %.3f, want at least a quarter", honest.WeightShare)
	}
	for _, name := range adversary.VerificationCheats() {
		t.Run(name, func(t *testing.T) {
			s := mustStrategy(t, rep, name)
			if s.Caught != s.Challenges || s.Challenges < cfg.Challenges {
				t.Errorf("caught %d of %d challenges (%v), want all of at least %d", s.Caught, s.Challenges, s.Reasons, cfg.Challenges)
			}
			if s.WeightShare != 0 {
				t.Errorf("weight share %.4f, want 0", s.WeightShare)
			}
		})
	}
	t.Run(adversary.NameSlow, func(t *testing.T) {
		s := mustStrategy(t, rep, adversary.NameSlow)
		if s.Reasons[validator.ReasonTimeout] != s.Challenges || s.Caught != 0 || s.WeightShare != 0 {
			t.Errorf("got %+v, want every challenge timed out, none a failed check, no weight", s)
		}
	})
	t.Run(adversary.NameFlaky, func(t *testing.T) {
		s := mustStrategy(t, rep, adversary.NameFlaky)
		if s.Detected < 1 || s.Caught != 0 {
			t.Errorf("got %+v, want failed jobs that are not failed checks", s)
		}
	})
	t.Run(adversary.NameSybil, func(t *testing.T) {
		s := mustStrategy(t, rep, adversary.NameSybil)
		// Its answers are true results from a shared GPU: not a failed
		// check. (Its weight share needs more rounds: bench verify.)
		if s.Hotkeys != cfg.Sybils || s.Caught != 0 {
			t.Errorf("got %+v, want %d hotkeys and no failed check", s, cfg.Sybils)
		}
		// Its hotkeys share a coldkey: challenged in one burst, they queue
		// for the GPU, and the earlier answers are timed by the later ones.
		if s.Bursts == 0 {
			t.Errorf("no pass timed by the operator's burst in %d challenges, want some", s.Challenges)
		}
		// Served in turn, its later hotkeys are what the linker looks at.
		n := 0
		for _, ls := range rep.Linker.Samples {
			if ls.Strategy == adversary.NameSybil {
				n++
			}
		}
		if rep.Linker.Sweeps != cfg.Challenges || n == 0 {
			t.Errorf("linker report of %d sweeps with %d samples of the Sybil, want %d sweeps and some", rep.Linker.Sweeps, n, cfg.Challenges)
		}
	})
	for _, n := range cfg.UnlinkedSizes {
		t.Run(adversary.UnlinkedName(n), func(t *testing.T) {
			s := mustStrategy(t, rep, adversary.UnlinkedName(n))
			// Nothing links its hotkeys, so no burst groups them: each is
			// timed by its own answer in the round that asks every miner
			// at once, queued behind its siblings on the one GPU.
			if s.Hotkeys != n || s.Caught != 0 || s.Bursts != 0 {
				t.Errorf("got %+v, want %d hotkeys, no failed check, no burst", s, n)
			}
		})
	}
	// On public addresses, each operator has one of its own and each hotkey
	// of an unlinkable Sybil another: the validator groups by address.
	addrs := map[string]string{} // operator group → strategy
	for _, m := range rep.Miners {
		if prev, ok := addrs[m.Operator]; ok && prev != m.Strategy {
			t.Errorf("%s grouped with %s as operator %s, want operators apart", m.Strategy, prev, m.Operator)
		}
		addrs[m.Operator] = m.Strategy
	}
	if honest.Bursts != 0 {
		t.Errorf("%d honest passes timed by a burst, want 0: each honest miner is its own operator", honest.Bursts)
	}
	if !rep.WeightsSet {
		t.Error("weights were not set on chain")
	}
}

func TestTolerantPath(t *testing.T) {
	cfg := shortConfig(t)
	cfg.Tolerant = true
	cfg.Strategies = adversary.VerificationCheats()
	cfg.ChallengePath = validator.ChallengeDirect
	rep := run(t, cfg)
	if rep.ChallengePath != validator.ChallengeDirect {
		t.Errorf("challenges went %s, want direct", rep.ChallengePath)
	}
	honest := mustStrategy(t, rep, adversary.NameHonest)
	if honest.Detected != 0 || honest.Challenges < cfg.Honest*cfg.Challenges {
		t.Errorf("noisy honest miners: %d of %d challenges failed (%v), want none", honest.Detected, honest.Challenges, honest.Reasons)
	}
	for _, s := range rep.Strategies {
		if s.Name == adversary.NameHonest {
			continue
		}
		if !slices.Contains(cfg.Strategies, s.Name) {
			t.Errorf("unexpected strategy %s", s.Name)
		}
		if s.Caught != s.Challenges || s.Challenges < cfg.Challenges {
			t.Errorf("%s: caught %d of %d (%v), want all", s.Name, s.Caught, s.Challenges, s.Reasons)
		}
	}
}
