// Package routesim is a seeded discrete-event simulation of a gateway
// routing generation jobs over a grid of uneven miners. It drives the
// production router and grid map (packages router and gridmap) in simulated
// time and measures end-to-end latency and success rate per policy.
//
// Miners differ in speed (GPU class), distance (regions 5–250 ms away),
// concurrency and queue limit; a fraction of them fail a fraction of their
// jobs part-way through. Jobs arrive open-loop (Poisson) at a load relative
// to the grid's total capacity, with specs of varying cost. A failed or
// rejected attempt is retried on a miner not yet tried, up to a bound. The
// router learns queues from health probes that arrive every 1–2 s and one
// RTT late, its own outstanding counts at once, and how fast its attempts
// run from their streams' started and progress events, one per step, each
// half an RTT after the miner sent it.
//
// Every policy chooses among the same candidates — verified miners whose
// circuit breaker is not open, that have not just turned a job away and
// that this job has not tried yet — so the figures compare choice rules,
// not candidate sets. "p2c" is router.NewP2C(), the production policy;
// the oracle alone reads the simulation's true state: each slot's remaining
// work, the queued and in-flight jobs' true service times, every miner's
// speed and failure rate.
package routesim

import (
	"fmt"
	"time"
)

// Config describes one simulated grid and workload.
type Config struct {
	Miners int     // miners in the grid
	Load   float64 // arrival rate ÷ total nominal capacity
	Jobs   int     // jobs to simulate
	Seed   uint64  // same seed, same figures

	// Gateways is the number of gateway replicas, each routing its share
	// of the jobs with its own map; they learn of each other's load
	// through the miners' health probes and, with ShareDispatches, as it
	// happens.
	Gateways int
	// ShareEvery is how often each replica publishes its grid map snapshot
	// and merges the others' (as they would through a key-value store);
	// 0 shares nothing.
	ShareEvery time.Duration

	FailingFraction float64 // fraction of miners that fail jobs
	FailRate        float64 // fraction of their jobs those miners fail

	MaxAttempts int           // attempts per job, first one included
	BaseService time.Duration // service time of a cost-1 spec at speed 1
	QueueLimit  int           // jobs a miner queues beyond those running
	ProbeMin    time.Duration // health probes go out every ProbeMin–ProbeMax
	ProbeMax    time.Duration
	JobTimeout  time.Duration // a job no miner could take for this long fails

	// ProbeDelayMin–ProbeDelayMax is how much later than one RTT a probe's
	// answer reaches the map (a slow probe loop, a cache in between); with
	// a spread, answers arrive out of order.
	ProbeDelayMin, ProbeDelayMax time.Duration
	// ProbeWithoutWork makes probes report the number of queued jobs only,
	// not their spec cost, as production probes do.
	ProbeWithoutWork bool

	// ThrottleFraction of the miners slow down by ThrottleFactor for
	// ThrottleMin–ThrottleMax at a time, then run at full speed for as
	// long again (thermal or power throttling, a co-tenant on the GPU).
	// The jobs running when the speed changes go on at the new speed.
	ThrottleFraction         float64
	ThrottleFactor           float64
	ThrottleMin, ThrottleMax time.Duration

	// HeavyTail draws spec costs from a Pareto distribution (minimum 0.5,
	// shape 1.5, capped at 32) instead of the usual mix of specs.
	HeavyTail bool

	// ShareDispatches has every replica tell the others of each dispatch
	// and each end of an attempt (miner, cost, time), FeedDelay later, as
	// gateways do over their shared store.
	ShareDispatches bool
	FeedDelay       time.Duration
	// CallerWork makes probes report, besides the miner's queued work, the
	// part of it from this gateway's hotkey (all replicas: in the
	// simulation every job comes through the gateway) and when the miner
	// counted it, as miners' health answers do.
	CallerWork bool

	// ProgressSteps is how many progress events a miner sends on each
	// attempt's stream after its started event, one per step at even
	// intervals; the gateway that sent the attempt hears them half a round
	// trip later and, with ShareDispatches, tells the others of the paces
	// worth telling. 0 sends none, as the routing was measured before it
	// read them.
	ProgressSteps int

	// FarFraction of the miners, the fastest, sit in a second region FarRTT
	// further from the gateways of the first; with it the replicas are
	// split between the two regions, and each measures its own RTTs.
	FarFraction float64
	FarRTT      time.Duration

	// WarmUp is how long the replicas probe the miners before the first
	// job arrives. Without it the first jobs are routed on no probe at all:
	// negligible over 20,000 jobs on 200 miners (about 500 s), not on
	// 2,000 miners, where they arrive ten times as fast.
	WarmUp time.Duration
}

// DefaultConfig returns the benchmark's grid: 64 miners at 80% load, 10%
// of them failing half their jobs.
func DefaultConfig() Config {
	return Config{
		Miners:          64,
		Load:            0.8,
		Jobs:            20000,
		Seed:            1,
		Gateways:        1,
		ShareEvery:      2 * time.Second,
		FailingFraction: 0.1,
		FailRate:        0.5,
		MaxAttempts:     4,
		BaseService:     4 * time.Second,
		QueueLimit:      8,
		ProbeMin:        time.Second,
		ProbeMax:        2 * time.Second,
		JobTimeout:      10 * time.Minute,
		ShareDispatches: true,
		FeedDelay:       20 * time.Millisecond,
		CallerWork:      true,
		ProgressSteps:   20,
	}
}

// Validate reports the first invalid setting.
func (c Config) Validate() error {
	switch {
	case c.Miners < 2:
		return fmt.Errorf("routesim: miners must be at least 2, got %d", c.Miners)
	case c.Gateways < 1 || c.Gateways > 64:
		return fmt.Errorf("routesim: gateways must be between 1 and 64, got %d", c.Gateways)
	case c.Load <= 0 || c.Load > 2:
		return fmt.Errorf("routesim: load must be in (0, 2], got %g", c.Load)
	case c.Jobs < 1:
		return fmt.Errorf("routesim: jobs must be at least 1, got %d", c.Jobs)
	case c.FailingFraction < 0 || c.FailingFraction > 1 || c.FailRate < 0 || c.FailRate > 1:
		return fmt.Errorf("routesim: failing fraction and fail rate must be in [0, 1]")
	case c.MaxAttempts < 1:
		return fmt.Errorf("routesim: max attempts must be at least 1, got %d", c.MaxAttempts)
	case c.ShareEvery < 0:
		return fmt.Errorf("routesim: share interval must not be negative, got %v", c.ShareEvery)
	case c.BaseService <= 0 || c.ProbeMin <= 0 || c.ProbeMax < c.ProbeMin || c.JobTimeout <= 0:
		return fmt.Errorf("routesim: durations must be positive, probe max ≥ probe min")
	case c.ProbeDelayMin < 0 || c.ProbeDelayMax < c.ProbeDelayMin:
		return fmt.Errorf("routesim: probe delays must not be negative, max ≥ min")
	case c.ThrottleFraction < 0 || c.ThrottleFraction > 1:
		return fmt.Errorf("routesim: throttle fraction must be in [0, 1], got %g", c.ThrottleFraction)
	case c.ThrottleFraction > 0 && (c.ThrottleFactor < 1 || c.ThrottleMin <= 0 || c.ThrottleMax < c.ThrottleMin):
		return fmt.Errorf("routesim: throttling needs a factor ≥ 1 and positive periods, max ≥ min")
	case c.WarmUp < 0:
		return fmt.Errorf("routesim: warm-up must not be negative, got %v", c.WarmUp)
	case c.FeedDelay < 0:
		return fmt.Errorf("routesim: feed delay must not be negative, got %v", c.FeedDelay)
	case c.FarFraction < 0 || c.FarFraction > 1 || c.FarRTT < 0:
		return fmt.Errorf("routesim: far fraction must be in [0, 1] and far rtt not negative")
	case c.ProgressSteps < 0 || c.ProgressSteps > 1000:
		return fmt.Errorf("routesim: progress steps must be in [0, 1000], got %d", c.ProgressSteps)
	case c.QueueLimit < 0:
		return fmt.Errorf("routesim: queue limit must not be negative, got %d", c.QueueLimit)
	}
	return nil
}
