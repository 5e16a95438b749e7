package adversary

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/gateway"
	"github.com/fractal-grid/fractal/jetstream"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/validator"
)

// UsersReport is the users' load the suite ran beside the challenges.
type UsersReport struct {
	Load      float64 `json:"load"`       // share of the grid's capacity asked for
	PerSecond float64 `json:"per_second"` // jobs submitted per second
	// Submitted counts the jobs each gateway took: "validator", the one in
	// the validator's process, which hands its jobs to the validator, and
	// "replica", which shares them through the store's sample log.
	Submitted map[string]int `json:"submitted"`
	Refused   int            `json:"refused"` // submissions a gateway refused or failed
	// Verified counts the users' jobs the validator verified, by result;
	// each strategy's report has its own.
	Verified       int `json:"verified"`
	VerifiedFailed int `json:"verified_failed"`
}

// userSeeds are the seeds of the users' jobs submitted. The suite tells a
// user's job from a challenge by them, for its accounts of device time; a
// miner cannot.
type userSeeds struct {
	mu sync.Mutex
	m  map[uint64]bool
}

func newUserSeeds() *userSeeds { return &userSeeds{m: map[uint64]bool{}} }

func (s *userSeeds) add(seed uint64) {
	s.mu.Lock()
	s.m[seed] = true
	s.mu.Unlock()
}

// has reports whether seed is a user's job's (false on a nil set).
func (s *userSeeds) has(seed uint64) bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[seed]
}

// users submits users' jobs at a share of the grid's capacity, in turn to
// the validator's own gateway and to a replica, until stop.
type users struct {
	gateways []*gateway.Gateway
	names    []string
	keys     []string
	rep      UsersReport
	spec     gateway.CreateRequest
	interval time.Duration
	prompts  []string
	seeds    *userSeeds

	client    *http.Client
	submitted []atomic.Int64
	refused   atomic.Int64
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	stopped   sync.Once
}

// startUsers opens the two gateways on the suite's store and starts the
// load: Load × devices generations at a time, on average. With no load
// the gateways only send the validator's queued challenges.
func startUsers(ctx context.Context, cfg Config, g *grid, st *jetstream.Store, kv fractal.KV, v *validator.Validator, devices int, seeds *userSeeds, logger *slog.Logger) (*users, error) {
	s := cfg.Shape
	spec := fractal.Spec{Width: s.Width, Height: s.Height, Frames: s.Frames, FPS: s.FPS, Steps: s.Steps}
	gen := time.Duration(refengine.New().Profile().CostOf(spec) * float64(cfg.DevicePerCost))
	rate := cfg.UsersLoad * float64(devices) / gen.Seconds()
	frames, fps, steps := s.Frames, s.FPS, s.Steps
	u := &users{
		names:   []string{"validator", "replica"},
		spec:    gateway.CreateRequest{Size: fmt.Sprintf("%dx%d", s.Width, s.Height), Frames: &frames, FPS: &fps, Steps: &steps},
		prompts: OrganicPrompts(),
		seeds:   seeds,
		client:  &http.Client{Timeout: 30 * time.Second},
		rep:     UsersReport{Load: cfg.UsersLoad, PerSecond: rate, Submitted: map[string]int{}},
	}
	u.submitted = make([]atomic.Int64, len(u.names))
	for i, name := range u.names {
		gw := gateway.New()
		gw.Config.NetUID, gw.Config.Replica = netUID, name
		gw.Config.AllowPrivateAxons = !cfg.Public
		gw.Config.ProbeInterval = 200 * time.Millisecond
		gw.Config.DefaultActiveJobs = 1 << 12
		gw.Jobs, gw.Queue, gw.Blobs, gw.KV = st.Jobs(), st.Queue(), st.Blobs(), kv
		gw.Chain, gw.Hotkey = g.chain, g.validator
		gw.Logger = logger.With(slog.String("gateway", name))
		if cfg.Public {
			gw.Transport = loopback()
		}
		if i == 0 { // in the validator's process
			gw.Standings, gw.Sampler = v, v
		}
		if err := gw.Open(ctx); err != nil {
			u.close()
			return nil, fmt.Errorf("users' gateway %s: %w", name, err)
		}
		u.gateways = append(u.gateways, gw)
		if err := gw.Serve("127.0.0.1:0"); err != nil {
			u.close()
			return nil, fmt.Errorf("users' gateway %s: %w", name, err)
		}
		_, key, err := gw.Keys().Create(ctx, "users", 4*rate+10, 1<<12, 1<<12)
		if err != nil {
			u.close()
			return nil, err
		}
		u.keys = append(u.keys, key)
	}
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	u.cancel = cancel
	if rate > 0 {
		u.interval = time.Duration(float64(time.Second) / rate)
		u.wg.Add(1)
		go func() { defer u.wg.Done(); u.run(lctx) }()
	}
	return u, nil
}

// run submits jobs at exponential intervals (a Poisson stream), each to
// the next gateway in turn, until ctx ends.
func (u *users) run(ctx context.Context) {
	r := rand.New(rand.NewPCG(41, 43))
	for i := 0; ; i++ {
		wait := time.Duration(r.ExpFloat64() * float64(u.interval))
		if err := sleepCtx(ctx, wait); err != nil {
			return
		}
		req := u.spec
		req.Prompt = u.prompts[r.IntN(len(u.prompts))]
		seed := r.Uint64()
		req.Seed = &seed
		u.seeds.add(seed)
		at := i % len(u.gateways)
		u.wg.Add(1)
		go func() {
			defer u.wg.Done()
			switch ok := u.submit(ctx, at, req); {
			case ok:
				u.submitted[at].Add(1)
			case ctx.Err() == nil: // not the end of the load
				u.refused.Add(1)
			}
		}()
	}
}

// submit posts one job to gateway i's API on loopback.
func (u *users) submit(ctx context.Context, i int, req gateway.CreateRequest) bool {
	body, err := json.Marshal(req)
	if err != nil {
		return false
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+u.gateways[i].Addr()+"/v1/videos", bytes.NewReader(body))
	if err != nil {
		return false
	}
	hr.Header.Set("Authorization", "Bearer "+u.keys[i])
	hr.Header.Set("Content-Type", "application/json")
	resp, err := u.client.Do(hr)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode/100 == 2
}

// stop ends the load, closes the gateways (each finishes the jobs it
// dispatched) and returns what was submitted; a second call only returns
// it.
func (u *users) stop() UsersReport {
	u.stopped.Do(func() {
		u.cancel()
		u.wg.Wait()
		u.close()
		for i, name := range u.names {
			u.rep.Submitted[name] = int(u.submitted[i].Load())
		}
		u.rep.Refused = int(u.refused.Load())
	})
	return u.rep
}

func (u *users) close() {
	for _, gw := range u.gateways {
		gw.Close()
	}
}
