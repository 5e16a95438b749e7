// Package chaintest is the contract test suite for fractal.Chain. Every
// implementation (devchain in process, devchain over HTTP, subtensor on a
// real runtime) runs the same Run with a Harness that adapts its setup.
//
// Errors are part of the contract; implementations map their failures to
// the domain's sentinels:
//
//	unknown netuid                                → fractal.ErrNotFound
//	malformed or wrong-prefix SS58, bad axon IP or
//	port 0, mismatched lengths, unknown uid       → fractal.ErrInvalid
//	caller not registered on the subnet           → fractal.ErrForbidden
//	hotkey already registered on the subnet       → fractal.ErrConflict
package chaintest

import (
	"context"
	"errors"
	"math"
	"math/bits"
	"net/netip"
	"testing"
	"time"

	subkey "github.com/vedhavyas/go-subkey/v2"

	"github.com/fractal-grid/fractal"
)

// Harness adapts one chain implementation to the suite.
type Harness struct {
	// Chain is the implementation under test.
	Chain fractal.Chain
	// Coldkey is a funded key; it signs the burned registrations.
	Coldkey fractal.Signer
	// Hotkeys holds at least 4 distinct keys, none registered on the subnet
	// NewSubnet returns. Where calls signed by a hotkey pay fees, fund them.
	Hotkeys []fractal.Signer
	// NewSubnet creates a subnet with at least 4 free uids, on which
	// Coldkey may register, and returns its netuid.
	NewSubnet func(ctx context.Context, tb testing.TB, chain fractal.Chain) uint16
	// SetStake gives hotkey, registered on netuid, rao of stake and a
	// validator permit. The suite reads the metagraph right after it,
	// before producing another block.
	SetStake func(ctx context.Context, tb testing.TB, netuid uint16, hotkey string, rao uint64)
	// AdvanceBlocks returns once at least n new blocks were produced.
	AdvanceBlocks func(ctx context.Context, tb testing.TB, n int)
	// AddRootStake, if set, adds rao of TAO to hotkey's stake on the root
	// network, which dynamic-TAO chains count on every subnet at TaoWeight
	// (a fraction of u64::MAX, as the runtime stores it). The suite then
	// checks that the metagraph gives a validator's alpha and root stake
	// apart and counts alpha + TaoWeight × root as its stake.
	AddRootStake func(ctx context.Context, tb testing.TB, hotkey string, rao uint64)
	TaoWeight    uint64
	// AllowWeights, if set, is called before each set_weights so that hotkey
	// may set weights now (rate limits, state a runtime resets each block).
	AllowWeights func(ctx context.Context, tb testing.TB, netuid uint16, hotkey string)
	// UnknownNetUID is a netuid that does not exist; 0 means 4242.
	UnknownNetUID uint16
	// AxonIP is the address served; the zero value means 127.0.0.2 (which
	// subtensor accepts, unlike 127.0.0.1, and which routes to loopback).
	// The metagraph must return it exactly: IPv4 as a 4-byte netip.Addr.
	AxonIP netip.Addr
	// Timeout bounds each step; 0 means 30 s.
	Timeout time.Duration

	// SetCommitReveal turns commit-reveal on or off on netuid, with no rate
	// limit on weights and a tempo short enough to step through epochs;
	// RunCommitReveal needs it.
	SetCommitReveal func(ctx context.Context, tb testing.TB, netuid uint16, on bool)
	// PublishPulse, if set, makes the chain hold the beacon signature of
	// round (a chain whose beacon signs its own rounds leaves it nil).
	PublishPulse func(ctx context.Context, tb testing.TB, round uint64)
	// TimelockRound, if set, is the round timelocked commits are sealed for
	// instead of the policy's (a test chain that holds only pulses it was
	// given, such as drand's round 1000).
	TimelockRound uint64
	// NoTimelock marks a runtime without timelocked commits: the suite
	// checks that a timelocked commit fails with fractal.ErrUnavailable.
	NoTimelock bool
	// AcceptsPastRounds marks a runtime that takes a timelocked commit for
	// a round below the beacon's last (spec 293's commit_crv3_weights checks
	// no round); the suite checks that it does instead of the refusal.
	AcceptsPastRounds bool
}

func (h *Harness) defaults(t *testing.T) {
	t.Helper()
	if h.Chain == nil || h.Coldkey == nil || h.NewSubnet == nil || h.SetStake == nil || h.AdvanceBlocks == nil {
		t.Fatal("chaintest: Harness needs Chain, Coldkey, NewSubnet, SetStake and AdvanceBlocks")
	}
	if len(h.Hotkeys) < 4 {
		t.Fatalf("chaintest: got %d hotkeys, want at least 4", len(h.Hotkeys))
	}
	if h.UnknownNetUID == 0 {
		h.UnknownNetUID = 4242
	}
	if !h.AxonIP.IsValid() {
		h.AxonIP = netip.AddrFrom4([4]byte{127, 0, 0, 2})
	}
	if h.Timeout == 0 {
		h.Timeout = 30 * time.Second
	}
}

// suite holds what the steps share: the subnet and the registered uids.
type suite struct {
	h      Harness
	netuid uint16
	// validator is Hotkeys[0], miners are Hotkeys[1:3], Hotkeys[3] is a
	// stranger that never registers.
	uids map[string]uint16
}

func (s *suite) ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), s.h.Timeout)
	t.Cleanup(cancel)
	return ctx
}

func (s *suite) validator() fractal.Signer  { return s.h.Hotkeys[0] }
func (s *suite) miner(i int) fractal.Signer { return s.h.Hotkeys[1+i] }
func (s *suite) stranger() fractal.Signer   { return s.h.Hotkeys[3] }

// Run runs the contract suite against h. The steps share one subnet and run
// in order; a failed step that later ones depend on stops the suite.
func Run(t *testing.T, h Harness) {
	h.defaults(t)
	s := &suite{h: h, uids: map[string]uint16{}}
	ctx, cancel := context.WithTimeout(t.Context(), h.Timeout)
	s.netuid = h.NewSubnet(ctx, t, h.Chain)
	cancel()

	t.Run("Blocks", s.testBlocks)
	t.Run("WatchBlocks", s.testWatchBlocks)
	if !t.Run("Register", s.testRegister) {
		t.Fatal("later steps need registered hotkeys")
	}
	t.Run("RegisterTwice", s.testRegisterTwice)
	t.Run("ServeAxon", s.testServeAxon)
	if !t.Run("StakeAndPermit", s.testStake) {
		t.Fatal("later steps need a validator with a permit")
	}
	if h.AddRootStake != nil {
		t.Run("StakeSplit", s.testStakeSplit)
	}
	t.Run("SetWeights", s.testSetWeights)
	t.Run("SetWeightsUnregistered", s.testSetWeightsUnregistered)
	t.Run("BadInput", s.testBadInput)
}

func (s *suite) metagraph(t *testing.T) *fractal.Metagraph {
	t.Helper()
	m, err := s.h.Chain.Metagraph(s.ctx(t), s.netuid)
	if err != nil {
		t.Fatalf("metagraph of subnet %d: %v", s.netuid, err)
	}
	if m.NetUID != s.netuid {
		t.Errorf("metagraph netuid: got %d, want %d", m.NetUID, s.netuid)
	}
	return m
}

func (s *suite) neuron(t *testing.T, m *fractal.Metagraph, hotkey string) fractal.Neuron {
	t.Helper()
	n, ok := m.ByHotkey(hotkey)
	if !ok {
		t.Fatalf("hotkey %s missing from the metagraph of subnet %d (%d neurons)", hotkey, s.netuid, len(m.Neurons))
	}
	return n
}

func (s *suite) testBlocks(t *testing.T) {
	ctx := s.ctx(t)
	b0, err := s.h.Chain.Block(ctx)
	if err != nil {
		t.Fatalf("block: %v", err)
	}
	s.h.AdvanceBlocks(ctx, t, 1)
	b1, err := s.h.Chain.Block(ctx)
	if err != nil {
		t.Fatalf("block: %v", err)
	}
	if b1 <= b0 {
		t.Errorf("block after advancing: got %d, want > %d", b1, b0)
	}
}

func (s *suite) testWatchBlocks(t *testing.T) {
	ctx := s.ctx(t)
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	ch, err := s.h.Chain.WatchBlocks(wctx)
	if err != nil {
		t.Fatalf("watch blocks: %v", err)
	}
	start, err := s.h.Chain.Block(ctx)
	if err != nil {
		t.Fatalf("block: %v", err)
	}
	s.h.AdvanceBlocks(ctx, t, 2)
	var last uint64
	seen := 0
	for last < start+2 {
		select {
		case b, ok := <-ch:
			if !ok {
				t.Fatalf("block channel closed early after %d blocks (last %d)", seen, last)
			}
			if seen > 0 && b <= last {
				t.Errorf("block %d delivered after %d, want increasing numbers", b, last)
			}
			last = b
			seen++
		case <-ctx.Done():
			t.Fatalf("watching blocks: got up to %d, want %d: %v", last, start+2, ctx.Err())
		}
	}
	stop()
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-ctx.Done():
			t.Fatal("block channel not closed after its context was cancelled")
		}
	}
}

func (s *suite) testRegister(t *testing.T) {
	ctx := s.ctx(t)
	keys := []fractal.Signer{s.validator(), s.miner(0), s.miner(1)}
	for _, k := range keys {
		if err := s.h.Chain.BurnedRegister(ctx, s.h.Coldkey, s.netuid, k.SS58()); err != nil {
			t.Fatalf("burned_register %s on subnet %d: %v", k.SS58(), s.netuid, err)
		}
	}
	m := s.metagraph(t)
	seen := map[uint16]bool{}
	for _, n := range m.Neurons {
		if seen[n.UID] {
			t.Errorf("uid %d listed twice", n.UID)
		}
		seen[n.UID] = true
	}
	for _, k := range keys {
		n := s.neuron(t, m, k.SS58())
		if n.Coldkey != s.h.Coldkey.SS58() {
			t.Errorf("coldkey of %s: got %s, want %s", k.SS58(), n.Coldkey, s.h.Coldkey.SS58())
		}
		s.uids[k.SS58()] = n.UID
	}
	if _, ok := m.ByHotkey(s.stranger().SS58()); ok {
		t.Errorf("unregistered hotkey %s is in the metagraph", s.stranger().SS58())
	}
	if m.Block == 0 {
		t.Error("metagraph block: got 0, want the block it was read at")
	}
}

func (s *suite) testRegisterTwice(t *testing.T) {
	err := s.h.Chain.BurnedRegister(s.ctx(t), s.h.Coldkey, s.netuid, s.miner(0).SS58())
	if !errors.Is(err, fractal.ErrConflict) {
		t.Errorf("registering %s twice: got %v, want ErrConflict", s.miner(0).SS58(), err)
	}
}

func (s *suite) testServeAxon(t *testing.T) {
	want := fractal.Axon{IP: s.h.AxonIP, Port: 8091, Protocol: 4, Version: 7}
	if err := s.h.Chain.ServeAxon(s.ctx(t), s.miner(0), s.netuid, want); err != nil {
		t.Fatalf("serve_axon %v: %v", want.AddrPort(), err)
	}
	got := s.neuron(t, s.metagraph(t), s.miner(0).SS58()).Axon
	if got != want {
		t.Errorf("axon: got %+v, want %+v", got, want)
	}
	if !got.Served() {
		t.Errorf("axon %+v: Served() = false, want true", got)
	}
}

func (s *suite) testStake(t *testing.T) {
	const rao = 1000 * fractal.RaoPerTAO
	s.h.SetStake(s.ctx(t), t, s.netuid, s.validator().SS58(), rao)
	n := s.neuron(t, s.metagraph(t), s.validator().SS58())
	if n.Stake != rao {
		t.Errorf("stake: got %d rao, want %d", n.Stake, rao)
	}
	if !n.ValidatorPermit {
		t.Error("validator permit: got false, want true")
	}
}

// testStakeSplit adds root TAO to the validator that testStake gave alpha.
func (s *suite) testStakeSplit(t *testing.T) {
	const alpha, root = 1000 * fractal.RaoPerTAO, 4000 * fractal.RaoPerTAO
	s.h.AddRootStake(s.ctx(t), t, s.validator().SS58(), root)
	n := s.neuron(t, s.metagraph(t), s.validator().SS58())
	hi, lo := bits.Mul64(root, s.h.TaoWeight)
	weighted, _ := bits.Div64(hi, lo, math.MaxUint64)
	if n.AlphaStake != alpha || n.RootStake != root || n.Stake != alpha+weighted {
		t.Errorf("stake: got %d rao (alpha %d, root %d), want %d (alpha %d + TaoWeight %d/2^64 × root %d)",
			n.Stake, n.AlphaStake, n.RootStake, alpha+weighted, uint64(alpha), s.h.TaoWeight, uint64(root))
	}
	if !n.ValidatorPermit {
		t.Error("validator permit: got false, want true")
	}
}

func (s *suite) allowWeights(t *testing.T, hotkey string) {
	if s.h.AllowWeights != nil {
		s.h.AllowWeights(s.ctx(t), t, s.netuid, hotkey)
	}
}

func (s *suite) testSetWeights(t *testing.T) {
	ctx := s.ctx(t)
	before, err := s.h.Chain.Block(ctx)
	if err != nil {
		t.Fatalf("block: %v", err)
	}
	s.allowWeights(t, s.validator().SS58())
	uids := []uint16{s.uids[s.miner(0).SS58()], s.uids[s.miner(1).SS58()]}
	if err := s.h.Chain.SetWeights(ctx, s.validator(), s.netuid, uids, []uint16{65535, 32768}, 0); err != nil {
		t.Fatalf("set_weights by a permitted validator: %v", err)
	}
	n := s.neuron(t, s.metagraph(t), s.validator().SS58())
	if n.LastUpdate < before {
		t.Errorf("validator last update: got block %d, want >= %d", n.LastUpdate, before)
	}
}

func (s *suite) testSetWeightsUnregistered(t *testing.T) {
	s.allowWeights(t, s.stranger().SS58())
	err := s.h.Chain.SetWeights(s.ctx(t), s.stranger(), s.netuid, []uint16{s.uids[s.miner(0).SS58()]}, []uint16{65535}, 0)
	if !errors.Is(err, fractal.ErrForbidden) {
		t.Errorf("set_weights by unregistered %s: got %v, want ErrForbidden", s.stranger().SS58(), err)
	}
}

func (s *suite) testBadInput(t *testing.T) {
	c, unknown := s.h.Chain, s.h.UnknownNetUID
	miner := s.uids[s.miner(0).SS58()]
	pub := s.stranger().PublicKey()
	polkadot := subkey.SS58Encode(pub[:], 0) // a valid address with the wrong network prefix
	axon := fractal.Axon{IP: s.h.AxonIP, Port: 8092, Protocol: 4}
	withIP := func(ip string) fractal.Axon { a := axon; a.IP = netip.MustParseAddr(ip); return a }
	noPort := axon
	noPort.Port = 0
	cases := []struct {
		name string
		call func(ctx context.Context) error
		want error
	}{
		{"MetagraphUnknownNetUID", func(ctx context.Context) error { _, err := c.Metagraph(ctx, unknown); return err }, fractal.ErrNotFound},
		{"RegisterUnknownNetUID", func(ctx context.Context) error {
			return c.BurnedRegister(ctx, s.h.Coldkey, unknown, s.stranger().SS58())
		}, fractal.ErrNotFound},
		{"RegisterMalformedSS58", func(ctx context.Context) error {
			return c.BurnedRegister(ctx, s.h.Coldkey, s.netuid, "5NotAnAddress")
		}, fractal.ErrInvalid},
		{"RegisterWrongPrefix", func(ctx context.Context) error { return c.BurnedRegister(ctx, s.h.Coldkey, s.netuid, polkadot) }, fractal.ErrInvalid},
		{"ServeAxonUnspecifiedIP", func(ctx context.Context) error { return c.ServeAxon(ctx, s.miner(1), s.netuid, withIP("0.0.0.0")) }, fractal.ErrInvalid},
		{"ServeAxonNoIP", func(ctx context.Context) error {
			return c.ServeAxon(ctx, s.miner(1), s.netuid, fractal.Axon{Port: 8092, Protocol: 4})
		}, fractal.ErrInvalid},
		{"ServeAxonPortZero", func(ctx context.Context) error { return c.ServeAxon(ctx, s.miner(1), s.netuid, noPort) }, fractal.ErrInvalid},
		{"ServeAxonUnknownNetUID", func(ctx context.Context) error { return c.ServeAxon(ctx, s.miner(1), unknown, axon) }, fractal.ErrNotFound},
		{"ServeAxonUnregistered", func(ctx context.Context) error { return c.ServeAxon(ctx, s.stranger(), s.netuid, axon) }, fractal.ErrForbidden},
		{"SetWeightsLengthMismatch", func(ctx context.Context) error {
			return c.SetWeights(ctx, s.validator(), s.netuid, []uint16{miner}, []uint16{1, 2}, 0)
		}, fractal.ErrInvalid},
		{"SetWeightsUnknownUID", func(ctx context.Context) error {
			s.allowWeights(t, s.validator().SS58())
			return c.SetWeights(ctx, s.validator(), s.netuid, []uint16{4000}, []uint16{65535}, 0)
		}, fractal.ErrInvalid},
		{"SetWeightsUnknownNetUID", func(ctx context.Context) error {
			return c.SetWeights(ctx, s.validator(), unknown, []uint16{miner}, []uint16{65535}, 0)
		}, fractal.ErrNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call(s.ctx(t))
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want an error wrapping %v", err, tc.want)
			}
			if len(err.Error()) < 10 {
				t.Errorf("error %q is too short to say what to fix", err)
			}
		})
	}
}
