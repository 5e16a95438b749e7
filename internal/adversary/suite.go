package adversary

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/jetstream"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/validator"
	"github.com/fractal-grid/fractal/verify"
)

// Config sets up one run of the suite.
type Config struct {
	Challenges       int             // rounds; every miner is challenged once a round
	Honest           int             // honest miners
	Sybils           int             // hotkeys of the one Sybil operator
	Tolerant         bool            // jittered engines checked by a tolerant verifier
	Strategies       []string        // the cheats to field; nil: every one
	Shape            validator.Shape // the challenges' spec shape
	Policy           verify.Policy   // the validator's verification policy
	StepShare        float64         // σ: share of a generation spent in sampling steps
	DevicePerCost    time.Duration   // device time of an honest generation per unit of spec cost
	ChallengeTimeout time.Duration
	SharedProb       float64 // chance a challenge is also sent to the next miner
	FlakyRate        float64
	CorpusSize       int    // the validator's prompts, all of them in the replay cheat's cache
	Dir              string // for the validator's JetStream store
	Logger           *slog.Logger

	// HonestPerOperator (1) puts that many honest miners, each on its own
	// GPU, under one coldkey: an operator with several GPUs, challenged in
	// one burst like a Sybil's hotkeys.
	HonestPerOperator int
	// UnlinkedSizes (3) are the hotkeys of each unlinkable Sybil: one
	// modelled GPU each, a coldkey (and address) per hotkey.
	UnlinkedSizes []int
	// UsersLoad (0.5) is users' load beside the challenges, as a share of
	// the grid's capacity (every modelled GPU): jobs submitted in turn to
	// the validator's own gateway and to a replica that shares them
	// through the store; 0: none.
	UsersLoad float64
	// OrganicSample is the share of users' jobs the validator verifies
	// (its default, 0.1).
	OrganicSample float64
	// Public (true) announces each operator's miners at a public address of
	// its own (in 203.0.113.0/24, reached over loopback), and the
	// validator groups hotkeys by address as on a public grid; false
	// serves them on 127.0.0.1 with private axons allowed.
	Public bool
}

// AllCheats lists every cheating strategy in report order.
func AllCheats() []string {
	return []string{NameLazy, NameFakeFrames, NameReplay, NameSkipHalf, NameSkipFourth, NameLowSteps, NameWrongModel, NameSybil, NameSybilUnlinked, NameSlow, NameFlaky}
}

// VerificationCheats are the strategies that deliver work that is not the
// model's; the others deliver true results slowly, rarely or from fewer GPUs.
func VerificationCheats() []string {
	return []string{NameLazy, NameFakeFrames, NameReplay, NameSkipHalf, NameSkipFourth, NameLowSteps, NameWrongModel}
}

// DefaultConfig is a small grid: four honest miners, every cheat, three
// Sybil hotkeys, tiny videos on a device that takes about 270 ms for one.
// Each round lasts the challenge timeout, which the slow miner runs into.
func DefaultConfig(dir string) Config {
	return Config{
		Challenges:       20,
		Honest:           4,
		Sybils:           3,
		Shape:            validator.Shape{Width: 64, Height: 64, Frames: 2, FPS: 8, Steps: 8},
		Policy:           verify.DefaultPolicy(),
		StepShare:        0.5,
		DevicePerCost:    50 * time.Second,
		ChallengeTimeout: 2 * time.Second,
		SharedProb:       0.1,
		FlakyRate:        0.05,
		CorpusSize:       validator.DefaultConfig().CorpusSize,
		Dir:              dir,

		HonestPerOperator: 1,
		UnlinkedSizes:     []int{3},
		UsersLoad:         0.5,
		OrganicSample:     validator.DefaultConfig().OrganicSample,
		Public:            true,
	}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	switch {
	case c.Challenges < 1:
		return fractal.Errorf("challenges", "must be at least 1, got %d", c.Challenges)
	case c.Honest < 1:
		return fractal.Errorf("honest", "need at least one honest miner, got %d", c.Honest)
	case c.HonestPerOperator < 1:
		return fractal.Errorf("honest-per-operator", "must be at least 1, got %d", c.HonestPerOperator)
	case c.StepShare <= 0 || c.StepShare > 1:
		return fractal.Errorf("step-share", "must be in (0, 1], got %g", c.StepShare)
	case c.CorpusSize < 1:
		return fractal.Errorf("corpus", "must hold at least one prompt, got %d", c.CorpusSize)
	case c.UsersLoad < 0 || c.UsersLoad >= 1:
		return fractal.Errorf("users-load", "must be in [0, 1), got %g", c.UsersLoad)
	case slices.ContainsFunc(c.UnlinkedSizes, func(n int) bool { return n < 1 }):
		return fractal.Errorf("unlinked", "each unlinkable Sybil needs at least one hotkey, got %v", c.UnlinkedSizes)
	case c.Dir == "":
		return fractal.Errorf("dir", "the store needs a directory")
	}
	for _, s := range c.Strategies {
		if !slices.Contains(AllCheats(), s) {
			return fractal.Errorf("strategies", "unknown strategy %q", s)
		}
	}
	return c.Policy.Validate()
}

// StrategyReport is what the suite measured of one strategy. A detection is
// a challenge the strategy's miner failed, for any reason; Caught counts the
// failed verifications among them.
type StrategyReport struct {
	Name       string         `json:"name"`
	Hotkeys    int            `json:"hotkeys"`
	Challenges int            `json:"challenges"`
	Detected   int            `json:"detected"`
	Caught     int            `json:"caught"`
	Reasons    map[string]int `json:"reasons,omitempty"`
	// Organic counts the strategy's users' jobs the validator verified
	// (not counted as challenges), OrganicFailed those that failed.
	Organic       int `json:"organic,omitempty"`
	OrganicFailed int `json:"organic_failed,omitempty"`
	// Bursts counts passes timed by the operator's burst (a co-located
	// hotkey answered later) rather than by the miner's own answer.
	Bursts int `json:"bursts,omitempty"`
	// PerChallenge is Detected ÷ Challenges; Within10 and Within20 the
	// chance of at least one detection in 10 and 20 independent challenges
	// at that rate.
	PerChallenge float64 `json:"per_challenge"`
	Within10     float64 `json:"within_10"`
	Within20     float64 `json:"within_20"`
	// FirstDetection is the mean (over hotkeys detected at all) of the
	// index of the first failed challenge; MeanToDetection is 1÷PerChallenge.
	FirstDetection  float64 `json:"first_detection,omitempty"`
	MeanToDetection float64 `json:"mean_to_detection,omitempty"`
	WeightShare     float64 `json:"weight_share"`
	// Saving is the share of an honest generation's work the strategy
	// skipped, averaged over its jobs.
	Saving float64 `json:"saving"`
}

// Report is one run of the suite.
type Report struct {
	Tolerant    bool             `json:"tolerant"`
	Policy      verify.Policy    `json:"policy"`
	Challenges  int              `json:"challenges"`
	Strategies  []StrategyReport `json:"strategies"`
	HonestShare float64          `json:"honest_weight_share"`
	WeightsSet  bool             `json:"weights_set"`
	Users       *UsersReport     `json:"users,omitempty"`
	// Engine time inside the suite (wall clock, small shapes): the
	// validator's checker and the miners' engines.
	// Miners is what the validator holds of each hotkey at the end.
	Miners             []MinerReport `json:"miners"`
	VerifierEngineSecs float64       `json:"verifier_engine_s"`
	MinerEngineSecs    float64       `json:"miner_engine_s"`
	Seconds            float64       `json:"wall_s"`
}

// Strategy returns the report of name, if it was run.
func (r *Report) Strategy(name string) (StrategyReport, bool) {
	for _, s := range r.Strategies {
		if s.Name == name {
			return s, true
		}
	}
	return StrategyReport{}, false
}

// fielded is one miner of the suite.
type fielded struct {
	strategy string
	hotkey   string
	device   *Device
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
	miners, err := field(ctx, g, cfg)
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
	if cfg.UsersLoad > 0 {
		v.Samples, v.Blobs = st.Queue(), st.Blobs()
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); v.ConsumeSamples(cctx) }()
		stopConsumer = func() { cancel(); <-done }
		defer stopConsumer()
		if load, err = startUsers(ctx, cfg, g, st, v.KV, v, devices(miners), logger); err != nil {
			return nil, err
		}
		defer load.stop()
	}
	for range cfg.Challenges {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		v.Round(ctx)
	}
	rep := &Report{Tolerant: cfg.Tolerant, Policy: cfg.Policy, Challenges: cfg.Challenges}
	if load != nil {
		ur := load.stop()
		stopConsumer()
		rep.Users = &ur
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
	return rep, nil
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
func field(ctx context.Context, g *grid, cfg Config) ([]fielded, error) {
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
		m, err := g.addMiner(ctx, &Engine{Base: base, Strategy: s, Device: dev}, operator)
		if err != nil {
			return fmt.Errorf("start %s miner: %w", s.Name(), err)
		}
		out = append(out, fielded{strategy: s.Name(), hotkey: m.Hotkey.SS58(), device: dev})
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
		if err := add(newStrategy(name, cfg), NewDevice(cfg.DevicePerCost)); err != nil {
			return nil, err
		}
		operator++
	}
	return out, nil
}

// newStrategy returns the named cheat (not Sybil, which spans miners).
func newStrategy(name string, cfg Config) Strategy {
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
	if err := v.Open(ctx); err != nil {
		return nil, nil, err
	}
	return v, checker, nil
}

// tally reads the audit log and folds each miner's verdicts, in order, into
// its strategy's report.
func tally(ctx context.Context, rep *Report, audit *jetstream.AuditLog, miners []fielded, cfg Config) error {
	byHotkey := map[string][]validator.Record{}
	for from := uint64(1); ; {
		recs, err := audit.Read(ctx, "", from, 256)
		if err != nil {
			return fmt.Errorf("read the audit log: %w", err)
		}
		for _, r := range recs {
			var rec validator.Record
			if err := json.Unmarshal(r.Data, &rec); err != nil {
				return err
			}
			byHotkey[rec.Miner] = append(byHotkey[rec.Miner], rec)
			from = r.Seq + 1
		}
		if len(recs) < 256 {
			break
		}
	}
	var order []string
	for _, name := range append([]string{NameHonest}, AllCheats()...) {
		if name != NameSybilUnlinked {
			order = append(order, name)
			continue
		}
		for _, n := range cfg.UnlinkedSizes {
			order = append(order, UnlinkedName(n))
		}
	}
	for _, name := range order {
		sr := StrategyReport{Name: name, Reasons: map[string]int{}}
		var firsts []float64
		devices := map[*Device]bool{}
		for _, m := range miners {
			if m.strategy != name {
				continue
			}
			sr.Hotkeys++
			devices[m.device] = true
			first, i := 0, 0
			for _, rec := range byHotkey[m.hotkey] {
				if rec.Organic {
					sr.Organic++
					if !rec.OK {
						sr.OrganicFailed++
					}
					continue
				}
				i++
				sr.Challenges++
				if rec.OK {
					if rec.BurstMs > 0 {
						sr.Bursts++
					}
					continue
				}
				if sr.Detected++; verify.IsCheck(rec.Reason) {
					sr.Caught++
				}
				sr.Reasons[rec.Reason]++
				if first == 0 {
					first = i
					firsts = append(firsts, float64(first))
				}
			}
		}
		if sr.Hotkeys == 0 {
			continue
		}
		var work float64
		var jobs int
		for d := range devices {
			u := d.Usage()
			work += u.Work
			jobs += u.Jobs
		}
		if jobs > 0 {
			sr.Saving = math.Max(0, 1-work/float64(jobs))
		}
		summarise(&sr, firsts)
		rep.Strategies = append(rep.Strategies, sr)
	}
	return nil
}

// summarise derives the detection figures from the counts.
func summarise(sr *StrategyReport, firsts []float64) {
	if sr.Challenges > 0 {
		sr.PerChallenge = float64(sr.Detected) / float64(sr.Challenges)
	}
	sr.Within10 = 1 - math.Pow(1-sr.PerChallenge, 10)
	sr.Within20 = 1 - math.Pow(1-sr.PerChallenge, 20)
	if sr.PerChallenge > 0 {
		sr.MeanToDetection = 1 / sr.PerChallenge
	}
	for _, f := range firsts {
		sr.FirstDetection += f / float64(len(firsts))
	}
}

// shares adds each strategy's share of the weights the validator would set.
func shares(ctx context.Context, rep *Report, g *grid, v *validator.Validator, miners []fielded) {
	mg, err := g.chain.Metagraph(ctx, netUID)
	if err != nil {
		return
	}
	w := v.Weights()
	byName := map[string]float64{}
	for _, m := range miners {
		if n, ok := mg.ByHotkey(m.hotkey); ok {
			byName[m.strategy] += w[n.UID]
		}
	}
	for i := range rep.Strategies {
		rep.Strategies[i].WeightShare = byName[rep.Strategies[i].Name]
	}
	rep.HonestShare = byName[NameHonest]
	stats := map[string]validator.Stats{}
	for _, s := range v.Stats() {
		stats[s.Hotkey] = s
	}
	ops := v.Operators()
	for _, m := range miners {
		s := stats[m.hotkey]
		mr := MinerReport{Strategy: m.strategy, Hotkey: m.hotkey, Operator: ops[m.hotkey], Passed: s.Passed, Failed: s.Failed,
			Swept: s.Swept, Tier: s.Tier, Success: s.Success, SecsPerCost: s.SecsPerCost, Throughput: s.Throughput,
			SweepSecs: s.SweepSecs, OrganicCost: s.OrganicCost}
		if n, ok := mg.ByHotkey(m.hotkey); ok {
			mr.UID, mr.Weight = n.UID, w[n.UID]
		}
		rep.Miners = append(rep.Miners, mr)
	}
}

// MinerReport is one hotkey's standing with the validator at the end of
// the suite: Operator names the group it was scored in (a hotkey of the
// group), which for an unlinked Sybil's hotkeys is another of them only
// when the sweeps linked them.
type MinerReport struct {
	Strategy    string  `json:"strategy"`
	Hotkey      string  `json:"hotkey"`
	UID         uint16  `json:"uid"`
	Operator    string  `json:"operator"`
	Passed      int64   `json:"passed"`
	Failed      int64   `json:"failed"`
	Swept       int64   `json:"swept"`
	Tier        int     `json:"tier"`
	Success     float64 `json:"success"`
	SecsPerCost float64 `json:"secs_per_cost"`
	Throughput  float64 `json:"throughput_cost"`
	// SweepSecs are its last sweeps' seconds per cost, which its speed is
	// read from; OrganicCost the users' work it served and passed.
	SweepSecs   []float64 `json:"sweep_secs,omitempty"`
	OrganicCost float64   `json:"organic_cost,omitempty"`
	Weight      float64   `json:"weight"`
}

// honestJitter is the noise of the tolerant suite's engines: the largest
// the reference engine allows, which keeps two honest engines within
// ≈ 0.61 of the tolerance.
const honestJitter = refengine.MaxJitter
