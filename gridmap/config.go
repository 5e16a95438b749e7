package gridmap

import (
	"fmt"
	"time"

	"github.com/hashicorp/serf/coordinate"
)

// Config tunes a Map. Durations are in wall-clock time as given by Now.
type Config struct {
	// Origin names this replica in snapshots; Merge ignores snapshots from
	// the same origin.
	Origin string

	// Now is the clock. Tests and simulations inject their own.
	Now func() time.Time

	// ServiceDecay is the time constant with which the peak-EWMA service
	// time falls back towards faster samples. A slower sample replaces it at
	// once.
	ServiceDecay time.Duration

	// DefaultService is the service time per unit of spec cost assumed for
	// a miner that has neither finished a job nor reported an ETA.
	DefaultService time.Duration

	// DefaultRTT is the round-trip time assumed for a miner that has never
	// been probed and has no network coordinate.
	DefaultRTT time.Duration

	// RTTAlpha is the weight of a new RTT sample in the RTT's EWMA.
	RTTAlpha float64

	// SuccessAlpha is the weight of a new outcome in the success-rate EWMA.
	SuccessAlpha float64

	// BreakerFailures is how many consecutive failures open a miner's
	// circuit breaker.
	BreakerFailures int

	// BreakerCooldown is how long a breaker stays open before it lets one
	// trial request through (half-open). Each failed trial doubles it, up
	// to BreakerMaxCooldown.
	BreakerCooldown    time.Duration
	BreakerMaxCooldown time.Duration

	// Vivaldi configures the network coordinates; nil means
	// coordinate.DefaultConfig().
	Vivaldi *coordinate.Config
}

// DefaultConfig returns the configuration used by the gateway.
func DefaultConfig() Config {
	return Config{
		Origin:             "local",
		Now:                time.Now,
		ServiceDecay:       30 * time.Second,
		DefaultService:     10 * time.Second,
		DefaultRTT:         100 * time.Millisecond,
		RTTAlpha:           0.3,
		SuccessAlpha:       0.1,
		BreakerFailures:    5,
		BreakerCooldown:    10 * time.Second,
		BreakerMaxCooldown: 5 * time.Minute,
	}
}

// Validate reports the first invalid setting.
func (c Config) Validate() error {
	switch {
	case c.Origin == "":
		return fmt.Errorf("gridmap: origin must not be empty")
	case c.Now == nil:
		return fmt.Errorf("gridmap: now must be set")
	case c.ServiceDecay <= 0, c.DefaultService <= 0, c.DefaultRTT <= 0:
		return fmt.Errorf("gridmap: service decay, default service and default rtt must be positive")
	case c.RTTAlpha <= 0 || c.RTTAlpha > 1, c.SuccessAlpha <= 0 || c.SuccessAlpha > 1:
		return fmt.Errorf("gridmap: rtt and success alphas must be in (0, 1]")
	case c.BreakerFailures < 1:
		return fmt.Errorf("gridmap: breaker failures must be at least 1, got %d", c.BreakerFailures)
	case c.BreakerCooldown <= 0 || c.BreakerMaxCooldown < c.BreakerCooldown:
		return fmt.Errorf("gridmap: breaker cooldown must be positive and at most the max cooldown")
	}
	return nil
}
