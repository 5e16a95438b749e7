package validator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/epistula"
	"github.com/fractal-grid/fractal/minerapi"
	"github.com/fractal-grid/fractal/sr25519"
	"github.com/fractal-grid/fractal/verify"
)

// Validator challenges, verifies and scores miners and sets weights.
type Validator struct {
	Config Config
	Engine fractal.Engine // the subnet's model, to recompute steps
	// Engines are engines of further pinned profiles (an upgrade window pins
	// two models): one per profile.
	Engines []fractal.Engine
	Hotkey  fractal.Signer
	Chain   fractal.Chain
	KV      fractal.KV       // scores survive restarts here
	Audit   fractal.AuditLog // every verification is appended here
	Words   map[string][]string
	// Samples and Blobs, when both set, bring users' finished jobs from
	// every gateway replica (the store's sample log, and the blob store
	// that holds their frames) for organic verification, and the failures
	// of users' jobs when Samples carries them (fractal.FailureLog).
	Samples fractal.SampleLog
	Blobs   fractal.BlobStore
	// Jobs and Queue are the gateways' job store and queue, which carry
	// challenges on the queue path (Config.ChallengePath): Samples must
	// then carry failures too (fractal.FailureLog), and Blobs be set.
	Jobs   fractal.JobStore
	Queue  fractal.JobQueue
	Logger *slog.Logger
	Now    func() time.Time
	// Transport carries signed requests to miners; nil: the default.
	Transport http.RoundTripper
	// Registry receives the validator's metrics; nil: a registry of its own.
	Registry *prometheus.Registry

	logger     *slog.Logger
	metrics    *metrics
	client     *minerapi.Client
	keys       sr25519.Verifier
	challenger *challenger
	reopens    *reopener  // late openings asked again
	linker     *linker    // hotkeys whose sweep latencies move together
	challenges *inflight  // queued challenges waiting for their end
	randMu     sync.Mutex // guards rand
	rand       *rand.Rand // seeds each check's own generator

	mu          sync.Mutex
	stats       map[string]*Stats // by hotkey
	turns       map[string]int    // by hotkey: challenges drawn, to take its profiles in turn
	graph       *fractal.Metagraph
	cursor      int
	weightsAt   uint64 // block of the last successful set_weights
	weightsSets int
	commits     commitState // commit-reveal: the pending hash commit, metrics
	// failures are the request ids of users' jobs' failures counted, with
	// when they failed, kept for fractal.SampleMaxAge (failure.go).
	failures       map[string]time.Time
	failuresPruned time.Time

	cancel  context.CancelFunc
	consume context.CancelFunc // ends the consumer Open started on the queue path
	wg      sync.WaitGroup
}

// New returns a validator with the default configuration.
func New() *Validator {
	return &Validator{Config: DefaultConfig(), Now: time.Now}
}

func (v *Validator) now() time.Time { return v.Now() }

// Open loads saved scores and prepares the challenger. Start begins the
// rounds; tests may call Round directly instead.
func (v *Validator) Open(ctx context.Context) error {
	if err := v.Config.Validate(); err != nil {
		return err
	}
	if v.Engine == nil || v.Hotkey == nil || v.Chain == nil || v.KV == nil || v.Audit == nil || v.Words == nil {
		return fmt.Errorf("validator: Engine, Hotkey, Chain, KV, Audit and Words must be set: %w", fractal.ErrInvalid)
	}
	if err := v.checkPins(); err != nil {
		return err
	}
	if err := v.checkQueuePath(); err != nil {
		return err
	}
	v.logger = v.Logger
	if v.logger == nil {
		v.logger = slog.New(slog.DiscardHandler)
	}
	v.turns = map[string]int{}
	corpus, err := NewCorpus(v.Words, v.Config.CorpusSize)
	if err != nil {
		return err
	}
	seed := cryptoSeed()
	v.challenger = &challenger{corpus: corpus, shapes: v.Config.Shapes, mix: newMix(), rand: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	v.rand = rand.New(rand.NewPCG(cryptoSeed(), cryptoSeed()))
	v.client = &minerapi.Client{HTTP: &http.Client{Transport: &epistula.Transport{Base: v.Transport, Signer: v.Hotkey, Now: v.Now}}, Now: v.Now}
	v.stats = map[string]*Stats{}
	v.metrics = newMetrics(v.Registry, v.Now)
	v.reopens = newReopener()
	v.linker = newLinker()
	if err := v.load(ctx); err != nil {
		return err
	}
	if v.queued() {
		v.challenges = newInflight()
		cctx, cancel := context.WithCancel(context.Background())
		v.consume = cancel
		v.wg.Add(1)
		go func() { defer v.wg.Done(); v.ConsumeSamples(cctx) }()
	}
	return nil
}

// queued reports whether challenges go through the gateways' queue.
func (v *Validator) queued() bool { return v.Config.ChallengePath == ChallengeQueue }

// checkQueuePath refuses the queue path without what it needs: with no
// store to carry them, challenges could not reach a replica or come back.
func (v *Validator) checkQueuePath() error {
	if !v.queued() {
		return nil
	}
	if _, ok := v.Samples.(fractal.FailureLog); !ok || v.Jobs == nil || v.Queue == nil || v.Blobs == nil {
		return fmt.Errorf("validator: the %s challenge path needs Jobs, Queue, Blobs and Samples carrying failures: %w", ChallengeQueue, fractal.ErrInvalid)
	}
	return nil
}

// newChecker returns a checker with a generator of its own, so checks run
// in parallel.
func (v *Validator) newChecker() *verify.Checker {
	v.randMu.Lock()
	a, b := v.rand.Uint64(), v.rand.Uint64()
	v.randMu.Unlock()
	return &verify.Checker{Engines: verify.EnginesOf(v.engines()...), Pins: v.pins(), Verifier: &v.keys, Policy: v.Config.Policy, Rand: rand.New(rand.NewPCG(a, b))}
}

// Start runs challenge rounds, the weight setter, the standings publisher
// and the consumer of shared samples (and failures) until Close.
func (v *Validator) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	v.cancel = cancel
	v.wg.Add(3)
	if v.Samples != nil && v.Blobs != nil && !v.queued() { // queued: Open started it
		v.wg.Add(1)
		go func() { defer v.wg.Done(); v.ConsumeSamples(ctx) }()
	}
	go func() {
		defer v.wg.Done()
		t := time.NewTicker(v.Config.Round)
		defer t.Stop()
		for {
			v.Round(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	go func() { defer v.wg.Done(); v.followBlocks(ctx) }()
	go func() { defer v.wg.Done(); v.publishLoop(ctx) }()
}

// Close stops the rounds and waits for them.
func (v *Validator) Close() error {
	if v.cancel != nil {
		v.cancel()
	}
	if v.consume != nil {
		v.consume()
	}
	v.wg.Wait()
	if v.reopens != nil {
		v.reopens.close()
	}
	return nil
}

func (v *Validator) statsKey(hotkey string) string {
	return fmt.Sprintf("validator.%d.stats.%s", v.Config.NetUID, hotkey)
}

// load reads every saved miner's statistics.
func (v *Validator) load(ctx context.Context) error {
	prefix := fmt.Sprintf("validator.%d.stats.", v.Config.NetUID)
	keys, err := v.KV.Keys(ctx, prefix)
	if err != nil {
		return fmt.Errorf("validator: load scores: %w", err)
	}
	for _, k := range keys {
		e, err := v.KV.Get(ctx, k)
		if err != nil {
			return fmt.Errorf("validator: load %s: %w", k, err)
		}
		var s Stats
		if err := json.Unmarshal(e.Value, &s); err != nil {
			return fmt.Errorf("validator: decode %s: %w", k, err)
		}
		v.stats[s.Hotkey] = &s
	}
	v.logger.Info("scores loaded", slog.Int("miners", len(v.stats)))
	return nil
}

func (v *Validator) save(ctx context.Context, s Stats) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	_, err = v.KV.Put(ctx, v.statsKey(s.Hotkey), b)
	return err
}

// Stats returns a copy of every miner's statistics, by uid order.
func (v *Validator) Stats() []Stats {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]Stats, 0, len(v.stats))
	for _, s := range v.stats {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UID < out[j].UID })
	return out
}

// Weights returns the weights the validator would set now, by uid.
func (v *Validator) Weights() map[uint16]float64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.weightsLocked()
}

// Operators returns the operator group of each registered hotkey as the
// weights see it, named by one of its hotkeys: hotkeys that share a
// coldkey, a public axon IP (on a public grid) or a link the sweeps found.
func (v *Validator) Operators() map[string]string {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.graph == nil {
		return nil
	}
	return operatorsOf(v.graph.Neurons, !v.Config.AllowPrivateAxons, v.linker.links())
}

func (v *Validator) weightsLocked() map[uint16]float64 {
	var miners []*Stats
	var operator map[string]string
	if v.graph != nil {
		operator = operatorsOf(v.graph.Neurons, !v.Config.AllowPrivateAxons, v.linker.links())
	}
	for _, s := range v.stats {
		if v.graph != nil {
			n, ok := v.graph.ByHotkey(s.Hotkey)
			if !ok {
				continue // deregistered
			}
			s.UID = n.UID
		}
		m := *s
		m.Operator = operator[s.Hotkey]
		miners = append(miners, &m)
	}
	return Weights(v.Config.Score, v.now(), miners)
}

// errNoMiners is logged when a round finds nobody to challenge.
var errNoMiners = errors.New("no serving miners")
