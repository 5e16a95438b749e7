// Package gridtest builds a small real grid for tests: an in-process
// devchain with one subnet, a validator hotkey holding a permit and stake,
// and miners serving real HTTP on loopback with the engines given.
package gridtest

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/devchain"
	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/miner"
	"github.com/fractal-grid/fractal/minerapi"
	"github.com/fractal-grid/fractal/sr25519"
)

// NetUID is the subnet every grid uses.
const NetUID = 1

// Grid is a devchain subnet with a validator key and miners.
type Grid struct {
	Chain     *devchain.Chain
	Sudo      *sr25519.Keypair
	Validator *sr25519.Keypair
	Miners    []*miner.Miner
}

// Logger sends warnings and errors to tb.Log.
func Logger(tb testing.TB) *slog.Logger { return testenv.Logger(tb, slog.LevelWarn) }

// New starts a devchain with manual blocks and registers a staked validator.
func New(tb testing.TB) *Grid {
	tb.Helper()
	ctx := context.Background()
	cfg := devchain.DefaultConfig()
	cfg.BlockTime = 0
	cfg.Subnet.WeightsRateLimit = 0
	cfg.Subnet.Tempo = 10
	chain := devchain.New(cfg)
	chain.Logger = Logger(tb)
	if err := chain.Open(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { chain.Close() })
	g := &Grid{Chain: chain, Sudo: testenv.Key(tb, "//Alice"), Validator: testenv.Key(tb, "//Alice//validator")}
	if err := chain.BurnedRegister(ctx, g.Sudo, NetUID, g.Validator.SS58()); err != nil {
		tb.Fatal(err)
	}
	if err := chain.AddStake(ctx, g.Sudo, NetUID, g.Validator.SS58(), 10_000*fractal.RaoPerTAO); err != nil {
		tb.Fatal(err)
	}
	return g
}

// AddMiner registers a miner hotkey and serves eng on loopback; mod may
// change its configuration.
func (g *Grid) AddMiner(tb testing.TB, eng fractal.Engine, mod func(*miner.Config)) *miner.Miner {
	tb.Helper()
	ctx := context.Background()
	hot := testenv.Key(tb, fmt.Sprintf("//Alice//miner%d", len(g.Miners)))
	if err := g.Chain.BurnedRegister(ctx, g.Sudo, NetUID, hot.SS58()); err != nil {
		tb.Fatal(err)
	}
	m := miner.New()
	m.Config.NetUID = NetUID
	m.Config.Addr = "127.0.0.1:0"
	m.Config.DrainTimeout = 2 * time.Second
	if mod != nil {
		mod(&m.Config)
	}
	m.Engine, m.Hotkey, m.Chain, m.Logger = eng, hot, g.Chain, Logger(tb)
	if err := m.Open(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	g.Miners = append(g.Miners, m)
	return m
}

// Target returns the address and hotkey of m.
func Target(m *miner.Miner) minerapi.Target {
	return minerapi.Target{URL: "http://" + m.Addr(), Hotkey: m.Hotkey.SS58()}
}
