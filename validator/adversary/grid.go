package adversary

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/devchain"
	"github.com/fractal-grid/fractal/miner"
	"github.com/fractal-grid/fractal/sr25519"
)

// netUID is the suite's subnet.
const netUID = 1

// grid is an in-process devchain subnet with a staked validator key and
// real miners on loopback.
type grid struct {
	chain     *devchain.Chain
	sudo      *sr25519.Keypair
	validator *sr25519.Keypair
	miners    []*miner.Miner
	logger    *slog.Logger
}

func newGrid(ctx context.Context, logger *slog.Logger) (*grid, error) {
	cfg := devchain.DefaultConfig()
	cfg.BlockTime = 0
	cfg.Subnet.WeightsRateLimit = 0
	cfg.Subnet.Tempo = 10
	chain := devchain.New(cfg)
	chain.Logger = logger
	if err := chain.Open(ctx); err != nil {
		return nil, err
	}
	g := &grid{chain: chain, logger: logger}
	var err error
	if g.sudo, err = sr25519.FromURI("//Alice"); err != nil {
		return nil, errors.Join(err, g.close())
	}
	if g.validator, err = sr25519.FromURI("//Alice//adversary-validator"); err != nil {
		return nil, errors.Join(err, g.close())
	}
	if err := chain.BurnedRegister(ctx, g.sudo, netUID, g.validator.SS58()); err != nil {
		return nil, errors.Join(err, g.close())
	}
	if err := chain.AddStake(ctx, g.sudo, netUID, g.validator.SS58(), 10_000*fractal.RaoPerTAO); err != nil {
		return nil, errors.Join(err, g.close())
	}
	return g, nil
}

// addMiner registers a fresh hotkey under the operator's coldkey and serves
// eng on 127.0.0.1. Each operator has its own coldkey, as independent miners
// do; a Sybil's hotkeys share one. The miner keeps every state
// (Checkpoint 1), so a cheat opens exactly the states it committed to.
func (g *grid) addMiner(ctx context.Context, eng fractal.Engine, operator int) (*miner.Miner, error) {
	hot, err := sr25519.FromURI(fmt.Sprintf("//Alice//adversary-miner%d", len(g.miners)))
	if err != nil {
		return nil, err
	}
	cold, err := sr25519.FromURI(fmt.Sprintf("//Alice//adversary-operator%d", operator))
	if err != nil {
		return nil, err
	}
	if err := g.chain.BurnedRegister(ctx, cold, netUID, hot.SS58()); err != nil {
		return nil, err
	}
	m := miner.New()
	m.Config.NetUID = netUID
	m.Config.Addr = "127.0.0.1:0"
	m.Config.DrainTimeout = 2 * time.Second
	m.Config.Checkpoint = 1
	m.Config.QueueLimit = 32
	m.Engine, m.Hotkey, m.Chain, m.Logger = eng, hot, g.chain, g.logger
	if err := m.Open(ctx); err != nil {
		return nil, err
	}
	g.miners = append(g.miners, m)
	return m, nil
}

func (g *grid) close() error {
	var errs []error
	for _, m := range g.miners {
		errs = append(errs, m.Close())
	}
	errs = append(errs, g.chain.Close())
	return errors.Join(errs...)
}
