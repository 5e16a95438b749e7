package validator_test

import (
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/devchain"
	"github.com/fractal-grid/fractal/internal/gridtest"
	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/validator"
)

// setSubnet changes the test subnet's parameters.
func setSubnet(t *testing.T, g *gridtest.Grid, mod func(*devchain.SubnetParams)) {
	t.Helper()
	subnets, err := g.Chain.Subnets(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	p := subnets[0].Params
	mod(&p)
	if err := g.Chain.SetSubnetParams(t.Context(), g.Sudo, gridtest.NetUID, p); err != nil {
		t.Fatal(err)
	}
}

// chainRow returns the weights the chain holds for hotkey.
func chainRow(t *testing.T, g *gridtest.Grid, hotkey string) (fractal.WeightsRow, *fractal.SubnetWeights) {
	t.Helper()
	w, err := g.Chain.SubnetWeights(t.Context(), gridtest.NetUID)
	if err != nil {
		t.Fatal(err)
	}
	return w.Row(hotkey), w
}

// opCount reads fractal_validator_weights_ops_total{op, path, result}.
func opCount(t *testing.T, reg *prometheus.Registry, op, path, result string) float64 {
	t.Helper()
	return testenv.Counter(t, reg, "fractal_validator_weights_ops_total", map[string]string{"op": op, "path": path, "result": result})
}

// scoredValidator is a validator (on its own store under dir) that has
// scored two honest miners, with metrics on reg.
func scoredValidator(t *testing.T, g *gridtest.Grid, dir string, reg *prometheus.Registry, mod func(*validator.Config)) *validator.Validator {
	t.Helper()
	st := openStore(t, dir)
	t.Cleanup(func() { st.Close() })
	kv, err := st.KV(t.Context(), "validator", 0)
	if err != nil {
		t.Fatal(err)
	}
	v := validator.New()
	v.Config.NetUID = gridtest.NetUID
	v.Config.AllowPrivateAxons, v.Config.PerRound, v.Config.SharedProb = true, 2, 0
	v.Config.Shapes = []validator.Shape{{Width: 64, Height: 64, Frames: 4, FPS: 8, Steps: 8}}
	v.Config.ChallengeTimeout = 10 * time.Second
	if mod != nil {
		mod(&v.Config)
	}
	v.Engine, v.Hotkey, v.Chain, v.KV, v.Audit = refengine.New(), g.Validator, g.Chain, kv, st.Audit()
	v.Words, v.Logger, v.Registry = refengine.Words(), gridtest.Logger(t), reg
	if err := v.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(v.Weights()) == 0 {
		v.Round(t.Context())
	}
	if len(v.Weights()) == 0 {
		t.Fatal("the validator scored nobody")
	}
	return v
}

func wantWeights(t *testing.T, v *validator.Validator, row fractal.WeightsRow) {
	t.Helper()
	w := v.Weights()
	if len(row.UIDs) != len(w) {
		t.Fatalf("chain row %v %v, want the validator's %v", row.UIDs, row.Weights, w)
	}
	for _, uid := range row.UIDs {
		if w[uid] == 0 {
			t.Errorf("chain weights name uid %d, which the validator gave no weight", uid)
		}
	}
}

func TestWeightsTimelockedByDefault(t *testing.T) {
	g := gridtest.New(t)
	g.AddMiner(t, refengine.New(), nil)
	g.AddMiner(t, refengine.New(), nil)
	reg := prometheus.NewRegistry()
	v := scoredValidator(t, g, t.TempDir(), reg, nil)
	ctx := t.Context()
	if err := v.SetWeights(ctx, 1); err != nil {
		t.Fatalf("SetWeights: %v", err)
	}
	row, w := chainRow(t, g, g.Validator.SS58())
	if len(row.UIDs) != 0 || len(w.Pending) != 1 || w.Pending[0].Path != fractal.WeightsPathTimelock {
		t.Fatalf("after the commit: row %+v, pending %+v; want one timelocked commit and no weights yet", row, w.Pending)
	}
	p, err := g.Chain.WeightsPolicy(ctx, gridtest.NetUID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Chain.Advance(int(p.NextEpochBlock - p.Block)); err != nil {
		t.Fatal(err)
	}
	row, w = chainRow(t, g, g.Validator.SS58())
	if len(w.Pending) != 0 {
		t.Fatalf("pending after the reveal epoch began: %+v", w.Pending)
	}
	wantWeights(t, v, row)
	if n := opCount(t, reg, "commit", fractal.WeightsPathTimelock, "ok"); n != 1 {
		t.Errorf("timelocked commits counted: got %v, want 1", n)
	}
}

func TestWeightsSetWhenCommitRevealOff(t *testing.T) {
	g := gridtest.New(t)
	g.AddMiner(t, refengine.New(), nil)
	setSubnet(t, g, func(p *devchain.SubnetParams) { p.CommitReveal = false; p.WeightsVersionKey = 7 })
	reg := prometheus.NewRegistry()
	v := scoredValidator(t, g, t.TempDir(), reg, nil)
	if err := v.SetWeights(t.Context(), 1); err != nil {
		t.Fatalf("SetWeights: %v", err)
	}
	row, _ := chainRow(t, g, g.Validator.SS58())
	wantWeights(t, v, row)
	if n := opCount(t, reg, "set", fractal.WeightsPathSet, "ok"); n != 1 {
		t.Errorf("set_weights counted: got %v, want 1", n)
	}
}

func TestWeightsBelowStakeThreshold(t *testing.T) {
	g := gridtest.New(t)
	g.AddMiner(t, refengine.New(), nil)
	setSubnet(t, g, func(p *devchain.SubnetParams) { p.StakeThreshold = 20_000 * fractal.RaoPerTAO })
	v := scoredValidator(t, g, t.TempDir(), prometheus.NewRegistry(), nil)
	if err := v.SetWeights(t.Context(), 1); err == nil {
		t.Fatal("SetWeights with 10000 TAO staked under a 20000 TAO threshold: got nil, want an error")
	}
	if _, w := chainRow(t, g, g.Validator.SS58()); len(w.Pending)+len(w.Rows) != 0 {
		t.Errorf("the chain holds %+v after a refused submission", w)
	}
}

// TestHashCommitRevealAcrossRestart commits by hash, restarts the
// validator, and lets the new process reveal in the reveal epoch.
func TestHashCommitRevealAcrossRestart(t *testing.T) {
	g := gridtest.New(t)
	g.AddMiner(t, refengine.New(), nil)
	g.AddMiner(t, refengine.New(), nil)
	dir := t.TempDir()
	hash := func(c *validator.Config) { c.CommitReveal = fractal.WeightsPathHash }
	reg := prometheus.NewRegistry()
	v := scoredValidator(t, g, dir, reg, hash)
	ctx := t.Context()
	if err := v.SetWeights(ctx, 1); err != nil {
		t.Fatalf("SetWeights: %v", err)
	}
	uids, ws, revealEpoch, ok, err := v.PendingCommit(ctx)
	if err != nil || !ok {
		t.Fatalf("pending commit: %v, %v", ok, err)
	}
	if _, w := chainRow(t, g, g.Validator.SS58()); len(w.Pending) != 1 || w.Pending[0].Path != fractal.WeightsPathHash || w.Pending[0].RevealEpoch != revealEpoch {
		t.Fatalf("chain pending %+v, want one hash commit revealing in epoch %d", w.Pending, revealEpoch)
	}
	v.Close()

	reg2 := prometheus.NewRegistry()
	v2 := scoredValidator(t, g, dir, reg2, hash)
	gotU, gotW, _, ok, err := v2.PendingCommit(ctx)
	if err != nil || !ok || !slices.Equal(gotU, uids) || !slices.Equal(gotW, ws) {
		t.Fatalf("pending commit after restart: %v %v %v %v; want %v %v", gotU, gotW, ok, err, uids, ws)
	}
	v2.Start()
	defer v2.Close()
	p, err := g.Chain.WeightsPolicy(ctx, gridtest.NetUID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Chain.Advance(int(p.NextEpochBlock - p.Block)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the reveal", 15*time.Second, func() bool {
		row, _ := chainRow(t, g, g.Validator.SS58())
		return slices.Equal(row.UIDs, uids) && slices.Equal(row.Weights, ws)
	})
	// Once revealed, the commit is gone; the validator may have made its
	// next one already (a restarted validator sets weights at once).
	waitFor(t, "the revealed commit dropped", 5*time.Second, func() bool {
		_, _, e, ok, _ := v2.PendingCommit(ctx)
		return !ok || e > revealEpoch
	})
	waitFor(t, "the reveal counted", 5*time.Second, func() bool { return opCount(t, reg2, "reveal", fractal.WeightsPathHash, "ok") == 1 })
	if n := opCount(t, reg2, "reveal", fractal.WeightsPathHash, "ok"); n != 1 {
		t.Errorf("reveals counted: got %v, want 1", n)
	}
}

// TestHashCommitExpiredIsReported restarts a validator only after its
// commit's reveal epoch has passed: the chain refuses the reveal, the
// validator reports it and drops the commit.
func TestHashCommitExpiredIsReported(t *testing.T) {
	g := gridtest.New(t)
	g.AddMiner(t, refengine.New(), nil)
	dir := t.TempDir()
	hash := func(c *validator.Config) { c.CommitReveal = fractal.WeightsPathHash }
	v := scoredValidator(t, g, dir, prometheus.NewRegistry(), hash)
	ctx := t.Context()
	if err := v.SetWeights(ctx, 1); err != nil {
		t.Fatalf("SetWeights: %v", err)
	}
	if err := v.SetWeights(ctx, 2); err == nil {
		t.Error("a second hash commit while one is pending: got nil, want an error")
	}
	_, _, revealEpoch, _, err := v.PendingCommit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
	p, err := g.Chain.WeightsPolicy(ctx, gridtest.NetUID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Chain.Advance(int(p.NextEpochBlock-p.Block) + int(p.Tempo)); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	v2 := scoredValidator(t, g, dir, reg, hash)
	v2.Start()
	defer v2.Close()
	waitFor(t, "the expired reveal reported", 15*time.Second, func() bool {
		return opCount(t, reg, "reveal", fractal.WeightsPathHash, fractal.ErrNameExpiredWeightCommit) == 1
	})
	waitFor(t, "the expired commit dropped", 5*time.Second, func() bool {
		_, _, e, ok, _ := v2.PendingCommit(ctx)
		return !ok || e > revealEpoch
	})
	if row, _ := chainRow(t, g, g.Validator.SS58()); len(row.UIDs) != 0 {
		t.Errorf("the chain applied weights %v from an expired commit", row.UIDs)
	}
}
