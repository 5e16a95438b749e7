package localgrid

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/devchain"
	"github.com/fractal-grid/fractal/miner"
	"github.com/fractal-grid/fractal/sr25519"
)

// DevChain is a devchain a subnet can be built on: the embedded one, or a
// client of one served elsewhere.
type DevChain interface {
	fractal.Chain
	devchain.Admin
}

// Subnet builds a subnet on a devchain: it creates the subnet, registers
// hotkeys, stakes the validator so it holds a permit, and serves miners on
// loopback. Every step is idempotent, so a builder over a chain that
// already has the subnet changes only what is missing.
type Subnet struct {
	Chain     DevChain
	NetUID    uint16
	Sudo      *sr25519.Keypair // creates the subnet and stakes the validator
	Validator *sr25519.Keypair
	Stake     uint64 // the validator's stake, in rao
	// Logger is the logger of the miners added next; nil discards.
	Logger *slog.Logger

	miners  []*miner.Miner
	closers []func() error // what the subnet owns besides its miners
}

// NewSubnet returns a builder of subnet netuid on chain whose validator
// hotkey is staked stake rao by sudo.
func NewSubnet(chain DevChain, netuid uint16, sudo, validator *sr25519.Keypair, stake uint64) *Subnet {
	return &Subnet{Chain: chain, NetUID: netuid, Sudo: sudo, Validator: validator, Stake: stake}
}

// Ensure creates the subnet when it is missing and sets its parameters to
// params(current); a nil params leaves them as they are.
func (s *Subnet) Ensure(ctx context.Context, params func(devchain.SubnetParams) devchain.SubnetParams) error {
	subnets, err := s.Chain.Subnets(ctx)
	if err != nil {
		return err
	}
	for _, sn := range subnets {
		if sn.NetUID != s.NetUID {
			continue
		}
		if params == nil {
			return nil
		}
		if p := params(sn.Params); p != sn.Params {
			return s.Chain.SetSubnetParams(ctx, s.Sudo, sn.NetUID, p)
		}
		return nil
	}
	netuid, err := s.Chain.CreateSubnet(ctx, s.Sudo)
	if err != nil {
		return fmt.Errorf("create subnet: %w", err)
	}
	if netuid != s.NetUID {
		return fmt.Errorf("the devchain created subnet %d, not %d: %w", netuid, s.NetUID, fractal.ErrConflict)
	}
	return s.Ensure(ctx, params)
}

// Register burned-registers hot under cold unless the subnet already has
// it.
func (s *Subnet) Register(ctx context.Context, cold fractal.Signer, hot *sr25519.Keypair) error {
	mg, err := s.Chain.Metagraph(ctx, s.NetUID)
	if err != nil {
		return err
	}
	if _, ok := mg.ByHotkey(hot.SS58()); ok {
		return nil
	}
	if err := s.Chain.BurnedRegister(ctx, cold, s.NetUID, hot.SS58()); err != nil && !errors.Is(err, fractal.ErrConflict) {
		return fmt.Errorf("register %s: %w", hot.SS58(), err)
	}
	return nil
}

// StakeValidator tops the registered validator's stake up to Stake.
func (s *Subnet) StakeValidator(ctx context.Context) error {
	mg, err := s.Chain.Metagraph(ctx, s.NetUID)
	if err != nil {
		return err
	}
	if n, _ := mg.ByHotkey(s.Validator.SS58()); n.Stake < s.Stake {
		if err := s.Chain.AddStake(ctx, s.Sudo, s.NetUID, s.Validator.SS58(), s.Stake-n.Stake); err != nil {
			return fmt.Errorf("stake the validator: %w", err)
		}
	}
	return nil
}

// AddMiner registers hot (under Sudo, unless the subnet already has it) and
// serves engine with it on a free loopback port, which the miner publishes
// with serve_axon. The miner drains for 2 s on Close; mod may change its
// configuration.
func (s *Subnet) AddMiner(ctx context.Context, hot *sr25519.Keypair, engine fractal.Engine, mod func(*miner.Config)) (*miner.Miner, error) {
	if err := s.Register(ctx, s.Sudo, hot); err != nil {
		return nil, err
	}
	m := miner.New()
	m.Config.NetUID = s.NetUID
	m.Config.Addr = "127.0.0.1:0"
	m.Config.DrainTimeout = 2 * time.Second
	if mod != nil {
		mod(&m.Config)
	}
	m.Engine, m.Hotkey, m.Chain, m.Logger = engine, hot, s.Chain, s.Logger
	if err := m.Open(ctx); err != nil {
		return nil, err
	}
	s.miners = append(s.miners, m)
	return m, nil
}

// Miners returns the miners added, in order.
func (s *Subnet) Miners() []*miner.Miner { return slices.Clip(s.miners) }

// Close stops the miners, the last added first, then what the subnet owns
// (the chain of OpenDevSubnet).
func (s *Subnet) Close() error {
	var errs []error
	for i := len(s.miners) - 1; i >= 0; i-- {
		errs = append(errs, s.miners[i].Close())
	}
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	s.miners, s.closers = nil, nil
	return errors.Join(errs...)
}

// A dev subnet (OpenDevSubnet) is subnet DevNetUID, created by DevSudo,
// whose validator holds DevStake.
const (
	DevNetUID = 1
	DevSudo   = "//Alice"
	DevStake  = 10_000 * fractal.RaoPerTAO
)

// OpenDevSubnet opens an in-process devchain that makes blocks only when
// asked to (BlockTime 0), with no rate limit on weights and a tempo of 10
// blocks, and builds its subnet DevNetUID on it: validator registered by
// DevSudo and staked DevStake. The chain and the miners log to logger. The
// subnet's Close closes the chain too.
func OpenDevSubnet(ctx context.Context, validator *sr25519.Keypair, logger *slog.Logger) (*Subnet, *devchain.Chain, error) {
	sudo, err := sr25519.FromURI(DevSudo)
	if err != nil {
		return nil, nil, err
	}
	cfg := devchain.DefaultConfig()
	cfg.BlockTime = 0
	cfg.Subnet.WeightsRateLimit = 0
	cfg.Subnet.Tempo = 10
	chain := devchain.New(cfg)
	chain.Logger = logger
	if err := chain.Open(ctx); err != nil {
		return nil, nil, err
	}
	s := NewSubnet(chain, DevNetUID, sudo, validator, DevStake)
	s.Logger = logger
	s.closers = append(s.closers, chain.Close)
	if err := s.Register(ctx, sudo, validator); err != nil {
		return nil, nil, errors.Join(err, s.Close())
	}
	if err := s.StakeValidator(ctx); err != nil {
		return nil, nil, errors.Join(err, s.Close())
	}
	return s, chain, nil
}
