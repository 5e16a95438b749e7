package localgrid_test

import (
	"testing"
	"time"

	"github.com/fractal-grid/fractal/devchain"
)

// TestIncentiveMovesWithCommitReveal runs a grid on a subnet with
// commit-reveal on (the default): the validator's weights go through
// timelocked commits that the devchain reveals, and miners earn incentive
// within a minute as they do with set_weights.
func TestIncentiveMovesWithCommitReveal(t *testing.T) {
	cfg := testConfig(t.TempDir(), 2)
	g := startGrid(t, cfg)
	cl := devchain.NewClient(g.ChainURL())
	defer cl.Close()
	ctx := t.Context()
	p, err := cl.WeightsPolicy(ctx, cfg.NetUID)
	if err != nil {
		t.Fatal(err)
	}
	if !p.CommitReveal {
		t.Fatal("the grid's subnet has commit-reveal off, want it on by default")
	}
	deadline := time.Now().Add(time.Minute)
	for {
		m, err := cl.Metagraph(ctx, cfg.NetUID)
		if err != nil {
			t.Fatal(err)
		}
		var paid int
		for _, n := range m.Neurons {
			if n.Incentive > 0 && n.Hotkey != g.Validator().Hotkey.SS58() {
				paid++
			}
		}
		if paid > 0 {
			t.Logf("incentive paid to %d miners at block %d", paid, m.Block)
			break
		}
		if time.Now().After(deadline) {
			w, _ := cl.SubnetWeights(ctx, cfg.NetUID)
			t.Fatalf("no miner earned incentive within a minute (block %d); chain weights %+v", m.Block, w)
		}
		time.Sleep(250 * time.Millisecond)
	}
	w, err := cl.SubnetWeights(ctx, cfg.NetUID)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Rows) == 0 {
		t.Fatal("incentive without weights on chain")
	}
}

func TestGridWithoutCommitReveal(t *testing.T) {
	cfg := testConfig(t.TempDir(), 1)
	cfg.NoCommitReveal = true
	g := startGrid(t, cfg)
	cl := devchain.NewClient(g.ChainURL())
	defer cl.Close()
	p, err := cl.WeightsPolicy(t.Context(), cfg.NetUID)
	if err != nil {
		t.Fatal(err)
	}
	if p.CommitReveal {
		t.Fatal("--no-commit-reveal: the subnet still has commit-reveal on")
	}
}
