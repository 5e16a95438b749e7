package gridmap

import (
	"testing"
	"time"
)

func TestBreakerTransitions(t *testing.T) {
	cfg := DefaultConfig()
	m, c := MustNew(t, "a")
	m.SetStanding("m1", Standing{Verified: true})
	fail := func() { m.Dispatched("m1", 1); m.Finished("m1", Outcome{Result: Failed}) }
	succeed := func() {
		m.Dispatched("m1", 1)
		m.Finished("m1", Outcome{Result: Succeeded, Service: time.Second, Cost: 1})
	}
	steps := []struct {
		name         string
		do           func()
		wantState    BreakerState
		wantEligible bool
	}{
		{"starts closed", func() {}, Closed, true},
		{"failures below the threshold keep it closed", func() {
			for range cfg.BreakerFailures - 1 {
				fail()
			}
		}, Closed, true},
		{"a success resets the count", func() { succeed(); fail() }, Closed, true},
		{"consecutive failures open it", func() {
			for range cfg.BreakerFailures - 1 {
				fail()
			}
		}, Open, false},
		{"still open just before the cool-down ends", func() { c.Advance(cfg.BreakerCooldown - time.Millisecond) }, Open, false},
		{"half-open after the cool-down", func() { c.Advance(time.Millisecond) }, HalfOpen, true},
		{"one trial at a time", func() { m.Dispatched("m1", 1) }, HalfOpen, false},
		{"a failed trial reopens it", func() { m.Finished("m1", Outcome{Result: Failed}) }, Open, false},
		{"for twice the cool-down", func() { c.Advance(2*cfg.BreakerCooldown - time.Millisecond) }, Open, false},
		{"then half-open again", func() { c.Advance(time.Millisecond) }, HalfOpen, true},
		{"a rejected trial frees the slot", func() {
			m.Dispatched("m1", 1)
			m.Finished("m1", Outcome{Result: Rejected, RetryAfter: time.Nanosecond})
			c.Advance(time.Nanosecond)
		}, HalfOpen, true},
		{"a successful trial closes it", succeed, Closed, true},
		// Lost probes say more about the network than the miner: they
		// no longer open the breaker (issue 18); failed attempts do.
		{"lost probes do not open it", func() {
			for range 2 * cfg.BreakerFailures {
				m.ProbeFailed("m1")
			}
		}, Closed, true},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			s.do()
			v := mustView(t, m, "m1")
			if v.Breaker != s.wantState || v.Eligible != s.wantEligible {
				t.Errorf("breaker %s, eligible %v; want %s, %v", v.Breaker, v.Eligible, s.wantState, s.wantEligible)
			}
		})
	}
}

func TestBreakerCooldownCapped(t *testing.T) {
	cfg := DefaultConfig()
	var b breaker
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for range cfg.BreakerFailures {
		b.failed(now, &cfg)
	}
	for range 20 {
		now = b.until
		b.dispatched(now)
		b.failed(now, &cfg)
	}
	if b.cooldown != cfg.BreakerMaxCooldown {
		t.Errorf("cool-down after 20 failed trials = %v, want the cap %v", b.cooldown, cfg.BreakerMaxCooldown)
	}
}
