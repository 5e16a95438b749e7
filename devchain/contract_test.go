package devchain_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/chaintest"
	"github.com/fractal-grid/fractal/devchain"
	"github.com/fractal-grid/fractal/internal/testenv"
)

// testLogger sends logs to t.Log.
func testLogger(tb testing.TB) *slog.Logger {
	return testenv.Logger(tb, slog.LevelInfo)
}

// mustOpen opens an in-memory chain with manual blocks, closed at cleanup.
func mustOpen(tb testing.TB, mod func(*devchain.Config)) *devchain.Chain {
	tb.Helper()
	cfg := devchain.DefaultConfig()
	cfg.BlockTime = 0
	if mod != nil {
		mod(&cfg)
	}
	c := devchain.New(cfg)
	c.Logger = testLogger(tb)
	if err := c.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := c.Close(); err != nil {
			tb.Error(err)
		}
	})
	return c
}

// mustServe serves c on a loopback httptest server and returns a client.
func mustServe(tb testing.TB, c *devchain.Chain) *devchain.Client {
	tb.Helper()
	srv := devchain.NewServer(c)
	srv.Logger = testLogger(tb)
	ts := httptest.NewServer(srv)
	tb.Cleanup(ts.Close)
	cl := devchain.NewClient(ts.URL)
	cl.Logger = testLogger(tb)
	tb.Cleanup(func() { cl.Close() })
	return cl
}

// harness adapts a devchain (in process or a client) to the contract suite.
func harness(tb testing.TB, chain interface {
	fractal.Chain
	devchain.Admin
}) chaintest.Harness {
	alice := testenv.Key(tb, "//Alice")
	var hot []fractal.Signer
	for i := range 4 {
		hot = append(hot, testenv.Key(tb, fmt.Sprintf("//Alice//hot%d", i)))
	}
	return chaintest.Harness{
		Chain:   chain,
		Coldkey: alice,
		Hotkeys: hot,
		NewSubnet: func(ctx context.Context, tb testing.TB, _ fractal.Chain) uint16 {
			id, err := chain.CreateSubnet(ctx, alice)
			if err != nil {
				tb.Fatalf("create subnet: %v", err)
			}
			// The suite sets weights with set_weights, which a subnet with
			// commit-reveal refuses; RunCommitReveal turns it back on.
			setCommitReveal(ctx, tb, chain, id, false)
			return id
		},
		SetCommitReveal: func(ctx context.Context, tb testing.TB, netuid uint16, on bool) {
			setCommitReveal(ctx, tb, chain, netuid, on)
		},
		SetStake: func(ctx context.Context, tb testing.TB, netuid uint16, hotkey string, rao uint64) {
			if err := chain.AddStake(ctx, alice, netuid, hotkey, rao); err != nil {
				tb.Fatalf("add stake: %v", err)
			}
		},
		AdvanceBlocks: func(ctx context.Context, tb testing.TB, n int) {
			if _, err := chain.AdvanceBlocks(ctx, alice, n); err != nil {
				tb.Fatalf("advance %d blocks: %v", n, err)
			}
		},
		AddRootStake: func(ctx context.Context, tb testing.TB, hotkey string, rao uint64) {
			if err := chain.AddStake(ctx, alice, devchain.RootNetUID, hotkey, rao); err != nil {
				tb.Fatalf("add root stake: %v", err)
			}
		},
		TaoWeight: devchain.TaoWeightFraction(devchain.DefaultTaoWeight),
	}
}

// setCommitReveal turns commit-reveal on netuid on or off.
func setCommitReveal(ctx context.Context, tb testing.TB, chain devchain.Admin, netuid uint16, on bool) {
	tb.Helper()
	subnets, err := chain.Subnets(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	for _, s := range subnets {
		if s.NetUID == netuid {
			p := s.Params
			p.CommitReveal, p.WeightsRateLimit, p.Tempo = on, 0, 5
			if err := chain.SetSubnetParams(ctx, testenv.Key(tb, "//Alice"), netuid, p); err != nil {
				tb.Fatalf("set commit-reveal %t: %v", on, err)
			}
			return
		}
	}
	tb.Fatalf("subnet %d not found", netuid)
}

func TestContract(t *testing.T) {
	t.Run("InProcess", func(t *testing.T) {
		chaintest.Run(t, harness(t, mustOpen(t, nil)))
	})
	t.Run("Served", func(t *testing.T) {
		chaintest.Run(t, harness(t, mustServe(t, mustOpen(t, nil))))
	})
}

func TestCommitRevealContract(t *testing.T) {
	t.Run("InProcess", func(t *testing.T) {
		chaintest.RunCommitReveal(t, harness(t, mustOpen(t, nil)))
	})
	t.Run("Served", func(t *testing.T) {
		chaintest.RunCommitReveal(t, harness(t, mustServe(t, mustOpen(t, nil))))
	})
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
