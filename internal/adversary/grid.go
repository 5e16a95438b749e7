package adversary

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/devchain"
	"github.com/fractal-grid/fractal/localgrid"
	"github.com/fractal-grid/fractal/miner"
	"github.com/fractal-grid/fractal/sr25519"
)

// netUID is the suite's subnet.
const netUID = localgrid.DevNetUID

// grid is an in-process devchain subnet with a staked validator key and
// real miners on loopback; public, each operator's miners announce a
// public address of the operator's own instead.
type grid struct {
	subnet    *localgrid.Subnet
	chain     *devchain.Chain
	validator *sr25519.Keypair
	public    bool
	fronts    []*front
}

func newGrid(ctx context.Context, logger *slog.Logger, public bool) (*grid, error) {
	validator, err := sr25519.FromURI("//Alice//adversary-validator")
	if err != nil {
		return nil, err
	}
	subnet, chain, err := localgrid.OpenDevSubnet(ctx, validator, logger)
	if err != nil {
		return nil, err
	}
	return &grid{subnet: subnet, chain: chain, validator: validator, public: public}, nil
}

// addMiner registers a fresh hotkey under the operator's coldkey and serves
// eng on 127.0.0.1. Each operator has its own coldkey, as independent miners
// do; a Sybil's hotkeys share one. The miner keeps every state
// (Checkpoint 1), so a cheat opens exactly the states it committed to.
func (g *grid) addMiner(ctx context.Context, eng fractal.Engine, operator int) (*miner.Miner, error) {
	hot, err := sr25519.FromURI(fmt.Sprintf("//Alice//adversary-miner%d", len(g.subnet.Miners())))
	if err != nil {
		return nil, err
	}
	cold, err := sr25519.FromURI(fmt.Sprintf("//Alice//adversary-operator%d", operator))
	if err != nil {
		return nil, err
	}
	if err := g.subnet.Register(ctx, cold, hot); err != nil {
		return nil, err
	}
	m, err := g.subnet.AddMiner(ctx, hot, eng, func(c *miner.Config) {
		c.Checkpoint = 1
		c.QueueLimit = 32
	})
	if err != nil {
		return nil, err
	}
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
	ip, err := operatorIP(operator)
	if err != nil {
		return err
	}
	listen, err := netip.ParseAddrPort(m.Addr())
	if err != nil {
		return err
	}
	axon := fractal.Axon{IP: ip, Port: listen.Port(), Protocol: 4, Version: m.Config.AxonVersion}
	return g.chain.ServeAxon(ctx, hot, netUID, axon)
}

// operatorIP is the operator's public address.
func operatorIP(operator int) (netip.Addr, error) {
	if operator >= 254 {
		return netip.Addr{}, fmt.Errorf("operator %d: only 254 public addresses: %w", operator, fractal.ErrInvalid)
	}
	ip := publicNet.Addr().As4()
	ip[3] = byte(operator + 1)
	return netip.AddrFrom4(ip), nil
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

// front serves m's API through a front for the hiding cheat h and
// announces the front's port instead of the miner's: at the operator's
// public address, or on 127.0.0.1 on a private grid.
func (g *grid) front(ctx context.Context, m *miner.Miner, h *Hiding, operator int) error {
	f, err := serveFront(m.Handler(), h)
	if err != nil {
		return err
	}
	g.fronts = append(g.fronts, f)
	h.setLoad(f)
	ip := netip.MustParseAddr("127.0.0.1")
	if g.public {
		if ip, err = operatorIP(operator); err != nil {
			return err
		}
	}
	axon := fractal.Axon{IP: ip, Port: f.port(), Protocol: 4, Version: m.Config.AxonVersion}
	return g.chain.ServeAxon(ctx, m.Hotkey, netUID, axon)
}

// close stops the fronts, then the miners and the chain.
func (g *grid) close() error {
	var errs []error
	for _, f := range g.fronts {
		errs = append(errs, f.close())
	}
	return errors.Join(append(errs, g.subnet.Close())...)
}
