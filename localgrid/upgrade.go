package localgrid

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/refengine"
)

// Upgrade rehearses moving the grid from the reference model (A) to a variant
// (B) without downtime: B is pinned From blocks after the grid opens and A
// ends Until blocks after; in between, miners add B one after another, Every
// blocks apart, and drop A when its pin ends. The last Stay miners never
// switch, as an operator who misses the window.
type Upgrade struct {
	To    refengine.Variant
	From  uint64
	Until uint64
	Every uint64
	Stay  int
}

// Validate checks the rehearsal's windows.
func (u *Upgrade) Validate(miners int) error {
	switch {
	case u.To.Version == "" || u.To.Version == refengine.Version:
		return fractal.Errorf("upgrade.to", "must name a version other than %s", refengine.Version)
	case u.From == 0 || u.Until <= u.From:
		return fractal.Errorf("upgrade", "needs 0 < from < until, got from %d until %d", u.From, u.Until)
	case u.Stay < 0 || u.Stay >= miners:
		return fractal.Errorf("upgrade.stay", "must be between 0 and %d, got %d", miners-1, u.Stay)
	case u.From+uint64(miners-u.Stay-1)*u.Every >= u.Until:
		return fractal.Errorf("upgrade.every", "the last miner would switch after the window closes (from %d, every %d, until %d)", u.From, u.Every, u.Until)
	}
	return nil
}

// upgrade is a rehearsal in progress.
type upgrade struct {
	cfg   Upgrade
	base  uint64 // the block the grid opened at
	a, b  fractal.Profile
	to    *refengine.Engine
	pins  fractal.Pins
	mu    sync.Mutex
	moved map[int]time.Time // miner → when it began serving B
	done  time.Time         // every switching miner serves B only
	start time.Time
}

// planUpgrade pins A and B around the current block and builds B's engine.
func (g *Grid) planUpgrade(ctx context.Context) error {
	u := g.Config.Upgrade
	if u == nil {
		return nil
	}
	to, err := refengine.NewVariant(u.To)
	if err != nil {
		return fmt.Errorf("upgrade: %w", err)
	}
	base, err := g.chain.Block(ctx)
	if err != nil {
		return fmt.Errorf("upgrade: %w", err)
	}
	a := refengine.New().Profile()
	g.upgrade = &upgrade{
		cfg: *u, base: base, a: a, b: to.Profile(), to: to, moved: map[int]time.Time{}, start: time.Now(),
		pins: fractal.Pins{{Profile: a, Until: base + u.Until}, {Profile: to.Profile(), From: base + u.From}},
	}
	return g.upgrade.pins.Validate()
}

// pins returns the grid's pins: the rehearsal's, or nil for the defaults.
func (g *Grid) pins() fractal.Pins {
	if g.upgrade == nil {
		return nil
	}
	return g.upgrade.pins
}

// extraEngines are the validator's engines besides the reference one.
func (g *Grid) extraEngines() []fractal.Engine {
	if g.upgrade == nil {
		return nil
	}
	return []fractal.Engine{g.upgrade.to}
}

// followUpgrade switches miners at their blocks until every one that
// switches serves B only.
func (g *Grid) followUpgrade(ctx context.Context) {
	u := g.upgrade
	blocks, err := g.chain.WatchBlocks(ctx)
	if err != nil {
		g.logger.Warn("upgrade: cannot follow blocks", slog.Any("err", err))
		return
	}
	switching := len(g.miners) - u.cfg.Stay
	for b := range blocks {
		for i := range switching {
			at := u.base + u.cfg.From + uint64(i)*u.cfg.Every
			if b >= at && !u.hasMoved(i) {
				g.switchMiner(i, true)
			}
		}
		if b >= u.base+u.cfg.Until {
			for i := range switching {
				g.switchMiner(i, false)
			}
			u.mu.Lock()
			u.done = time.Now()
			u.mu.Unlock()
			g.logger.Info("upgrade done", slog.String("to", u.b.String()), slog.Uint64("block", b))
			return
		}
	}
}

// switchMiner makes miner i serve A and B (both) or B only.
func (g *Grid) switchMiner(i int, both bool) {
	u := g.upgrade
	factor := speedFactor(i, g.Config.Uneven)
	engines := []fractal.Engine{&PacedEngine{Engine: u.to, Factor: factor}}
	if both {
		engines = append(engines, &PacedEngine{Engine: refengine.New(), Factor: factor})
	}
	if err := g.miners[i].SetEngines(engines...); err != nil {
		g.logger.Error("upgrade: switching a miner failed", slog.Int("miner", i), slog.Any("err", err))
		return
	}
	if both {
		u.mu.Lock()
		u.moved[i] = time.Now()
		u.mu.Unlock()
	}
}

func (u *upgrade) hasMoved(i int) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	_, ok := u.moved[i]
	return ok
}

// UpgradeStatus reports a rehearsal: the pins, when each miner began serving
// B (after the grid opened), and when every switching miner served B only
// (zero until then).
type UpgradeStatus struct {
	Pins  fractal.Pins
	Base  uint64
	Moved map[int]time.Duration
	Done  time.Duration
}

// Upgrade returns the rehearsal's status; ok is false without one.
func (g *Grid) Upgrade() (st UpgradeStatus, ok bool) {
	u := g.upgrade
	if u == nil {
		return st, false
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	st = UpgradeStatus{Pins: u.pins, Base: u.base, Moved: map[int]time.Duration{}}
	for i, t := range u.moved {
		st.Moved[i] = t.Sub(u.start)
	}
	if !u.done.IsZero() {
		st.Done = u.done.Sub(u.start)
	}
	return st, true
}
