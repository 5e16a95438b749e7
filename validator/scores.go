package validator

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/fractal-grid/fractal"
)

// Tiers rank miners by a sustained record. A new miner starts in tier 0
// (probation); it moves up one tier after a clean window of challenges and
// down one after a window with failures, and falls back to tier 0 on a
// failed check.
const (
	TierProbation = 0
	TierMax       = 3
)

// tierWeight scales a miner's score by its tier. Probation earns a tenth: a
// hotkey has to show one clean window before it earns a real share, so a
// fresh hotkey (a cheat's after a cooldown, one more of a Sybil's, a miner
// that keeps failing) is worth little. An established miner that fails
// once loses one tier for a window, not its standing.
var tierWeight = [TierMax + 1]float64{0.1, 0.7, 1.0, 1.2}

// Stats is what a validator knows of one miner. It is stored as JSON.
type Stats struct {
	Hotkey string `json:"hotkey"`
	UID    uint16 `json:"uid"`

	Challenges int64  `json:"challenges"`
	Passed     int64  `json:"passed"`
	Failed     int64  `json:"failed"`          // errors, timeouts and failed checks
	Cheats     int64  `json:"cheats"`          // failed verifications
	Swept      int64  `json:"swept,omitempty"` // passes timed in a sweep
	LastReason string `json:"last_reason"`     // of the last failure

	// Moving averages.
	Success       float64 `json:"success"`         // of passing challenges (1) vs failing (0)
	AcceptSecs    float64 `json:"accept_secs"`     // to the accepted event
	FirstProgress float64 `json:"first_progress"`  // seconds to first progress
	SecsPerCost   float64 `json:"secs_per_cost"`   // total seconds per unit of spec cost
	Throughput    float64 `json:"throughput_cost"` // cost units per second served
	// SweepSecs are the seconds per cost of the miner's last passes in
	// sweeps (ScoreConfig.SweepWindow of them), oldest first: its speed
	// is read from them.
	SweepSecs []float64 `json:"sweep_secs,omitempty"`
	// OrganicCost is the users' work the miner served and passed: the
	// cost of each verified pass of a user's job ÷ the chance it had to be
	// verified, decayed with ScoreConfig.OrganicHalfLife as of OrganicAt.
	OrganicCost float64   `json:"organic_cost,omitempty"`
	OrganicAt   time.Time `json:"organic_at,omitzero"`

	Tier          int       `json:"tier"`
	WindowCount   int       `json:"window_count"`  // challenges in the current tier window
	WindowPassed  int       `json:"window_passed"` // of which passed
	CooldownUntil time.Time `json:"cooldown_until,omitzero"`
	LastChallenge time.Time `json:"last_challenge,omitzero"`
	// Profiles are the profiles ("id@version") the miner passed checks on,
	// sorted.
	Profiles []string `json:"profiles,omitempty"`
	// Operator names the miner's operator group (hotkeys sharing a coldkey
	// or a public IP) when weights are computed; "" is an operator of its
	// own. It is not stored: the metagraph says it each time.
	Operator string `json:"-"`
}

// Standing returns the validator's verdict on the miner as gateways route
// by it.
func (s *Stats) Standing() fractal.Standing {
	return fractal.Standing{
		Hotkey: s.Hotkey, Passed: s.Passed, Success: s.Success, Tier: s.Tier,
		CooldownUntil: s.CooldownUntil, Profiles: slices.Clone(s.Profiles), Updated: s.LastChallenge,
	}
}

// ScoreConfig sets the scoring rules.
type ScoreConfig struct {
	Alpha      float64 // EWMA weight of a new sample (0.1)
	TierWindow int     // challenges per promotion window (20)
	PromoteAt  float64 // window success rate to move up (0.98)
	// RelegateBelow (0.98): a window under it moves down one tier. Equal to
	// PromoteAt, a window of 20 either is clean (up) or has a failure
	// (down), so the tier a miner holds tracks its failure rate: at 0.5%
	// failures a window is clean 90% of the time and the miner sits in the
	// top tier; at 5% only 36% of the time and it sits mostly in probation.
	RelegateBelow float64
	Cooldown      time.Duration // after a failed verification, score 0 for this long
	SuccessPower  float64       // score ∝ success^SuccessPower (8): unreliability costs a lot
	// SpeedPower (2): score ∝ speed^SpeedPower. The hotkeys of one operator
	// (one coldkey, or one public IP) are challenged in one burst and each
	// is timed by the burst's makespan, its throughput under concurrent
	// load; n hotkeys sharing one GPU take n times as long, so together
	// they earn n·(1/n)^SpeedPower = 1/n of one honest GPU at a power of 2.
	// Splitting a GPU over hotkeys loses.
	SpeedPower float64
	// SlowKnee (1.5) and SlowPower (8): a miner more than SlowKnee times
	// slower per unit of cost than the grid's median is worth far less
	// than speed^SpeedPower alone says: its score is further multiplied by
	// (SlowKnee·speed)^SlowPower. The grid serves one pinned model on
	// comparable GPUs, and the router sends such a miner almost no users.
	// An honest GPU within the knee (10% or 40% slower than the median)
	// loses nothing more; n ≥ 2 hotkeys sharing one GPU, timed by their
	// burst at about n times one generation, lie beyond it: three on one
	// GPU earn about 0.13% of that GPU's score, two about 5%. A knee of 0
	// turns this off.
	SlowKnee  float64
	SlowPower float64
	// SweepWindow (8) and SweepQuantile (0.875): a swept miner's seconds
	// per cost, for its speed, is that quantile of its last SweepWindow
	// passes in sweeps: the throughput it delivers in most sweeps, not on
	// its best turns. An honest GPU's timings vary little, so the quantile
	// costs it a few percent, as it does the grid's median it is compared
	// with; n hotkeys queued on one GPU are served first, second, … in
	// turn, and the quantile times each at about its n-th place.
	SweepWindow   int
	SweepQuantile float64
	// OrganicWeight (0.5) and OrganicHalfLife (1 h): once any miner has
	// served users' work that passed verification, a score is further
	// multiplied by (1 − OrganicWeight) + OrganicWeight·min(4, served ÷
	// the grid's median served), where served is the miner's OrganicCost
	// decayed with that half-life. A miner serving as many users as the
	// median keeps its score; one serving none keeps half; one serving
	// twice as much earns half as much again. The sweeps' speed still
	// rules: hotkeys sharing a GPU share its users too, and their speed
	// leaves them little to multiply.
	OrganicWeight   float64
	OrganicHalfLife time.Duration
}

// DefaultScoreConfig returns the defaults.
func DefaultScoreConfig() ScoreConfig {
	return ScoreConfig{Alpha: 0.1, TierWindow: 20, PromoteAt: 0.98, RelegateBelow: 0.98, Cooldown: 6 * time.Hour, SuccessPower: 8, SpeedPower: 2, SlowKnee: 1.5, SlowPower: 8, SweepWindow: 8, SweepQuantile: 0.875,
		OrganicWeight: 0.5, OrganicHalfLife: time.Hour}
}

// Observation is the outcome of one challenge of one miner.
type Observation struct {
	At      time.Time
	OK      bool
	Cheat   bool // a failed verification, not just an error
	Reason  string
	Profile string  // the spec's profile ("id@version"); a pass adds it to Stats.Profiles
	Cost    float64 // spec cost
	Swept   bool    // timed in a sweep: once a miner has one, only sweeps set its speed
	// Organic is, for a pass of a user's job, the users' work it stands
	// for: its cost ÷ the chance it was drawn for verification.
	Organic       float64
	Accept        time.Duration
	FirstProgress time.Duration
	Total         time.Duration
}

// Observe folds o into s.
func (s *Stats) Observe(cfg ScoreConfig, o Observation) {
	o.At = o.At.Round(0) // wall clock only: stats are persisted
	s.Challenges++
	s.LastChallenge = o.At
	first := s.Challenges == 1
	ewma := func(old, sample float64) float64 {
		if first {
			return sample
		}
		return (1-cfg.Alpha)*old + cfg.Alpha*sample
	}
	s.WindowCount++
	if o.OK {
		s.Passed++
		s.WindowPassed++
		s.addProfile(o.Profile)
		s.Success = ewma(s.Success, 1)
		s.AcceptSecs = ewma(s.AcceptSecs, o.Accept.Seconds())
		s.FirstProgress = ewma(s.FirstProgress, o.FirstProgress.Seconds())
		timed := o.Swept || s.Swept == 0
		if o.Cost > 0 && o.Total > 0 && timed {
			if o.Swept && s.Swept == 0 {
				s.SecsPerCost, s.Throughput = 0, 0 // the first sweep replaces isolated timings
			}
			s.SecsPerCost = ewmaFrom(cfg, s.SecsPerCost, o.Total.Seconds()/o.Cost)
			s.Throughput = ewmaFrom(cfg, s.Throughput, o.Cost/o.Total.Seconds())
		}
		if o.Organic > 0 {
			s.OrganicCost, s.OrganicAt = s.organicServed(cfg, o.At)+o.Organic, o.At
		}
		if o.Swept {
			s.Swept++
			if o.Cost > 0 && o.Total > 0 && cfg.SweepWindow > 0 {
				s.SweepSecs = append(s.SweepSecs, o.Total.Seconds()/o.Cost)
				if n := len(s.SweepSecs); n > cfg.SweepWindow {
					s.SweepSecs = slices.Clone(s.SweepSecs[n-cfg.SweepWindow:])
				}
			}
		}
	} else {
		s.Failed++
		s.LastReason = o.Reason
		s.Success = ewma(s.Success, 0)
	}
	if o.Cheat {
		s.Cheats++
		s.Success = 0
		s.OrganicCost = 0
		s.Tier = TierProbation
		s.WindowCount, s.WindowPassed = 0, 0
		s.CooldownUntil = o.At.Add(cfg.Cooldown)
		return
	}
	if s.WindowCount >= cfg.TierWindow {
		rate := float64(s.WindowPassed) / float64(s.WindowCount)
		switch {
		case rate >= cfg.PromoteAt && s.Tier < TierMax:
			s.Tier++
		case rate < cfg.RelegateBelow && s.Tier > TierProbation:
			s.Tier--
		}
		s.WindowCount, s.WindowPassed = 0, 0
	}
}

// ewmaFrom folds sample into old; an old of 0 (nothing yet) takes sample.
func ewmaFrom(cfg ScoreConfig, old, sample float64) float64 {
	if old == 0 {
		return sample
	}
	return (1-cfg.Alpha)*old + cfg.Alpha*sample
}

// addProfile adds profile ("id@version") to the set the miner passed
// checks on; a spec that names no full profile adds nothing.
func (s *Stats) addProfile(profile string) {
	if id, version := fractal.ParseProfileRef(profile); id == "" || version == "" {
		return
	}
	if i, found := slices.BinarySearch(s.Profiles, profile); !found {
		s.Profiles = slices.Insert(s.Profiles, i, profile)
	}
}

// Score returns the miner's raw score at now: zero in cooldown or without a
// pass; otherwise reliability^SuccessPower × speed^SpeedPower × tier weight
// (× (SlowKnee·speed)^SlowPower beyond the knee), where speed compares the
// miner's seconds per cost with the given reference (the median of the
// grid), capped at 4. It has no floor: with one, a
// Sybil's burst could only slow each hotkey down so far, and enough hotkeys
// on one GPU would earn more than the GPU.
func (s *Stats) Score(cfg ScoreConfig, now time.Time, refSecsPerCost float64) float64 {
	secs := s.timedSecsPerCost(cfg)
	if now.Before(s.CooldownUntil) || s.Passed == 0 || secs <= 0 {
		return 0
	}
	speed := 1.0
	if refSecsPerCost > 0 {
		speed = math.Min(4, refSecsPerCost/secs)
	}
	return math.Pow(s.Success, cfg.SuccessPower) * speedFactor(cfg, speed) * tierWeight[s.Tier]
}

// timedSecsPerCost is the seconds per cost the miner's speed is read
// from: the SweepQuantile of its last SweepWindow sweeps once it has had
// that many, their median while it has fewer (of a few sweeps the
// quantile would be the slowest, and one hiccup would rule), its moving
// average before its first.
func (s *Stats) timedSecsPerCost(cfg ScoreConfig) float64 {
	if len(s.SweepSecs) == 0 || cfg.SweepQuantile <= 0 {
		return s.SecsPerCost
	}
	if len(s.SweepSecs) < cfg.SweepWindow {
		return median(s.SweepSecs)
	}
	return quantile(s.SweepSecs, cfg.SweepQuantile)
}

// typicalSecsPerCost is what the miner takes in a typical sweep, the
// median of its recent ones (its moving average before it is swept): the
// grid's reference is made of these, so the reference is what the grid
// typically delivers and each miner is held to what it delivers in all
// but its worst sweeps.
func (s *Stats) typicalSecsPerCost(cfg ScoreConfig) float64 {
	if len(s.SweepSecs) == 0 || cfg.SweepQuantile <= 0 {
		return s.SecsPerCost
	}
	return median(s.SweepSecs)
}

// quantile returns the smallest of xs that at least a share q of them
// does not exceed.
func quantile(xs []float64, q float64) float64 {
	sorted := slices.Clone(xs)
	slices.Sort(sorted)
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// speedFactor is speed^SpeedPower, times (SlowKnee·speed)^SlowPower for a
// miner slower than the median by more than the knee.
func speedFactor(cfg ScoreConfig, speed float64) float64 {
	f := math.Pow(speed, cfg.SpeedPower)
	if cfg.SlowKnee > 0 {
		if k := cfg.SlowKnee * speed; k < 1 {
			f *= math.Pow(k, cfg.SlowPower)
		}
	}
	return f
}

// Weights returns normalised weights (summing to 1) by uid for the given
// miners; nil when nobody has earned any.
func Weights(cfg ScoreConfig, now time.Time, miners []*Stats) map[uint16]float64 {
	ref, served := speedReference(cfg, now, miners), organicReference(cfg, now, miners)
	out := map[uint16]float64{}
	var total float64
	for _, s := range miners {
		if sc := s.Score(cfg, now, ref) * organicFactor(cfg, s.organicServed(cfg, now), served); sc > 0 {
			out[s.UID] += sc
			total += sc
		}
	}
	if total == 0 {
		return nil
	}
	for uid := range out {
		out[uid] /= total
	}
	return out
}

// organicServed is the miner's OrganicCost decayed to now.
func (s *Stats) organicServed(cfg ScoreConfig, now time.Time) float64 {
	if s.OrganicCost <= 0 || cfg.OrganicHalfLife <= 0 || !now.After(s.OrganicAt) {
		return max(s.OrganicCost, 0)
	}
	return s.OrganicCost * math.Exp2(-float64(now.Sub(s.OrganicAt))/float64(cfg.OrganicHalfLife))
}

// organicFactor multiplies a score by the users' work the miner served
// against the grid's median (ref); no users' work on the grid (ref 0)
// leaves it as it is.
func organicFactor(cfg ScoreConfig, served, ref float64) float64 {
	if ref <= 0 || cfg.OrganicWeight <= 0 {
		return 1
	}
	return 1 - cfg.OrganicWeight + cfg.OrganicWeight*math.Min(4, served/ref)
}

// organicReference is the median, over operators that served users' work
// and are not in cooldown, of the work served (each operator's median
// hotkey): 0 when nobody has.
func organicReference(cfg ScoreConfig, now time.Time, miners []*Stats) float64 {
	return median(operatorMedians(miners, func(s *Stats) (float64, bool) {
		served := s.organicServed(cfg, now)
		return served, served > 0 && !now.Before(s.CooldownUntil)
	}))
}

// speedReference is the grid's median seconds per cost over operators, not
// hotkeys, weighted by throughput: each operator counts once, with the
// median of its own hotkeys' typical timings, and weighs as many cost units per
// second as that timing delivers. An operator that adds hotkeys (a Sybil's
// slow ones, or fast copies) cannot move the reference every other miner
// is scored against, and a Sybil whose hotkeys no grouping links, n
// operators each timed at about n generations on one GPU, weighs about
// one GPU, however large n is.
func speedReference(cfg ScoreConfig, now time.Time, miners []*Stats) float64 {
	return throughputMedian(operatorMedians(miners, func(s *Stats) (float64, bool) {
		secs := s.typicalSecsPerCost(cfg)
		return secs, s.Passed > 0 && secs > 0 && !now.Before(s.CooldownUntil)
	}))
}

// operatorMedians groups the miners that value takes by operator (a miner
// with no known operator stands alone) and returns each operator's median
// value, so that an operator counts once however many hotkeys it runs.
func operatorMedians(miners []*Stats, value func(*Stats) (float64, bool)) []float64 {
	byOperator := map[string][]float64{}
	for i, s := range miners {
		x, ok := value(s)
		if !ok {
			continue
		}
		op := s.Operator
		if op == "" {
			op = fmt.Sprintf("hotkey:%d:%s", i, s.Hotkey)
		}
		byOperator[op] = append(byOperator[op], x)
	}
	out := make([]float64, 0, len(byOperator))
	for _, xs := range byOperator {
		out = append(out, median(xs))
	}
	return out
}

// throughputMedian is the weighted median of secs, each weighing 1/secs:
// the seconds per cost at which half the cost units per second are
// served faster or as fast.
func throughputMedian(secs []float64) float64 {
	if len(secs) == 0 {
		return 0
	}
	s := slices.Clone(secs)
	sort.Float64s(s)
	var total float64
	for _, x := range s {
		total += 1 / x
	}
	var cum float64
	for _, x := range s {
		if cum += 1 / x; cum >= total/2 {
			return x
		}
	}
	return s[len(s)-1]
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
