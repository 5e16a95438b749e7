package localgrid

import (
	"context"
	"errors"
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

// devChain is a devchain the grid can read, write and administer: the
// embedded one, or a client of one served elsewhere.
type devChain interface {
	fractal.Chain
	devchain.Admin
}

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
	if err := g.ensureSubnet(ctx, sudo); err != nil {
		return err
	}
	if g.validatorKey, err = g.register(ctx, w, cold, ValidatorHotkey); err != nil {
		return err
	}
	for i := range g.Config.Miners {
		if _, err := wallet.CreateDev(WalletRoot(g.Config.DataDir), WalletName, MinerHotkey(i)); err != nil {
			return err
		}
		k, err := g.register(ctx, w, cold, MinerHotkey(i))
		if err != nil {
			return err
		}
		g.minerKeys = append(g.minerKeys, k)
	}
	mg, err := g.chain.Metagraph(ctx, g.Config.NetUID)
	if err != nil {
		return err
	}
	if n, _ := mg.ByHotkey(g.validatorKey.SS58()); n.Stake < validatorStake {
		if err := g.chain.AddStake(ctx, sudo, g.Config.NetUID, g.validatorKey.SS58(), validatorStake-n.Stake); err != nil {
			return fmt.Errorf("stake the validator: %w", err)
		}
	}
	return nil
}

// ensureSubnet creates the grid's subnet when it is missing and sets its
// parameters.
func (g *Grid) ensureSubnet(ctx context.Context, sudo fractal.Signer) error {
	subnets, err := g.chain.Subnets(ctx)
	if err != nil {
		return err
	}
	for _, s := range subnets {
		if s.NetUID != g.Config.NetUID {
			continue
		}
		if p := g.subnetParams(s.Params); p != s.Params {
			return g.chain.SetSubnetParams(ctx, sudo, s.NetUID, p)
		}
		return nil
	}
	netuid, err := g.chain.CreateSubnet(ctx, sudo)
	if err != nil {
		return fmt.Errorf("create subnet: %w", err)
	}
	if netuid != g.Config.NetUID {
		return fmt.Errorf("the devchain created subnet %d, not %d: %w", netuid, g.Config.NetUID, fractal.ErrConflict)
	}
	return g.ensureSubnet(ctx, sudo)
}

// register loads hotkey name and burned-registers it unless the subnet
// already has it.
func (g *Grid) register(ctx context.Context, w *wallet.Wallet, cold fractal.Signer, name string) (*sr25519.Keypair, error) {
	hot, err := w.Hotkey(name)
	if err != nil {
		return nil, err
	}
	mg, err := g.chain.Metagraph(ctx, g.Config.NetUID)
	if err != nil {
		return nil, err
	}
	if _, ok := mg.ByHotkey(hot.SS58()); ok {
		return hot, nil
	}
	if err := g.chain.BurnedRegister(ctx, cold, g.Config.NetUID, hot.SS58()); err != nil && !errors.Is(err, fractal.ErrConflict) {
		return nil, fmt.Errorf("register %s: %w", name, err)
	}
	return hot, nil
}
