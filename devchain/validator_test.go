package devchain_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/devchain"
	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/jetstream"
	"github.com/fractal-grid/fractal/localgrid"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/tlock"
	"github.com/fractal-grid/fractal/validator"
)

// inclusionGrid is a devchain with InclusionEpoch (tempo 10), its subnet 1
// with a staked validator key and two honest miners, and a validator that
// has scored them, committing by path.
func inclusionGrid(t *testing.T, path string) (*devchain.Chain, *validator.Validator) {
	t.Helper()
	c := mustOpen(t, func(cfg *devchain.Config) {
		cfg.InclusionEpoch, cfg.Subnet.Tempo, cfg.Subnet.WeightsRateLimit = true, 10, 0
	})
	ctx := context.Background()
	sudo, val := testenv.Key(t, localgrid.DevSudo), testenv.Key(t, "//Alice//validator")
	sub := localgrid.NewSubnet(c, localgrid.DevNetUID, sudo, val, localgrid.DevStake)
	sub.Logger = testLogger(t)
	t.Cleanup(func() { sub.Close() })
	if err := sub.Register(ctx, sudo, val); err != nil {
		t.Fatal(err)
	}
	if err := sub.StakeValidator(ctx); err != nil {
		t.Fatal(err)
	}
	for _, uri := range []string{"//Alice//miner0", "//Alice//miner1"} {
		if _, err := sub.AddMiner(ctx, testenv.Key(t, uri), refengine.New(), nil); err != nil {
			t.Fatal(err)
		}
	}
	st, err := jetstream.Open(ctx, jetstream.DefaultConfig(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	kv, err := st.KV(ctx, "validator", 0)
	if err != nil {
		t.Fatal(err)
	}
	v := validator.New()
	v.Config.NetUID, v.Config.CommitReveal = localgrid.DevNetUID, path
	v.Config.AllowPrivateAxons, v.Config.PerRound, v.Config.SharedProb = true, 2, 0
	v.Config.Shapes = []validator.Shape{{Width: 64, Height: 64, Frames: 4, FPS: 8, Steps: 8}}
	v.Config.ChallengeTimeout = 30 * time.Second
	v.Engine, v.Hotkey, v.Chain, v.KV, v.Audit = refengine.New(), val, c, kv, st.Audit()
	v.Words, v.Logger = refengine.Words(), testLogger(t)
	if err := v.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	if v.Round(ctx); len(v.Weights()) == 0 {
		t.Fatal("the validator scored nobody")
	}
	return c, v
}

// toEpochEdge advances c until the block after the head runs an epoch and
// returns the policy there.
func toEpochEdge(t *testing.T, c *devchain.Chain) *fractal.WeightsPolicy {
	t.Helper()
	p, err := c.WeightsPolicy(t.Context(), localgrid.DevNetUID)
	if err != nil {
		t.Fatal(err)
	}
	if n := int(p.NextEpochBlock - p.Block - 1); n > 0 {
		if _, err := c.Advance(n); err != nil {
			t.Fatal(err)
		}
		if p, err = c.WeightsPolicy(t.Context(), localgrid.DevNetUID); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func validatorRow(t *testing.T, c *devchain.Chain, hotkey string) (fractal.WeightsRow, *fractal.SubnetWeights) {
	t.Helper()
	w, err := c.SubnetWeights(t.Context(), localgrid.DevNetUID)
	if err != nil {
		t.Fatal(err)
	}
	return w.Row(hotkey), w
}

// TestValidatorTimelockedAtInclusionEpoch runs the validator's default path
// on a devchain with InclusionEpoch, committing in the block before an
// epoch: the commit counts in the new epoch, and the weights apply in the
// block the policy's reveal round named, which is the first reveal block
// tlock.DynamicSchedule gives (the client's model of spec >= 404).
func TestValidatorTimelockedAtInclusionEpoch(t *testing.T) {
	c, v := inclusionGrid(t, fractal.WeightsPathTimelock)
	p := toEpochEdge(t, c)
	ds := tlock.DynamicSchedule{CurrentBlock: p.Block, Tempo: p.Tempo, LastEpochBlock: p.NextEpochBlock - uint64(p.Tempo),
		SubnetEpochIndex: p.Epoch, RevealPeriodEpochs: p.RevealPeriodEpochs, BlockTime: time.Second}
	want, err := ds.FirstRevealBlock()
	if err != nil {
		t.Fatal(err)
	}
	if p.RevealRound != want {
		t.Fatalf("policy's reveal round: got %d, want %d", p.RevealRound, want)
	}
	if err := v.SetWeights(t.Context(), p.Block); err != nil {
		t.Fatalf("SetWeights: %v", err)
	}
	hot := v.Hotkey.SS58()
	_, w := validatorRow(t, c, hot)
	if len(w.Pending) != 1 || w.Pending[0].Path != fractal.WeightsPathTimelock || w.Pending[0].Epoch != p.Epoch+1 ||
		w.Pending[0].RevealRound != want {
		t.Fatalf("pending after the commit at block %d (epoch %d): %+v; want one timelocked commit of epoch %d for round %d",
			p.Block, p.Epoch, w.Pending, p.Epoch+1, want)
	}
	for b := p.Block + 1; b <= want; b++ {
		if _, err := c.Advance(1); err != nil {
			t.Fatal(err)
		}
		row, _ := validatorRow(t, c, hot)
		if len(row.UIDs) > 0 && b != want {
			t.Fatalf("weights applied in block %d, want %d", b, want)
		}
	}
	row, _ := validatorRow(t, c, hot)
	if len(row.UIDs) != len(v.Weights()) {
		t.Fatalf("weights in block %d: got %v, want the validator's %v", want, row.UIDs, v.Weights())
	}
	t.Logf("committed at block %d (epoch %d, next epoch at %d), applied at block %d", p.Block, p.Epoch, p.NextEpochBlock, want)
}

// TestValidatorHashAtInclusionEpoch runs the validator's hash path on a
// devchain with InclusionEpoch, committing in the block before an epoch:
// the validator takes the chain's reveal epoch (one later than the head's
// epoch gives) and reveals in it.
func TestValidatorHashAtInclusionEpoch(t *testing.T) {
	c, v := inclusionGrid(t, fractal.WeightsPathHash)
	p := toEpochEdge(t, c)
	ctx := t.Context()
	if err := v.SetWeights(ctx, p.Block); err != nil {
		t.Fatalf("SetWeights: %v", err)
	}
	hot := v.Hotkey.SS58()
	_, w := validatorRow(t, c, hot)
	if len(w.Pending) != 1 || w.Pending[0].RevealEpoch != p.Epoch+1+p.RevealPeriodEpochs {
		t.Fatalf("pending after the commit at block %d (epoch %d): %+v; want one commit revealed in epoch %d",
			p.Block, p.Epoch, w.Pending, p.Epoch+1+p.RevealPeriodEpochs)
	}
	uids, ws, _, ok, err := v.PendingCommit(ctx)
	if err != nil || !ok {
		t.Fatalf("validator's pending commit: %v, %v", ok, err)
	}
	v.Start()
	// Into the reveal epoch: it begins a period of epochs after the next
	// block's.
	if _, err := c.Advance(int(p.NextEpochBlock-p.Block) + int(p.RevealPeriodEpochs)*int(p.Tempo)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		row, _ := validatorRow(t, c, hot)
		if slices.Equal(row.UIDs, uids) && slices.Equal(row.Weights, ws) {
			return
		}
		if time.Now().After(deadline) {
			_, w := validatorRow(t, c, hot)
			t.Fatalf("not revealed within 30 s: row %+v, pending %+v", row, w.Pending)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
