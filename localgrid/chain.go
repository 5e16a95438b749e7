package localgrid

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/devchain"
	"github.com/fractal-grid/fractal/sr25519"
	"github.com/fractal-grid/fractal/wallet"
)

// Wallet and stake of a local grid.
const (
	WalletName = "fractal-up"
	// ValidatorHotkey names the validator's hotkey in the wallet; miner i
	// uses MinerHotkey(i).
	ValidatorHotkey = "validator"
	validatorStake  = 10_000 * fractal.RaoPerTAO
	sudoURI         = "//Alice"
)

// MinerHotkey names miner i's hotkey in the grid's wallet.
func MinerHotkey(i int) string { return fmt.Sprintf("miner%d", i) }

// WalletRoot is where a grid under dataDir keeps its wallets, in btcli's
// layout, so 'fractal miner --wallet-path' can use them too.
func WalletRoot(dataDir string) string { return filepath.Join(dataDir, "wallets") }

// openChain starts the embedded devchain and serves it on loopback, or
// connects to the devchain at c.Chain.
func (g *Grid) openChain(ctx context.Context) error {
	if g.Config.Chain != "dev" {
		cl := devchain.NewClient(g.Config.Chain)
		cl.Logger = g.logger
		g.chain, g.chainURL = cl, g.Config.Chain
		g.closers = append(g.closers, cl.Close)
		if _, err := cl.Block(ctx); err != nil {
			return fmt.Errorf("devchain at %s: %w", g.Config.Chain, err)
		}
		return nil
	}
	cfg := devchain.DefaultConfig()
	cfg.DataDir = filepath.Join(g.Config.DataDir, "devchain")
	cfg.BlockTime = g.Config.BlockTime
	cfg.Subnet = g.subnetParams(cfg.Subnet)
	chain := devchain.New(cfg)
	chain.Logger = g.logger.With(slog.String(logKeyPart, "devchain"))
	if err := chain.Open(ctx); err != nil {
		return fmt.Errorf("devchain: %w", err)
	}
	g.closers = append(g.closers, chain.Close)
	g.chain = chain
	ln, err := net.Listen("tcp", g.Config.ChainAddr)
	if err != nil {
		return fmt.Errorf("devchain: listen on %s: %w", g.Config.ChainAddr, err)
	}
	handler := devchain.NewServer(chain)
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(g.logger.Handler(), slog.LevelWarn)}
	g.chainURL = "http://" + ln.Addr().String()
	g.serve(srv, ln, "devchain")
	g.closers = append(g.closers, func() error {
		handler.Close() // release block long-polls
		return shutdown(srv)
	})
	return nil
}

// subnetParams are the grid's subnet hyperparameters, from base.
func (g *Grid) subnetParams(base devchain.SubnetParams) devchain.SubnetParams {
	base.Tempo = g.Config.Tempo
	base.WeightsRateLimit = g.Config.WeightsRateLimit
	base.CommitReveal = !g.Config.NoCommitReveal
	base.RevealPeriodEpochs = max(base.RevealPeriodEpochs, 1)
	if base.CommitRevealVersion == 0 {
		base.CommitRevealVersion = devchain.DefaultSubnetParams().CommitRevealVersion
	}
	return base
}

// setupSubnet makes sure the subnet exists with the grid's parameters, and
// that the validator and every miner hotkey are registered, the validator
// staked so it holds a permit. It is idempotent: a second run changes
// nothing but what is missing.
func (g *Grid) setupSubnet(ctx context.Context) error {
	sudo, err := sr25519.FromURI(sudoURI)
	if err != nil {
		return err
	}
	w, err := wallet.CreateDev(WalletRoot(g.Config.DataDir), WalletName, ValidatorHotkey)
	if err != nil {
		return err
	}
	cold, err := w.Coldkey(nil)
	if err != nil {
		return err
	}
	if g.validatorKey, err = w.Hotkey(ValidatorHotkey); err != nil {
		return err
	}
	g.subnet = NewSubnet(g.chain, g.Config.NetUID, sudo, g.validatorKey, validatorStake)
	if err := g.subnet.Ensure(ctx, g.subnetParams); err != nil {
		return err
	}
	if err := g.subnet.Register(ctx, cold, g.validatorKey); err != nil {
		return fmt.Errorf("%s: %w", ValidatorHotkey, err)
	}
	for i := range g.Config.Miners {
		if _, err := wallet.CreateDev(WalletRoot(g.Config.DataDir), WalletName, MinerHotkey(i)); err != nil {
			return err
		}
		hot, err := w.Hotkey(MinerHotkey(i))
		if err != nil {
			return err
		}
		if err := g.subnet.Register(ctx, cold, hot); err != nil {
			return fmt.Errorf("%s: %w", MinerHotkey(i), err)
		}
		g.minerKeys = append(g.minerKeys, hot)
	}
	return g.subnet.StakeValidator(ctx)
}
