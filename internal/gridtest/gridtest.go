// Package gridtest builds a small real grid for tests: an in-process
// devchain with one subnet, a validator hotkey holding a permit and stake,
// and miners serving real HTTP on loopback with the engines given. It is
// localgrid's Subnet (OpenDevSubnet) failing the test on error.
package gridtest

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"testing"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/devchain"
	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/localgrid"
	"github.com/fractal-grid/fractal/miner"
	"github.com/fractal-grid/fractal/minerapi"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/sr25519"
)

// NetUID is the subnet every grid uses.
const NetUID = localgrid.DevNetUID

// Grid is a devchain subnet with a validator key and miners.
type Grid struct {
	Chain     *devchain.Chain
	Sudo      *sr25519.Keypair
	Validator *sr25519.Keypair
	Miners    []*miner.Miner

	subnet *localgrid.Subnet
}

// Logger sends warnings and errors to tb.Log.
func Logger(tb testing.TB) *slog.Logger { return testenv.Logger(tb, slog.LevelWarn) }

// New starts a devchain with manual blocks and registers a staked validator.
func New(tb testing.TB) *Grid {
	tb.Helper()
	sub, chain, err := localgrid.OpenDevSubnet(context.Background(), testenv.Key(tb, "//Alice//validator"), Logger(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { sub.Close() })
	return &Grid{Chain: chain, Sudo: sub.Sudo, Validator: sub.Validator, subnet: sub}
}

// AddMiner registers a miner hotkey and serves eng on loopback; mod may
// change its configuration.
func (g *Grid) AddMiner(tb testing.TB, eng fractal.Engine, mod func(*miner.Config)) *miner.Miner {
	tb.Helper()
	hot := testenv.Key(tb, fmt.Sprintf("//Alice//miner%d", len(g.Miners)))
	g.subnet.Logger = Logger(tb)
	m, err := g.subnet.AddMiner(context.Background(), hot, eng, mod)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() }) // before what was started after New
	g.Miners = append(g.Miners, m)
	return m
}

// Target returns the address and hotkey of m.
func Target(m *miner.Miner) minerapi.Target {
	return minerapi.Target{URL: "http://" + m.Addr(), Hotkey: m.Hotkey.SS58()}
}

// Lazy is a cheating engine: it returns random frames and a random
// trajectory of the spec's shape, doing no real work.
type Lazy struct{ *refengine.Engine }

// Generate returns the random result, seeded by the spec's seed.
func (l Lazy) Generate(ctx context.Context, spec fractal.Spec, opts fractal.GenerateOptions) (*fractal.Result, error) {
	r := rand.New(rand.NewPCG(spec.Seed, 7))
	shape := refengine.StateShape(spec)
	res := &fractal.Result{Profile: l.Profile(), Spec: spec, Frames: fractal.NewFrames(spec.Frames, spec.Width, spec.Height, spec.FPS)}
	for i := range res.Frames.Pix {
		res.Frames.Pix[i] = byte(r.Uint32())
	}
	for range spec.Steps + 1 {
		s := fractal.State{Shape: shape, Data: make([]float32, fractal.State{Shape: shape}.Len())}
		for i := range s.Data {
			s.Data[i] = r.Float32()
		}
		res.States = append(res.States, s)
		res.StateDigests = append(res.StateDigests, s.Digest())
	}
	return res, nil
}
