package fractal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Standing is a validator's verdict on one miner, as much of it as a gateway
// needs to route users' jobs: whether the miner passed checks, how reliably,
// its tier, and the profiles it passed them on. It is the whole contract
// between a validator and the gateways that route for it; both sides use
// this type, and gateway replicas read it from the KV the validator
// publishes it to (KVStandings).
type Standing struct {
	Hotkey        string    `json:"hotkey"`
	Passed        int64     `json:"passed"`  // checks passed, challenges and sampled users' jobs
	Success       float64   `json:"success"` // moving average of passing (1) and failing (0) checks
	Tier          int       `json:"tier"`    // higher is better; 0 is probation
	CooldownUntil time.Time `json:"cooldown_until,omitzero"`
	// Profiles are the profiles ("id@version") the miner passed checks on,
	// sorted.
	Profiles []string  `json:"profiles,omitempty"`
	Updated  time.Time `json:"updated,omitzero"` // when the validator last changed it
}

// Validate checks the fields a gateway relies on.
func (s Standing) Validate() error {
	switch {
	case s.Hotkey == "":
		return Errorf("hotkey", "must be set")
	case s.Passed < 0:
		return Errorf("passed", "must be ≥ 0, got %d", s.Passed)
	case math.IsNaN(s.Success) || s.Success < 0 || s.Success > 1:
		return Errorf("success", "must be in [0, 1], got %g", s.Success)
	case s.Tier < 0:
		return Errorf("tier", "must be ≥ 0, got %d", s.Tier)
	}
	for _, p := range s.Profiles {
		if id, version := ParseProfileRef(p); id == "" || version == "" {
			return Errorf("profiles", "%q is not id@version", p)
		}
	}
	return nil
}

// Verified reports whether the miner may get users' jobs at now: it passed
// a check and is not cooling down after a failed verification.
func (s Standing) Verified(now time.Time) bool {
	return s.Passed > 0 && !now.Before(s.CooldownUntil)
}

// PassedOn reports whether the miner passed a check on profile ("id@version").
func (s Standing) PassedOn(profile string) bool {
	return slices.Contains(s.Profiles, profile)
}

// StandingSource gives the standings of every miner a validator has checked,
// by hotkey. The validator is one; KVStandings, what it published, another.
type StandingSource interface {
	Standings(ctx context.Context) (map[string]Standing, error)
}

// StandingFunc is a StandingSource made of a function.
type StandingFunc func(ctx context.Context) (map[string]Standing, error)

// Standings calls f.
func (f StandingFunc) Standings(ctx context.Context) (map[string]Standing, error) { return f(ctx) }

var _ StandingSource = StandingFunc(nil)

// StandingsKey is the KV key under which the validator of subnet netuid
// publishes its standings.
func StandingsKey(netuid uint16) string { return fmt.Sprintf("standings.%d", netuid) }

// KVStandings keeps a subnet's standings under StandingsKey in a KV: the
// validator publishes them there, and gateway replicas in other processes
// read them back. All standings are one record, so a reader sees a whole
// publication, never half of one.
type KVStandings struct {
	KV     KV
	NetUID uint16
}

var _ StandingSource = (*KVStandings)(nil)

// publishedStandings is the record under StandingsKey.
type publishedStandings struct {
	Published time.Time  `json:"published"`
	Miners    []Standing `json:"miners"`
}

// Publish replaces the published standings with st, stamped at now.
func (k *KVStandings) Publish(ctx context.Context, st map[string]Standing, now time.Time) error {
	rec := publishedStandings{Published: now.Round(0), Miners: make([]Standing, 0, len(st))}
	for hotkey, s := range st {
		if s.Hotkey != hotkey {
			return fmt.Errorf("publish standings: %q filed under %q: %w", s.Hotkey, hotkey, ErrInvalid)
		}
		if err := s.Validate(); err != nil {
			return fmt.Errorf("publish standings: %s: %w", hotkey, err)
		}
		rec.Miners = append(rec.Miners, s)
	}
	slices.SortFunc(rec.Miners, func(a, b Standing) int { return strings.Compare(a.Hotkey, b.Hotkey) })
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("publish standings: %w", err)
	}
	if _, err := k.KV.Put(ctx, StandingsKey(k.NetUID), b); err != nil {
		return fmt.Errorf("publish standings: %w", err)
	}
	return nil
}

// Standings returns the published standings; none (and no error) before
// the validator's first publication. A record that does not decode, or
// holds an invalid standing, is an error wrapping ErrInvalid: a reader
// keeps what it had rather than route on half a verdict.
func (k *KVStandings) Standings(ctx context.Context) (map[string]Standing, error) {
	e, err := k.KV.Get(ctx, StandingsKey(k.NetUID))
	if errors.Is(err, ErrNotFound) {
		return map[string]Standing{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read standings: %w", err)
	}
	var rec publishedStandings
	if err := json.Unmarshal(e.Value, &rec); err != nil {
		return nil, fmt.Errorf("read standings: %w: %w", ErrInvalid, err)
	}
	out := make(map[string]Standing, len(rec.Miners))
	for _, s := range rec.Miners {
		if err := s.Validate(); err != nil {
			return nil, fmt.Errorf("read standings: %w", err)
		}
		out[s.Hotkey] = s
	}
	return out, nil
}
