package adversary

import (
	"context"
	"sync"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/refengine"
)

// Device models one GPU: a miner holds it for a whole generation and is
// busy on it for the share of an honest generation's work it really did,
// times PerCost per unit of spec cost. The reference engine's CPU work runs
// meanwhile; the device time around it makes speed depend on work done
// rather than on how the suite's CPUs are shared, so a Sybil's hotkeys, which share
// one Device, queue for it as they would for one GPU.
type Device struct {
	PerCost time.Duration // device time of an honest generation per unit of spec cost

	sem  chan struct{}
	mu   sync.Mutex
	busy time.Duration // device time spent
	cpu  time.Duration // wall time of the engine work itself
	work float64       // sum of work shares
	jobs int
	// Of which on users' jobs; the rest went to the validator's
	// challenges.
	usersBusy time.Duration
	usersJobs int
}

// NewDevice returns an idle device.
func NewDevice(perCost time.Duration) *Device {
	return &Device{PerCost: perCost, sem: make(chan struct{}, 1)}
}

// run holds the device for a generation. fn, the engine's CPU work, runs
// from the moment the device is taken and returns the share of an honest
// generation's work it did; the device stays held until that share of an
// honest generation's device time has passed since it was taken, or fn is
// done if that is later. step (when not nil) is called at each of steps
// even slices of that time, as a GPU reports its sampling steps while it
// runs them: at an honest pace until fn returns, then at its own. user
// says the job is a user's, not a challenge, for the accounts.
func (d *Device) run(ctx context.Context, cost float64, steps int, user bool, step func(int), fn func() (float64, error)) error {
	select {
	case d.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-d.sem }()
	start := time.Now()
	type produced struct {
		work float64
		err  error
	}
	done := make(chan produced, 1)
	go func() {
		w, err := fn()
		done <- produced{w, err}
	}()
	steps = max(steps, 1)
	honest := time.Duration(cost * float64(d.PerCost))
	reported := 0
	at := func(total time.Duration, t int) time.Time {
		return start.Add(total * time.Duration(t) / time.Duration(steps))
	}
	var p produced
	for waiting := true; waiting; {
		tick := time.NewTimer(time.Until(at(honest, reported+1)))
		if reported >= steps-1 { // the last step waits for the work
			tick.Stop()
		}
		select {
		case p = <-done:
			waiting = false
		case <-tick.C:
			reported++
			if step != nil {
				step(reported)
			}
		}
		tick.Stop()
	}
	took := time.Since(start)
	busy := time.Duration(p.work * float64(honest))
	d.mu.Lock()
	d.busy += busy
	d.cpu += took
	d.work += p.work
	d.jobs++
	if user {
		d.usersBusy += busy
		d.usersJobs++
	}
	d.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	for t := reported + 1; t <= steps; t++ {
		if err := sleepCtx(ctx, time.Until(at(busy, t))); err != nil {
			return err
		}
		if step != nil {
			step(t)
		}
	}
	return nil
}

// Usage is what a device did; UsersJobs and UsersDeviceTime the part of
// it on users' jobs (the rest served the validator's challenges).
type Usage struct {
	Jobs            int           `json:"jobs"`
	Work            float64       `json:"work"` // in honest generations
	EngineTime      time.Duration `json:"engine_ns"`
	DeviceTime      time.Duration `json:"device_ns"`
	UsersJobs       int           `json:"users_jobs"`
	UsersDeviceTime time.Duration `json:"users_device_ns"`
}

// Usage returns the device's totals.
func (d *Device) Usage() Usage {
	d.mu.Lock()
	defer d.mu.Unlock()
	return Usage{Jobs: d.jobs, Work: d.work, EngineTime: d.cpu, DeviceTime: d.busy, UsersJobs: d.usersJobs, UsersDeviceTime: d.usersBusy}
}

// Engine serves a strategy on a device. It claims the base engine's profile
// whatever the strategy does: a cheat does not announce itself.
type Engine struct {
	Base     *refengine.Engine
	Strategy Strategy
	Device   *Device

	users *userSeeds // tells the suite's accounts a user's job from a challenge
}

var _ fractal.Engine = (*Engine)(nil)

// Profile returns the base engine's profile.
func (e *Engine) Profile() fractal.Profile { return e.Base.Profile() }

// Step is the base engine's step: the miner recomputes states with it only
// between checkpoints, and suites keep every state.
func (e *Engine) Step(ctx context.Context, spec fractal.Spec, t int, prev fractal.State) (fractal.State, error) {
	return e.Base.Step(ctx, spec, t, prev)
}

// Decode is the base engine's decode.
func (e *Engine) Decode(ctx context.Context, spec fractal.Spec, final fractal.State) (*fractal.Frames, error) {
	return e.Base.Decode(ctx, spec, final)
}

// Generate runs the strategy on the device and reports each step as the
// device time passes (cheats report progress like anyone else): a job
// queued behind another on the device shows its first progress only once
// the device is its own, as on a GPU.
func (e *Engine) Generate(ctx context.Context, spec fractal.Spec, opts fractal.GenerateOptions) (*fractal.Result, error) {
	if err := e.Base.Profile().Check(spec); err != nil {
		return nil, err
	}
	var step func(int)
	if opts.Progress != nil {
		step = func(t int) { opts.Progress(fractal.Progress{Step: t, Steps: spec.Steps}) }
	}
	var res *fractal.Result
	err := e.Device.run(ctx, e.Base.Profile().CostOf(spec), spec.Steps, e.users.has(spec.Seed), step, func() (float64, error) {
		var work float64
		var err error
		res, work, err = e.Strategy.Produce(ctx, e.Base, spec)
		return work, err
	})
	if err != nil {
		return nil, err
	}
	if h, ok := e.Strategy.(holder); ok {
		if err := sleepCtx(ctx, h.hold()); err != nil {
			return nil, err
		}
	}
	if !opts.KeepStates {
		res.States = nil
	}
	return res, nil
}

// holder is a strategy that holds its answer back after the work.
type holder interface{ hold() time.Duration }

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
