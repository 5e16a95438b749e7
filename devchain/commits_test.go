package devchain_test

import (
	"slices"
	"testing"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/devchain"
	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/tlock"
)

// sealWeights makes a timelocked commit of uids/ws by key for the chain's
// policy now.
func sealWeights(t *testing.T, c *devchain.Chain, netuid uint16, key fractal.Signer, uids, ws []uint16) ([]byte, *fractal.WeightsPolicy) {
	t.Helper()
	p, err := c.WeightsPolicy(t.Context(), netuid)
	if err != nil {
		t.Fatal(err)
	}
	pub := key.PublicKey()
	plain, err := tlock.WeightsPayload{Hotkey: pub[:], UIDs: uids, Values: ws, VersionKey: p.VersionKey}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	ct, err := tlock.Encrypt(p.Beacon.PublicKey, p.RevealRound, plain, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ct, p
}

func TestTimelockedCommitSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	open := func() *devchain.Chain {
		return mustOpen(t, func(cfg *devchain.Config) { cfg.DataDir = dir; cfg.Subnet.Tempo = 4; cfg.Subnet.WeightsRateLimit = 0 })
	}
	c := open()
	alice, val, miner := testenv.Key(t, "//Alice"), testenv.Key(t, "//val"), testenv.Key(t, "//miner")
	ctx := t.Context()
	for _, k := range []fractal.Signer{val, miner} {
		if err := c.BurnedRegister(ctx, alice, 1, k.SS58()); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.AddStake(ctx, alice, 1, val.SS58(), fractal.RaoPerTAO); err != nil {
		t.Fatal(err)
	}
	ct, p := sealWeights(t, c, 1, val, []uint16{1}, []uint16{65535})
	if err := c.CommitTimelockedWeights(ctx, val, 1, ct, p.RevealRound, p.CommitRevealVersion); err != nil {
		t.Fatalf("commit: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c = open()
	if p2, err := c.WeightsPolicy(ctx, 1); err != nil || !slices.Equal(p2.Beacon.PublicKey, p.Beacon.PublicKey) {
		t.Fatalf("beacon after restart: got %x (%v), want %x", p2.Beacon.PublicKey, err, p.Beacon.PublicKey)
	}
	if _, err := c.Advance(int(p.NextEpochBlock - p.Block)); err != nil {
		t.Fatal(err)
	}
	w, err := c.SubnetWeights(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Pending) != 0 || len(w.Rows) != 1 || !slices.Equal(w.Rows[0].UIDs, []uint16{1}) {
		t.Fatalf("after the reveal block: pending %+v, rows %+v; want no pending and uid 0 weighting uid 1", w.Pending, w.Rows)
	}
	m, err := c.Metagraph(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if m.Neurons[1].Incentive == 0 {
		t.Error("the miner has no incentive after the epoch that revealed the weights")
	}
}

func TestTimelockedCommitThatDoesNotOpenIsDropped(t *testing.T) {
	f := newFixture(t, 2, func(p *devchain.SubnetParams) { p.CommitReveal, p.Tempo = true, 3 })
	ctx := t.Context()
	if err := f.c.AddStake(ctx, f.alice, f.netuid, f.keys[0].SS58(), fractal.RaoPerTAO); err != nil {
		t.Fatal(err)
	}
	ct, p := sealWeights(t, f.c, f.netuid, f.keys[0], []uint16{1}, []uint16{65535})
	// Committed for a later round than it was sealed for: the round's
	// signature does not open it.
	if err := f.c.CommitTimelockedWeights(ctx, f.keys[0], f.netuid, ct, p.RevealRound+1, p.CommitRevealVersion); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.Advance(int(p.NextEpochBlock-p.Block) + 1); err != nil {
		t.Fatal(err)
	}
	w, err := f.c.SubnetWeights(ctx, f.netuid)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Pending) != 0 || len(w.Rows) != 0 {
		t.Fatalf("got pending %+v and rows %+v, want the commit dropped and no weights", w.Pending, w.Rows)
	}
}

func TestCommitRefusals(t *testing.T) {
	f := newFixture(t, 2, func(p *devchain.SubnetParams) { p.CommitReveal, p.Tempo, p.WeightsRateLimit = true, 3, 50 })
	ctx := t.Context()
	hash := fractal.CommitHash(f.keys[0].PublicKey(), f.netuid, []uint16{1}, []uint16{1}, nil, 0)
	if err := f.c.CommitWeights(ctx, f.keys[0], f.netuid, hash); err != nil {
		t.Fatal(err)
	}
	err := f.c.CommitWeights(ctx, f.keys[0], f.netuid, hash)
	if got := fractal.ChainErrorName(err); got != fractal.ErrNameTooFast {
		t.Errorf("second commit within the rate limit: got %v, want %s", err, fractal.ErrNameTooFast)
	}
	ct, p := sealWeights(t, f.c, f.netuid, f.keys[1], []uint16{0}, []uint16{1})
	err = f.c.CommitTimelockedWeights(ctx, f.keys[1], f.netuid, ct, p.RevealRound, p.CommitRevealVersion+1)
	if got := fractal.ChainErrorName(err); got != fractal.ErrNameIncorrectVersion {
		t.Errorf("commit naming another version: got %v, want %s", err, fractal.ErrNameIncorrectVersion)
	}
	off := newFixture(t, 1, nil)
	err = off.c.CommitWeights(ctx, off.keys[0], off.netuid, hash)
	if got := fractal.ChainErrorName(err); got != fractal.ErrNameCommitRevealDisabled {
		t.Errorf("commit with commit-reveal off: got %v, want %s", err, fractal.ErrNameCommitRevealDisabled)
	}
}
