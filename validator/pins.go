package validator

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/minerapi"
	"github.com/fractal-grid/fractal/verify"
)

// engines returns every engine the validator verifies with, Engine first.
func (v *Validator) engines() []fractal.Engine {
	return append([]fractal.Engine{v.Engine}, v.Engines...)
}

// pins returns the configured pins, or every engine's profile pinned for good.
func (v *Validator) pins() fractal.Pins {
	if len(v.Config.Pins) > 0 {
		return v.Config.Pins
	}
	var ps []fractal.Profile
	for _, e := range v.engines() {
		ps = append(ps, e.Profile())
	}
	return fractal.PinsOf(ps...)
}

// checkPins refuses pins the validator cannot verify: every pinned profile
// needs an engine of that exact model.
func (v *Validator) checkPins() error {
	pins := v.pins()
	if err := pins.Validate(); err != nil {
		return err
	}
	for _, p := range pins {
		if v.engineFor(p.Profile.String()) == nil {
			return fmt.Errorf("validator: %s is pinned but no engine serves it: %w", p.Profile, fractal.ErrInvalid)
		}
		for _, e := range v.engines() {
			if e.Profile().String() == p.Profile.String() && e.Profile().Same(p.Profile) != nil {
				return fmt.Errorf("validator: pin %s: %w", p.Profile, e.Profile().Same(p.Profile))
			}
		}
	}
	return nil
}

// engineFor returns the engine of a profile ("id@version"), or nil.
func (v *Validator) engineFor(ref string) fractal.Engine {
	for _, e := range v.engines() {
		if e.Profile().String() == ref {
			return e
		}
	}
	return nil
}

// block returns the block of the last metagraph (0 before the first).
func (v *Validator) block() uint64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.graph == nil {
		return 0
	}
	return v.graph.Block
}

// costOf returns a spec's cost under its pinned profile (legacy when it names none).
func (v *Validator) costOf(spec fractal.Spec) float64 {
	if p, ok := v.pins().Lookup(spec.Profile); ok {
		return p.CostOf(spec)
	}
	return fractal.LegacyCost().Of(spec)
}

// assignProfiles picks the profile each miner is challenged on this round:
// among the active pins the miner claims in its health answer, in turn, so
// that over rounds every active profile it claims is covered. A miner whose
// health cannot be read is challenged on the default profile (the challenge
// then fails on its own terms); one that claims no active profile is marked
// none and gets no challenge.
func (v *Validator) assignProfiles(ctx context.Context, ps []picked) {
	active := v.pins().Active(v.block())
	if len(active) == 0 {
		for i := range ps {
			ps[i].none = true
		}
		return
	}
	claims := v.claims(ctx, ps)
	v.mu.Lock()
	defer v.mu.Unlock()
	for i := range ps {
		c, ok := claims[ps[i].n.Hotkey]
		if !ok {
			ps[i].profile = active[0]
			continue
		}
		var served []fractal.Profile
		for _, p := range active {
			if slices.Contains(c, p.String()) {
				served = append(served, p)
			}
		}
		if len(served) == 0 {
			ps[i].none, ps[i].claimed = true, c
			continue
		}
		n := v.turns[ps[i].n.Hotkey]
		v.turns[ps[i].n.Hotkey] = n + 1
		ps[i].profile = served[n%len(served)]
	}
}

// claims asks each picked miner which profiles it serves, in parallel;
// miners that do not answer are left out.
func (v *Validator) claims(ctx context.Context, ps []picked) map[string][]string {
	out := map[string][]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(v.Config.Parallel, 4))
	for _, p := range ps {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			hctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			target := minerapi.Target{URL: "http://" + p.n.Axon.AddrPort().String(), Hotkey: p.n.Hotkey}
			h, err := v.client.Health(hctx, target)
			if err != nil || h.Hotkey != p.n.Hotkey {
				return
			}
			mu.Lock()
			out[p.n.Hotkey] = h.Serves()
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// noActiveProfile is the outcome for a miner that serves none of the active
// profiles: a failure, not a cheat. After an upgrade window closes, a miner
// still on the old model scores nothing.
func (v *Validator) noActiveProfile(p picked) attempt {
	active := v.pins().Active(v.block())
	names := make([]string, len(active))
	for i, a := range active {
		names[i] = a.String()
	}
	rec := Record{Miner: p.n.Hotkey, UID: p.n.UID, Reason: verify.ReasonProfile,
		Detail: fmt.Sprintf("serves %s; active at block %d: %s", strings.Join(p.claimed, ", "), v.block(), strings.Join(names, ", "))}
	return attempt{miner: p.n, rec: rec, scored: true}
}

// shapesFor returns the configured shapes a profile serves; when none fits
// its limits, its default shape.
func shapesFor(p fractal.Profile, shapes []Shape) []Shape {
	var out []Shape
	for _, s := range shapes {
		if p.Check(s.spec("x", p)) == nil {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		d := p.Limits.Default
		out = append(out, Shape{Width: d.Width, Height: d.Height, Frames: d.Frames, FPS: d.FPS, Steps: d.Steps})
	}
	return out
}
