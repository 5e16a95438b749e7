package routesim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/fractal-grid/fractal"
)

// gpuClasses are the miners' relative speeds and how common each is.
var gpuClasses = []struct{ speed, weight float64 }{
	{2.0, 0.15}, {1.0, 0.35}, {0.7, 0.25}, {0.5, 0.15}, {0.25, 0.10},
}

// regionRTTs are the round trips from the gateway to the miners' regions,
// in seconds.
var regionRTTs = []float64{0.005, 0.020, 0.060, 0.120, 0.250}

// simCost is the simulated model's cost model: the reference engine's.
var simCost = fractal.LegacyCost()

// specMix are the specs users ask for and how often.
var specMix = []struct {
	spec   fractal.Spec
	weight float64
}{
	{fractal.DefaultSpec("a red ball bouncing over the ocean at night", 0), 0.45},
	{fractal.Spec{Prompt: "a short clip", Frames: 8, Width: 256, Height: 256, FPS: 8, Steps: 20}, 0.25},
	{fractal.Spec{Prompt: "a quick draft", Frames: 16, Width: 256, Height: 256, FPS: 8, Steps: 10}, 0.10},
	{fractal.Spec{Prompt: "a longer clip", Frames: 32, Width: 256, Height: 256, FPS: 8, Steps: 20}, 0.12},
	{fractal.Spec{Prompt: "a large clip", Frames: 16, Width: 512, Height: 512, FPS: 8, Steps: 20}, 0.08},
}

// simMiner is one miner's true state.
type simMiner struct {
	id       string
	speed    float64 // relative to the base
	rtt      float64 // seconds
	slots    int
	limit    int     // queued jobs beyond those running
	failRate float64 // fraction of jobs it fails
	tier     int     // as the validator ranks it
	slow     float64 // current throttling factor; 0 or 1 is full speed
	far      bool    // in the far region

	running []*attempt // in service
	waiting []*attempt // FIFO
	transit []*attempt // sent to it, not yet arrived (known to the oracle)
}

// slowdown is the factor by which the miner is slower than its speed now.
func (m *simMiner) slowdown() float64 { return max(m.slow, 1) }

// speedNow is the miner's speed as throttled now.
func (m *simMiner) speedNow() float64 { return m.speed / m.slowdown() }

// draw returns an index into weights drawn with those weights.
func draw(rng *rand.Rand, n int, weight func(int) float64) int {
	u := rng.Float64()
	for i := range n {
		if u -= weight(i); u < 0 {
			return i
		}
	}
	return n - 1
}

// newMiners builds the grid from the seed.
func newMiners(cfg Config, rng *rand.Rand) []*simMiner {
	ms := make([]*simMiner, cfg.Miners)
	for i := range ms {
		c := draw(rng, len(gpuClasses), func(i int) float64 { return gpuClasses[i].weight })
		slots := 1
		if rng.Float64() < 0.3 {
			slots = 2
		}
		ms[i] = &simMiner{
			id:    fmt.Sprintf("miner-%03d", i),
			speed: gpuClasses[c].speed,
			rtt:   regionRTTs[rng.IntN(len(regionRTTs))],
			slots: slots,
			limit: cfg.QueueLimit,
		}
	}
	failing := int(math.Round(cfg.FailingFraction * float64(cfg.Miners)))
	for _, i := range rng.Perm(cfg.Miners)[:failing] {
		ms[i].failRate = cfg.FailRate
	}
	rankTiers(ms)
	byspeed := slices.Clone(ms)
	slices.SortStableFunc(byspeed, func(a, b *simMiner) int { return cmpFloat(b.speed, a.speed) })
	for _, m := range byspeed[:int(math.Round(cfg.FarFraction*float64(len(ms))))] {
		m.far = true
	}
	return ms
}

// rankTiers gives the quarter of miners with the most good work per second
// tier 4 and the slowest or least reliable quarter tier 1, as a validator
// scoring latency and success would.
func rankTiers(ms []*simMiner) {
	byValue := slices.Clone(ms)
	value := func(m *simMiner) float64 { return m.speed * (1 - m.failRate) }
	slices.SortStableFunc(byValue, func(a, b *simMiner) int { return cmpFloat(value(a), value(b)) })
	for i, m := range byValue {
		m.tier = 1 + 4*i/len(byValue)
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Heavy-tailed costs: Pareto with this minimum and shape, capped.
const (
	tailMin   = 0.5
	tailShape = 1.5
	tailCap   = 32
)

// drawCost draws a job's spec cost.
func drawCost(cfg Config, rng *rand.Rand) float64 {
	if cfg.HeavyTail {
		return min(tailMin*math.Pow(1-rng.Float64(), -1/tailShape), tailCap)
	}
	return simCost.Of(specMix[draw(rng, len(specMix), func(i int) float64 { return specMix[i].weight })].spec)
}

// meanCost is the expected spec cost of a job.
func meanCost(cfg Config) float64 {
	if cfg.HeavyTail { // E[min(X, cap)] for a Pareto X
		a := tailShape
		return tailMin*a/(a-1) - math.Pow(tailMin, a)*math.Pow(tailCap, 1-a)/(a-1)
	}
	var c float64
	for _, s := range specMix {
		c += s.weight * simCost.Of(s.spec)
	}
	return c
}

// capacity is the grid's nominal throughput in jobs per second.
func capacity(cfg Config, ms []*simMiner) float64 {
	var perUnit float64
	for _, m := range ms {
		perUnit += float64(m.slots) * m.speed / cfg.BaseService.Seconds()
	}
	return perUnit / meanCost(cfg)
}
