package devchain

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/fractal-grid/fractal"
)

// Log keys.
const (
	logBlock     = "block"
	logNetUID    = "netuid"
	logErr       = "err"
	logSubnets   = "subnets"
	logBlockTime = "block_time"
	logUID       = "uid"
	logHotkey    = "hotkey"
	logOwner     = "owner"
	logURL       = "url"
	logPrevious  = "previous"
	logPath      = "path"
	logRound     = "round"
)

// MaxAdvance bounds the blocks one Advance call produces.
const MaxAdvance = 100_000

// maxCatchUp bounds how many missed block numbers a watcher replays.
const maxCatchUp = 1024

// Chain is an in-process devchain. Writers are identified by the Signer they
// pass; in process nothing is signed.
type Chain struct {
	Config Config
	Logger *slog.Logger
	// Now is the clock; it stamps produced blocks.
	Now func() time.Time

	mu        sync.RWMutex
	st        *state
	lastBlock time.Time     // wall time of the last produced block
	changed   chan struct{} // closed and replaced on each new block
	open      bool
	closed    bool
	lock      *os.File // holds the data directory's lock while open
	// version counts the changes since Open; with boot it tags a state
	// for HTTP caching.
	version uint64
	boot    string

	done chan struct{}
	wg   sync.WaitGroup
}

var (
	_ fractal.Chain = (*Chain)(nil)
	_ Admin         = (*Chain)(nil)
)

// New returns a Chain with cfg; call Open before use.
func New(cfg Config) *Chain {
	return &Chain{
		Config:  cfg,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:     time.Now,
		changed: make(chan struct{}),
		done:    make(chan struct{}),
	}
}

// Open loads the snapshot from the data directory (or creates genesis) and
// starts block production when Config.BlockTime is set.
func (c *Chain) Open(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := c.Config.Validate(); err != nil {
		return fmt.Errorf("devchain config: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open || c.closed {
		return fmt.Errorf("devchain: Open called twice: %w", fractal.ErrConflict)
	}
	st, err := c.load()
	if err != nil {
		if c.lock != nil {
			c.lock.Close()
			c.lock = nil
		}
		return err
	}
	st.inclusion = c.Config.InclusionEpoch
	var boot [8]byte
	rand.Read(boot[:])
	c.st, c.open, c.lastBlock, c.boot = st, true, c.Now(), hex.EncodeToString(boot[:])
	c.Logger.Info("devchain open", logBlock, st.Block, logSubnets, len(st.Subnets), logBlockTime, c.Config.BlockTime)
	if c.Config.BlockTime > 0 {
		c.wg.Add(1)
		go c.produceLoop()
	}
	return nil
}

// load locks the data directory and reads its snapshot, or creates and
// saves genesis.
func (c *Chain) load() (*state, error) {
	var st *state
	if dir := c.Config.DataDir; dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("devchain data directory: %w", err)
		}
		var err error
		if c.lock, err = lockDir(dir); err != nil {
			return nil, err
		}
		if st, err = loadState(dir); err != nil {
			return nil, err
		}
	}
	if st == nil {
		st = newState()
		st.TaoWeight = TaoWeightFraction(c.Config.TaoWeight)
		if c.Config.GenesisSubnet {
			if _, err := st.createSubnet(c.Config.Sudo, c.Config.Subnet); err != nil {
				return nil, err
			}
		}
		if err := c.persist(st); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// Close stops block production and watchers, waits for them and writes a
// final snapshot.
func (c *Chain) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	wasOpen := c.open
	close(c.done)
	c.mu.Unlock()
	c.wg.Wait()
	if !wasOpen {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.persist(c.st)
	if c.lock != nil {
		c.lock.Close()
	}
	return err
}

func (c *Chain) produceLoop() {
	defer c.wg.Done()
	t := time.NewTicker(c.Config.BlockTime)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
			if _, err := c.Advance(1); err != nil && !errors.Is(err, fractal.ErrUnavailable) {
				c.Logger.Error("produce block", logErr, err)
			}
		}
	}
}

// Advance produces n blocks at once (1 ≤ n ≤ MaxAdvance), running consensus
// on every subnet whose tempo comes due, and returns the new block number.
func (c *Chain) Advance(n int) (uint64, error) {
	if n < 1 || n > MaxAdvance {
		return 0, fractal.Errorf("blocks", "%d is outside 1-%d", n, MaxAdvance)
	}
	var block uint64
	var events []revealEvent
	err := c.update(func(st *state) error {
		st.Block += uint64(n)
		for _, sn := range sortedSubnets(st) {
			// Nothing changes between the blocks of one call and an epoch
			// overwrites what the previous one computed, so only the last
			// epoch due needs to run: the work is bounded whatever n is.
			// Timelocked commits are revealed first, as subtensor reveals
			// them before the block's epoch, so they count at once.
			tempo := uint64(sn.Params.Tempo)
			due := (st.Block - sn.LastEpoch) / tempo
			sn.EpochIndex += due
			events = append(events, st.revealTimelocked(sn)...)
			if due > 0 {
				last := sn.LastEpoch + due*tempo
				sn.LastEpoch = last - tempo
				st.epoch(sn, last)
			}
		}
		block = st.Block
		c.lastBlock = c.Now()
		close(c.changed)
		c.changed = make(chan struct{})
		return nil
	})
	if err == nil {
		c.Logger.Debug("block", logBlock, block)
		c.logReveals(block, events)
	}
	return block, err
}

// logReveals reports the timelocked commits revealed at block.
func (c *Chain) logReveals(block uint64, events []revealEvent) {
	for _, e := range events {
		if e.Err != nil {
			c.Logger.Warn("timelocked weights not applied", logBlock, block, logNetUID, e.NetUID, logHotkey, e.Hotkey, logRound, e.Round, logErr, e.Err)
			continue
		}
		c.Logger.Info("timelocked weights revealed", logBlock, block, logNetUID, e.NetUID, logHotkey, e.Hotkey, logRound, e.Round)
	}
}

// update applies fn to the state under the write lock and persists the
// result. fn must validate before it mutates.
func (c *Chain) update(fn func(st *state) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.usable(); err != nil {
		return err
	}
	if err := fn(c.st); err != nil {
		return err
	}
	c.version++
	return c.persist(c.st)
}

// view runs fn under the read lock.
func (c *Chain) view(fn func(st *state) error) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if err := c.usable(); err != nil {
		return err
	}
	return fn(c.st)
}

func (c *Chain) usable() error {
	switch {
	case c.closed:
		return fmt.Errorf("devchain is closed: %w", fractal.ErrUnavailable)
	case !c.open:
		return fmt.Errorf("devchain is not open: %w", fractal.ErrUnavailable)
	}
	return nil
}

func (c *Chain) persist(st *state) error {
	if c.Config.DataDir == "" {
		return nil
	}
	return saveState(c.Config.DataDir, st)
}

// Block returns the current block number.
func (c *Chain) Block(ctx context.Context) (uint64, error) {
	var b uint64
	err := c.view(func(st *state) error { b = st.Block; return nil })
	return b, err
}

// head returns the current block and the wall time it was produced at
// (the open time for a block loaded from disk).
func (c *Chain) head() (uint64, time.Time, error) {
	var b uint64
	var at time.Time
	err := c.view(func(st *state) error { b, at = st.Block, c.lastBlock; return nil })
	return b, at, err
}

// Metagraph returns a snapshot of subnet netuid.
func (c *Chain) Metagraph(ctx context.Context, netuid uint16) (*fractal.Metagraph, error) {
	m, _, err := c.metagraph(netuid, "")
	return m, err
}

// metagraph returns subnet netuid and a tag that changes whenever the
// chain does; when the tag equals ifNot it returns a nil metagraph.
func (c *Chain) metagraph(netuid uint16, ifNot string) (*fractal.Metagraph, string, error) {
	var m *fractal.Metagraph
	var tag string
	err := c.view(func(st *state) error {
		sn, err := st.subnet(netuid)
		if err != nil {
			return err
		}
		if tag = fmt.Sprintf("%s-%d-%d", c.boot, netuid, c.version); tag == ifNot {
			return nil
		}
		m = &fractal.Metagraph{NetUID: netuid, Block: st.Block, Tempo: sn.Params.Tempo,
			Neurons: make([]fractal.Neuron, len(sn.Neurons))}
		for uid, n := range sn.Neurons {
			m.Neurons[uid] = fractal.Neuron{
				UID: uint16(uid), Hotkey: n.Hotkey, Coldkey: n.Coldkey, Stake: st.stakeOf(n),
				AlphaStake: n.Stake, RootStake: st.RootStake[n.Hotkey],
				ValidatorPermit: n.Permit, Active: st.Block-n.LastUpdate <= sn.Params.ActivityCutoff,
				LastUpdate: n.LastUpdate, Incentive: n.Incentive, Emission: n.Emission, Axon: n.Axon,
			}
		}
		return nil
	})
	return m, tag, err
}

// WatchBlocks sends the current block number and then each new one, in
// order, until ctx is done or the chain closes. A slow reader that falls
// more than 1024 blocks behind skips ahead.
func (c *Chain) WatchBlocks(ctx context.Context) (<-chan uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.usable(); err != nil {
		return nil, err
	}
	ch := make(chan uint64, 1)
	last, wait := c.st.Block, c.changed
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer close(ch)
		send := func(b uint64) bool {
			select {
			case ch <- b:
				return true
			case <-ctx.Done():
			case <-c.done:
			}
			return false
		}
		if !send(last) {
			return
		}
		for {
			select {
			case <-ctx.Done():
				return
			case <-c.done:
				return
			case <-wait:
			}
			c.mu.RLock()
			cur := c.st.Block
			wait = c.changed
			c.mu.RUnlock()
			from := last + 1
			if cur > last+maxCatchUp {
				from = cur - maxCatchUp + 1
			}
			for b := from; b <= cur; b++ {
				if !send(b) {
					return
				}
			}
			last = cur
		}
	}()
	return ch, nil
}

// subnet returns subnet netuid or an error wrapping fractal.ErrNotFound.
func (s *state) subnet(netuid uint16) (*subnet, error) {
	sn, ok := s.Subnets[netuid]
	if !ok {
		return nil, fmt.Errorf("subnet %d does not exist (list subnets with 'fractal chain subnet list'): %w",
			netuid, fractal.ErrNotFound)
	}
	return sn, nil
}
