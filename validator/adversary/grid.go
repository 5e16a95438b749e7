package adversary

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/devchain"
	"github.com/fractal-grid/fractal/miner"
	"github.com/fractal-grid/fractal/sr25519"
)

// netUID is the suite's subnet.
const netUID = 1

// grid is an in-process devchain subnet with a staked validator key and
// real miners on loopback; public, each operator's miners announce a
// public address of the operator's own instead.
type grid struct {
	chain     *devchain.Chain
	sudo      *sr25519.Keypair
	validator *sr25519.Keypair
	miners    []*miner.Miner
	logger    *slog.Logger
	public    bool
}

func newGrid(ctx context.Context, logger *slog.Logger, public bool) (*grid, error) {
	cfg := devchain.DefaultConfig()
	cfg.BlockTime = 0
	cfg.Subnet.WeightsRateLimit = 0
	cfg.Subnet.Tempo = 10
	chain := devchain.New(cfg)
	chain.Logger = logger
	if err := chain.Open(ctx); err != nil {
		return nil, err
	}
	g := &grid{chain: chain, logger: logger, public: public}
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
	if g.public {
		if err := g.announce(ctx, m, hot, operator); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// publicNet holds the operators' public addresses: documentation space,
// which fractal.IsPublicIP takes for public and nobody routes.
var publicNet = netip.MustParsePrefix("203.0.113.0/24")

// announce serves m's axon at the operator's public address, on the port
// it listens on over loopback.
func (g *grid) announce(ctx context.Context, m *miner.Miner, hot *sr25519.Keypair, operator int) error {
	if operator >= 254 {
		return fmt.Errorf("operator %d: only 254 public addresses: %w", operator, fractal.ErrInvalid)
	}
	listen, err := netip.ParseAddrPort(m.Addr())
	if err != nil {
		return err
	}
	ip := publicNet.Addr().As4()
	ip[3] = byte(operator + 1)
	axon := fractal.Axon{IP: netip.AddrFrom4(ip), Port: listen.Port(), Protocol: 4, Version: m.Config.AxonVersion}
	return g.chain.ServeAxon(ctx, hot, netUID, axon)
}

// loopback carries the validator's requests to a public axon to the same
// port on 127.0.0.1, where the suite's miners listen.
func loopback() http.RoundTripper {
	var d net.Dialer
	return &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			ap, err := netip.ParseAddrPort(addr)
			if err != nil || !publicNet.Contains(ap.Addr()) {
				return nil, fmt.Errorf("dial %s: not a miner of the suite: %w", addr, fractal.ErrInvalid)
			}
			return d.DialContext(ctx, network, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), ap.Port()).String())
		},
		MaxIdleConnsPerHost: 8,
	}
}

func (g *grid) close() error {
	var errs []error
	for _, m := range g.miners {
		errs = append(errs, m.Close())
	}
	errs = append(errs, g.chain.Close())
	return errors.Join(errs...)
}
