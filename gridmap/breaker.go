package gridmap

import "time"

// BreakerState is the state of a miner's circuit breaker.
type BreakerState string

// Breaker states.
const (
	// Closed: requests flow; consecutive failures are counted.
	Closed BreakerState = "closed"
	// Open: no requests until the cool-down ends.
	Open BreakerState = "open"
	// HalfOpen: the cool-down ended; one trial request may go. Its success
	// closes the breaker, its failure opens it again for twice as long.
	HalfOpen BreakerState = "half_open"
)

// breaker is a per-miner circuit breaker. It is not safe for concurrent use;
// the Map guards it.
type breaker struct {
	state    BreakerState
	failures int           // consecutive failures
	cooldown time.Duration // current cool-down; doubles on a failed trial
	until    time.Time     // end of the cool-down while open
	trial    bool          // a half-open trial request is in flight
	changed  time.Time     // last transition, for merging snapshots
}

// stateAt returns the state as seen at now: an open breaker whose cool-down
// has ended reads as half-open.
func (b *breaker) stateAt(now time.Time) BreakerState {
	if b.state == Open && !now.Before(b.until) {
		return HalfOpen
	}
	if b.state == "" {
		return Closed
	}
	return b.state
}

// allows reports whether a request may be sent at now.
func (b *breaker) allows(now time.Time) bool {
	switch b.stateAt(now) {
	case Open:
		return false
	case HalfOpen:
		return !b.trial
	}
	return true
}

// dispatched records that a request was sent at now.
func (b *breaker) dispatched(now time.Time) {
	if s := b.stateAt(now); s == HalfOpen {
		if b.state != HalfOpen {
			b.state, b.changed = HalfOpen, now
		}
		b.trial = true
	}
}

// succeeded closes the breaker.
func (b *breaker) succeeded(now time.Time, cfg *Config) {
	if b.state != Closed && b.state != "" {
		b.changed = now
	}
	b.state, b.failures, b.trial, b.cooldown = Closed, 0, false, cfg.BreakerCooldown
}

// failed counts a failure and opens the breaker when the count reaches the
// threshold or when a half-open trial failed.
func (b *breaker) failed(now time.Time, cfg *Config) {
	b.failures++
	switch {
	case b.stateAt(now) == HalfOpen:
		b.cooldown = min(2*max(b.cooldown, cfg.BreakerCooldown), cfg.BreakerMaxCooldown)
		b.open(now)
	case b.state != Open && b.failures >= cfg.BreakerFailures:
		b.cooldown = cfg.BreakerCooldown
		b.open(now)
	}
}

func (b *breaker) open(now time.Time) {
	b.state, b.until, b.trial, b.changed = Open, now.Add(b.cooldown), false, now
}

// released ends a half-open trial that neither succeeded nor failed (the
// miner turned the request away because its queue was full).
func (b *breaker) released() { b.trial = false }
