package adversary

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/jetstream"
	"github.com/fractal-grid/fractal/localgrid"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/validator"
)

type fielded struct {
	strategy string
	hotkey   string
	device   *Device
	hiding   *Hiding // a hiding cheat's strategy, for its counts
}

// Run builds the grid, runs Challenges rounds of a real validator against
// it and reports per strategy.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	start := time.Now()
	g, err := newGrid(ctx, logger, cfg.Public)
	if err != nil {
		return nil, err
	}
	defer g.close()
	seeds := newUserSeeds()
	miners, err := field(ctx, g, cfg, seeds)
	if err != nil {
		return nil, err
	}
	st, err := jetstream.Open(ctx, jetstream.DefaultConfig(cfg.Dir))
	if err != nil {
		return nil, err
	}
	defer st.Close()
	v, checker, err := newValidator(ctx, g, st, cfg, len(miners), logger)
	if err != nil {
		return nil, err
	}
	defer v.Close()
	var load *users
	stopConsumer := func() {}
	queued := cfg.ChallengePath == validator.ChallengeQueue
	if cfg.UsersLoad > 0 && !queued { // on the queue path the validator consumes the store's logs itself
		v.Samples, v.Blobs = st.Queue(), st.Blobs()
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); v.ConsumeSamples(cctx) }()
		stopConsumer = func() { cancel(); <-done }
		defer stopConsumer()
	}
	if cfg.UsersLoad > 0 || queued { // the users' gateways send the queued challenges
		if load, err = startUsers(ctx, cfg, g, st, v.KV, v, devices(miners), seeds, logger); err != nil {
			return nil, err
		}
		defer load.stop()
	}
	// Each round is a sweep: its challenges' records, read as it ends,
	// are what the validator's linker saw of it.
	var sweeps [][]validator.Record
	from := uint64(1)
	for range cfg.Challenges {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		v.Round(ctx)
		var recs []validator.Record
		if recs, from, err = readAudit(ctx, st.Audit(), from); err != nil {
			return nil, err
		}
		sweeps = append(sweeps, recs)
	}
	rep := &Report{Tolerant: cfg.Tolerant, Policy: cfg.Policy, Challenges: cfg.Challenges, ChallengePath: cfg.ChallengePath}
	if load != nil && cfg.UsersLoad > 0 {
		ur := load.stop()
		stopConsumer()
		rep.Users = &ur
	}
	// Late openings are asked again in the background: let the last
	// ones run out before the audit log is read.
	if err := sleepCtx(ctx, reopenSpan(v.Config.OpenRetryDelay, v.Config.OpenRetries)+time.Second); err != nil {
		return nil, err
	}
	if err := tally(ctx, rep, st.Audit(), miners, cfg); err != nil {
		return nil, err
	}
	shares(ctx, rep, g, v, miners)
	block, err := g.chain.Advance(1)
	if err == nil {
		err = v.SetWeights(ctx, block)
	}
	rep.WeightsSet = err == nil
	if err != nil {
		logger.Warn("set_weights at the end of the suite failed", slog.Any("err", err))
	}
	rep.VerifierEngineSecs = checker.elapsed().Seconds()
	seen := map[*Device]bool{}
	for _, m := range miners {
		if !seen[m.device] {
			seen[m.device] = true
			rep.MinerEngineSecs += m.device.Usage().EngineTime.Seconds()
		}
	}
	if rep.Users != nil {
		for _, s := range rep.Strategies {
			rep.Users.Verified += s.Organic
			rep.Users.VerifiedFailed += s.OrganicFailed
		}
	}
	rep.Seconds = time.Since(start).Seconds()
	rep.Sweeps = sweepCost(cfg, miners, rep.Seconds)
	rep.Linker = linkerTimings(miners, sweeps, v.Operators())
	return rep, nil
}

// reopenSpan is how long the validator's retries of one late opening take:
// delay·(2^n − 1).
func reopenSpan(delay time.Duration, n int) time.Duration {
	return delay * time.Duration((1<<n)-1)
}

// devices counts the modelled GPUs the miners run on.
func devices(miners []fielded) int {
	seen := map[*Device]bool{}
	for _, m := range miners {
		seen[m.device] = true
	}
	return len(seen)
}

// baseEngine returns the model the i-th miner runs: the exact reference
// engine, or in a tolerant suite a jittered one with its own noise.
func baseEngine(cfg Config, i int) (*refengine.Engine, error) {
	if !cfg.Tolerant {
		return refengine.New(), nil
	}
	return refengine.NewWithJitter(honestJitter, uint64(1000+i))
}

// field starts the honest miners and the cheats.
func field(ctx context.Context, g *grid, cfg Config, seeds *userSeeds) ([]fielded, error) {
	names := cfg.Strategies
	if names == nil {
		names = AllCheats()
	}
	var out []fielded
	operator := 0 // each device is one operator with its own coldkey
	add := func(s Strategy, dev *Device) error {
		base, err := baseEngine(cfg, len(out))
		if err != nil {
			return err
		}
		if r, ok := s.(*Replay); ok {
			if err := warmReplay(ctx, r, base, cfg); err != nil {
				return err
			}
		}
		m, err := g.addMiner(ctx, &Engine{Base: base, Strategy: s, Device: dev, users: seeds}, operator)
		if err != nil {
			return fmt.Errorf("start %s miner: %w", s.Name(), err)
		}
		f := fielded{strategy: s.Name(), hotkey: m.Hotkey.SS58(), device: dev}
		if h, ok := s.(*Hiding); ok {
			// Its own front, at the address it announces: it sees its
			// queue and refuses the openings it will not answer.
			if err := g.front(ctx, m, h, operator); err != nil {
				return fmt.Errorf("start %s miner: %w", s.Name(), err)
			}
			f.hiding = h
		}
		out = append(out, f)
		return nil
	}
	for i := range cfg.Honest {
		if err := add(Honest{}, NewDevice(cfg.DevicePerCost)); err != nil {
			return nil, err
		}
		if (i+1)%cfg.HonestPerOperator == 0 || i+1 == cfg.Honest {
			operator++
		}
	}
	for _, name := range names {
		if name == NameSybil {
			worker, dev := NewSybil(), NewDevice(cfg.DevicePerCost)
			for range cfg.Sybils {
				if err := add(worker, dev); err != nil {
					return nil, err
				}
			}
			operator++
			continue
		}
		if name == NameSybilUnlinked {
			for _, n := range cfg.UnlinkedSizes {
				worker, dev := Unlinked{Sybil: NewSybil(), Hotkeys: n}, NewDevice(cfg.DevicePerCost)
				for range n {
					if err := add(worker, dev); err != nil {
						return nil, err
					}
					operator++ // a coldkey (and address) per hotkey
				}
			}
			continue
		}
		s, err := newStrategy(name, cfg)
		if err != nil {
			return nil, err
		}
		if err := add(s, NewDevice(cfg.DevicePerCost)); err != nil {
			return nil, err
		}
		operator++
	}
	return out, nil
}

// newStrategy returns the named cheat (not Sybil, which spans miners).
func newStrategy(name string, cfg Config) (Strategy, error) {
	if isHiding(name) {
		return NewHiding(name, cfg.StepShare, refengine.Words())
	}
	return plainStrategy(name, cfg), nil
}

func plainStrategy(name string, cfg Config) Strategy {
	switch name {
	case NameLazy:
		return Lazy{}
	case NameFakeFrames:
		return FakeFrames{StepShare: cfg.StepShare}
	case NameReplay:
		return NewReplay(refengine.Words())
	case NameSkipHalf:
		return SkipSteps{Label: NameSkipHalf, Period: 2, Fake: 1, StepShare: cfg.StepShare}
	case NameSkipFourth:
		return SkipSteps{Label: NameSkipFourth, Period: 4, Fake: 1, Extrapolate: true, StepShare: cfg.StepShare}
	case NameLowSteps:
		return LowSteps{Divisor: 2, StepShare: cfg.StepShare}
	case NameWrongModel:
		return WrongModel{}
	case NameSlow:
		return Slow{Delay: 2 * cfg.ChallengeTimeout}
	case NameFlaky:
		return &Flaky{Rate: cfg.FlakyRate, Phase: 10}
	}
	panic("adversary: unknown strategy " + name)
}

// warmReplay fills the replay cheat's cache from the validator's public
// corpus, at the suite's shape.
func warmReplay(ctx context.Context, r *Replay, base *refengine.Engine, cfg Config) error {
	corpus, err := validator.NewCorpus(refengine.Words(), cfg.CorpusSize)
	if err != nil {
		return err
	}
	s := cfg.Shape
	return r.Warm(ctx, base, corpus.Prompts(), fractal.Spec{Width: s.Width, Height: s.Height, Frames: s.Frames, FPS: s.FPS, Steps: s.Steps})
}

// newValidator opens a real validator on the grid that challenges every
// miner each round, all at once.
func newValidator(ctx context.Context, g *grid, st *jetstream.Store, cfg Config, miners int, logger *slog.Logger) (*validator.Validator, *timedEngine, error) {
	kv, err := st.KV(ctx, "validator", 0)
	if err != nil {
		return nil, nil, err
	}
	v := validator.New()
	c := &v.Config
	c.NetUID = netUID
	c.AllowPrivateAxons = !cfg.Public
	c.PerRound = miners
	c.Parallel = min(256, 2*miners)
	c.SweepsPerTempo = 1e6 // every round a sweep: every miner at once, timed as swept
	c.SharedProb = cfg.SharedProb
	c.Shapes = []validator.Shape{cfg.Shape}
	c.ChallengeTimeout = cfg.ChallengeTimeout
	c.SecsPerCost = 0
	c.Policy = cfg.Policy
	c.CorpusSize = cfg.CorpusSize
	c.OrganicSample = cfg.OrganicSample
	c.OpenRetryDelay = cfg.OpenRetryDelay
	var base *refengine.Engine
	if cfg.Tolerant {
		if base, err = refengine.NewWithJitter(honestJitter, 7); err != nil {
			return nil, nil, err
		}
	} else {
		base = refengine.New()
	}
	checker := &timedEngine{Engine: base}
	v.Engine, v.Hotkey, v.Chain, v.KV, v.Audit = checker, g.validator, g.chain, kv, st.Audit()
	v.Words, v.Logger = refengine.Words(), logger
	if cfg.Public {
		v.Transport = loopback()
	}
	if cfg.ChallengePath == validator.ChallengeQueue {
		localgrid.QueueChallenges(v, st)
	}
	if err := v.Open(ctx); err != nil {
		return nil, nil, err
	}
	return v, checker, nil
}

// tally reads the audit log and folds each miner's verdicts, in order, into
// its strategy's report.
