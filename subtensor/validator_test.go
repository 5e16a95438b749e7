package subtensor

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/jetstream"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/sr25519"
	"github.com/fractal-grid/fractal/tlock"
	"github.com/fractal-grid/fractal/validator"
)

// crSubnet is a subnet with commit-reveal on (tempo 4, reveal after one
// epoch, no rate limit), a permitted validator and two registered miners.
type crSubnet struct {
	netuid uint16
	val    *sr25519.Keypair
	miners []*sr25519.Keypair
}

func newCRSubnet(ctx context.Context, t *testing.T, d *devnet, owner string) crSubnet {
	t.Helper()
	s := crSubnet{netuid: d.newSubnet(ctx, t, testenv.Key(t, owner)), val: testenv.Key(t, "//Alice//hot1")}
	alice := testenv.Key(t, "//Alice")
	for _, k := range []*sr25519.Keypair{s.val, testenv.Key(t, "//Alice//miner0"), testenv.Key(t, "//Alice//miner1")} {
		if err := d.client.BurnedRegister(ctx, alice, s.netuid, k.SS58()); err != nil {
			t.Fatal(err)
		}
		if k != s.val {
			s.miners = append(s.miners, k)
		}
	}
	key := [][]byte{appendU16(nil, s.netuid)}
	for item, v := range map[string][]byte{"CommitRevealWeightsEnabled": appendBool(nil, true), "WeightsSetRateLimit": appendU64(nil, 0),
		"Tempo": appendU16(nil, 4), "RevealPeriodEpochs": appendU64(nil, 1)} {
		if err := d.setRaw(ctx, item, key, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.setStakeAndPermit(ctx, s.netuid, s.val.SS58(), 1000*fractal.RaoPerTAO); err != nil {
		t.Fatal(err)
	}
	return s
}

// openValidator opens a validator on the store in dir whose saved scores
// rate the subnet's miners, so it has weights to set without challenging
// anyone.
func openValidator(ctx context.Context, t *testing.T, d *devnet, s crSubnet, dir string, reg *prometheus.Registry) *validator.Validator {
	t.Helper()
	st, err := jetstream.Open(ctx, jetstream.DefaultConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	kv, err := st.KV(ctx, "validator", 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range s.miners {
		uid, err := d.uidOf(ctx, s.netuid, m.PublicKey())
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(validator.Stats{Hotkey: m.SS58(), UID: uid, Challenges: 10, Passed: 10, Success: 1,
			SecsPerCost: float64(i + 1), Throughput: 1, Tier: 1})
		if _, err := kv.Put(ctx, fmt.Sprintf("validator.%d.stats.%s", s.netuid, m.SS58()), b); err != nil {
			t.Fatal(err)
		}
	}
	v := validator.New()
	v.Config.NetUID, v.Config.CommitReveal, v.Config.Round = s.netuid, fractal.WeightsPathHash, time.Hour
	v.Engine, v.Hotkey, v.Chain, v.KV, v.Audit = refengine.New(), s.val, d.client, kv, st.Audit()
	v.Words, v.Logger, v.Registry = refengine.Words(), testLogger(t), reg
	if err := v.Open(ctx); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestValidatorHashCommitRevealAcrossRestart: on each runtime, a validator
// commits its weights' hash, stops, and a new process on the same store
// reveals them in the reveal epoch; the weights are in the runtime's
// Weights storage. Then a commit whose reveal epoch passes while the
// validator is down is refused with ExpiredWeightCommit and reported.
func TestValidatorHashCommitRevealAcrossRestart(t *testing.T) {
	forEachRuntime(t, func(t *testing.T, d *devnet) {
		ctx := testCtx(t, 3*time.Minute)
		s := newCRSubnet(ctx, t, d, "//Alice//owner4")
		dir := t.TempDir()
		v := openValidator(ctx, t, d, s, dir, prometheus.NewRegistry())
		block, err := d.client.Block(ctx)
		if err != nil {
			t.Fatal(err)
		}
		decided := time.Now()
		if err := v.SetWeights(ctx, block); err != nil {
			t.Fatalf("commit: %v", err)
		}
		uids, ws, revealEpoch, ok, err := v.PendingCommit(ctx)
		if err != nil || !ok {
			t.Fatalf("pending commit: %v %v", ok, err)
		}
		v.Close()

		reg := prometheus.NewRegistry()
		v2 := openValidator(ctx, t, d, s, dir, reg)
		v2.Start()
		defer v2.Close()
		var row fractal.WeightsRow
		for i := 0; ; i++ {
			if i > 20 {
				t.Fatalf("weights not revealed within 20 blocks of the commit (reveal epoch %d)", revealEpoch)
			}
			if err := d.newBlocks(ctx, 1); err != nil {
				t.Fatal(err)
			}
			if row = validatorRow(ctx, t, d, s); len(row.UIDs) > 0 {
				break
			}
			time.Sleep(200 * time.Millisecond) // the validator sees the block and reveals
		}
		if !slices.Equal(row.UIDs, uids) || !slices.Equal(row.Weights, ws) {
			t.Fatalf("revealed weights: got %v %v, want %v %v", row.UIDs, row.Weights, uids, ws)
		}
		after, _ := d.client.Block(ctx)
		t.Logf("spec %s, hash path: weights in force %d blocks and %.1f s after the decision (chopsticks builds blocks on demand)",
			d.runtime.Name, after-block, time.Since(decided).Seconds())
		// The weights can be in storage before the validator's wait for the
		// reveal's inclusion returns and counts it: wait for the count.
		for i := 0; opCounter(t, reg, "reveal", fractal.WeightsPathHash, "ok") != 1; i++ {
			if i > 20 {
				t.Fatalf("reveals counted: got %v, want 1", opCounter(t, reg, "reveal", fractal.WeightsPathHash, "ok"))
			}
			if err := d.newBlocks(ctx, 1); err != nil {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond)
		}
		v2.Close()

		// A commit whose reveal epoch passes while no validator runs.
		s2 := newCRSubnet(ctx, t, d, "//Alice//owner5")
		dir2 := t.TempDir()
		v3 := openValidator(ctx, t, d, s2, dir2, prometheus.NewRegistry())
		block, _ = d.client.Block(ctx)
		if err := v3.SetWeights(ctx, block); err != nil {
			t.Fatalf("commit: %v", err)
		}
		v3.Close()
		if err := d.newBlocks(ctx, 12); err != nil { // three tempos of 4: past the reveal epoch
			t.Fatal(err)
		}
		reg4 := prometheus.NewRegistry()
		v4 := openValidator(ctx, t, d, s2, dir2, reg4)
		v4.Start()
		defer v4.Close()
		deadline := time.Now().Add(time.Minute)
		for opCounter(t, reg4, "reveal", fractal.WeightsPathHash, fractal.ErrNameExpiredWeightCommit) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("no reveal refused as %s reported within a minute", fractal.ErrNameExpiredWeightCommit)
			}
			if err := d.newBlocks(ctx, 1); err != nil {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
}

func validatorRow(ctx context.Context, t *testing.T, d *devnet, s crSubnet) fractal.WeightsRow {
	t.Helper()
	w, err := d.client.SubnetWeights(ctx, s.netuid)
	if err != nil {
		t.Fatal(err)
	}
	return w.Row(s.val.SS58())
}

// opCounter reads fractal_validator_weights_ops_total{op, path, result}.
func opCounter(t *testing.T, reg *prometheus.Registry, op, path, result string) float64 {
	t.Helper()
	return testenv.Counter(t, reg, "fractal_validator_weights_ops_total", map[string]string{"op": op, "path": path, "result": result})
}

// TestValidatorTimelockedWeights runs the validator's default path on spec
// 293: it reads the policy, seals its weights for the drand round the
// client computes from the epoch schedule and commits them with
// commit_crv3_weights; the test sets that round's pulse with
// dev_setStorage and the runtime decrypts and applies the weights in the
// reveal epoch. The client's clock is set so that the round it computes
// is 1000, the one round whose signature the tests hold.
func TestValidatorTimelockedWeights(t *testing.T) {
	d := getDevnet(t, runtime293Spec)
	ctx := testCtx(t, 3*time.Minute)
	s := newCRSubnet(ctx, t, d, "//Alice//owner6")
	beacon := mustDrandRound(t)
	var offset time.Duration
	cfg := testConfig(d.node.url)
	cfg.Now = func() time.Time { return tlock.TimeOf(beacon.Round).Add(offset) }
	client, err := New(cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	for range 4 {
		p, err := client.WeightsPolicy(ctx, s.netuid)
		if err != nil {
			t.Fatal(err)
		}
		if p.RevealRound == beacon.Round {
			break
		}
		offset += time.Duration(int64(beacon.Round)-int64(p.RevealRound)) * tlock.QuicknetPeriod
	}
	v := openValidator(ctx, t, d, s, t.TempDir(), prometheus.NewRegistry())
	v.Config.CommitReveal = fractal.WeightsPathTimelock
	v.Chain = client
	block, err := client.Block(ctx)
	if err != nil {
		t.Fatal(err)
	}
	decided := time.Now()
	if err := v.SetWeights(ctx, block); err != nil {
		t.Fatalf("timelocked commit: %v", err)
	}
	w, err := client.SubnetWeights(ctx, s.netuid)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Pending) != 1 || w.Pending[0].Path != fractal.WeightsPathTimelock || w.Pending[0].RevealRound != beacon.Round {
		t.Fatalf("pending after the commit: %+v, want one timelocked commit for round %d", w.Pending, beacon.Round)
	}
	if err := d.publishPulse(ctx, beacon); err != nil {
		t.Fatal(err)
	}
	var row fractal.WeightsRow
	for i := 0; len(row.UIDs) == 0; i++ {
		if i > 20 {
			t.Fatalf("timelocked weights not revealed within 20 blocks (reveal epoch %d)", w.Pending[0].RevealEpoch)
		}
		if err := d.newBlocks(ctx, 1); err != nil {
			t.Fatal(err)
		}
		row = validatorRow(ctx, t, d, s)
	}
	after, _ := client.Block(ctx)
	t.Logf("spec 293, timelocked path: weights in force %d blocks and %.1f s after the decision (chopsticks builds blocks on demand)",
		after-block, time.Since(decided).Seconds())
	want := v.Weights()
	if len(row.UIDs) != len(want) {
		t.Fatalf("revealed weights %v %v, want the validator's %v", row.UIDs, row.Weights, want)
	}
	for _, uid := range row.UIDs {
		if want[uid] == 0 {
			t.Errorf("revealed weights name uid %d, which the validator gave none", uid)
		}
	}
}
