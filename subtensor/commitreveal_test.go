package subtensor

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"math"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/chaintest"
	"github.com/fractal-grid/fractal/internal/testenv"
)

// drandRound is a published quicknet round and its signature, from the
// shared timelock vector: the only pulse the tests can give the chain.
type drandRound struct {
	Round     uint64
	Signature []byte
}

func mustDrandRound(tb testing.TB) drandRound {
	tb.Helper()
	var v struct {
		Round     json.Number `json:"round"`
		Signature string      `json:"round_signature_g1"`
	}
	b, err := os.ReadFile(testenv.Shared(tb, "vectors", "tlock", "round1000.json"))
	if err != nil {
		tb.Fatal(err)
	}
	if err := json.Unmarshal(b, &v); err != nil {
		tb.Fatal(err)
	}
	n, err := strconv.ParseUint(v.Round.String(), 10, 64)
	if err != nil {
		tb.Fatal(err)
	}
	return drandRound{Round: n, Signature: mustHex(tb, v.Signature)}
}

// publishPulse stores round's pulse in the Drand pallet, as the pallet's
// offchain worker would: Pulses(round) = {round, randomness =
// sha256(signature), signature}, and LastStoredRound = round.
func (d *devnet) publishPulse(ctx context.Context, r drandRound) error {
	randomness := sha256.Sum256(r.Signature)
	pulse := appendU64(nil, r.Round)
	pulse = append(appendCompact(pulse, 32), randomness[:]...)
	pulse = append(appendCompact(pulse, uint64(len(r.Signature))), r.Signature...)
	rt, err := d.client.cachedRuntime(ctx)
	if err != nil {
		return err
	}
	pk, err := rt.StorageKey(palletDrand, "Pulses", appendU64(nil, r.Round))
	if err != nil {
		return err
	}
	lk, err := rt.StorageKey(palletDrand, "LastStoredRound")
	if err != nil {
		return err
	}
	return d.setStorage(ctx, [][]string{{encodeHex(pk), encodeHex(pulse)}, {encodeHex(lk), encodeHex(appendU64(nil, r.Round))}})
}

// TestCommitRevealContract runs the commit-reveal contract on each runtime:
// hash commit-reveal on both (RevealTooEarly, ExpiredWeightCommit and
// InvalidRevealCommitHashNotMatch as the runtime names them); timelocked
// commits on spec 293 (commit_crv3_weights, its legacy payload without the
// hotkey, any round accepted), which spec 218 lacks (the client says so). The runtime decrypts the commit itself with the pulse of drand
// round 1000, set with dev_setStorage.
func TestCommitRevealContract(t *testing.T) {
	forEachRuntime(t, func(t *testing.T, d *devnet) {
		alice := testenv.Key(t, "//Alice")
		var hot []fractal.Signer
		for _, uri := range []string{"//Alice//hot0", "//Alice//hot1", "//Alice//hot2", "//Alice//hot3"} {
			hot = append(hot, testenv.Key(t, uri))
		}
		owner := testenv.Key(t, "//Alice//owner2")
		call, noTimelock := d.client.rtTimelockCall(t)
		beacon := mustDrandRound(t)
		chaintest.RunCommitReveal(t, chaintest.Harness{
			Chain:   d.client,
			Coldkey: alice,
			Hotkeys: hot,
			NewSubnet: func(ctx context.Context, tb testing.TB, _ fractal.Chain) uint16 {
				return d.newSubnet(ctx, tb, owner)
			},
			SetStake: func(ctx context.Context, tb testing.TB, netuid uint16, hotkey string, rao uint64) {
				if err := d.setStakeAndPermit(ctx, netuid, hotkey, rao); err != nil {
					tb.Fatal(err)
				}
			},
			AdvanceBlocks: func(ctx context.Context, tb testing.TB, n int) {
				if err := d.newBlocks(ctx, n); err != nil {
					tb.Fatal(err)
				}
			},
			SetCommitReveal: func(ctx context.Context, tb testing.TB, netuid uint16, on bool) {
				key := [][]byte{appendU16(nil, netuid)}
				for _, w := range []struct {
					item  string
					value []byte
				}{
					{"CommitRevealWeightsEnabled", appendBool(nil, on)},
					{"WeightsSetRateLimit", appendU64(nil, 0)},
					{"Tempo", appendU16(nil, 4)},
					{"RevealPeriodEpochs", appendU64(nil, 1)},
				} {
					if err := d.setRaw(ctx, w.item, key, w.value); err != nil {
						tb.Fatal(err)
					}
				}
			},
			PublishPulse: func(ctx context.Context, tb testing.TB, round uint64) {
				if round != beacon.Round {
					tb.Fatalf("the test chain holds drand round %d only, not %d", beacon.Round, round)
				}
				if err := d.publishPulse(ctx, beacon); err != nil {
					tb.Fatal(err)
				}
			},
			TimelockRound: beacon.Round,
			NoTimelock:    noTimelock,
			// commit_crv3_weights checks no round; commit_timelocked_weights
			// refuses one below Drand.LastStoredRound.
			AcceptsPastRounds: call == callCommitCRV3,
		})
	})
}

// rtTimelockCall reports the runtime's timelocked-commit call, and true
// when it has none.
func (c *Client) rtTimelockCall(tb testing.TB) (string, bool) {
	tb.Helper()
	rt, err := c.Runtime(tb.Context())
	if err != nil {
		tb.Fatal(err)
	}
	name, ok := rt.timelockCall()
	return name, !ok
}

// TestDynamicStake checks the stake the metagraph reports is the stake the
// runtime counts: alpha on the subnet plus TaoWeight × root TAO, both parts
// shown.
func TestDynamicStake(t *testing.T) {
	forEachRuntime(t, func(t *testing.T, d *devnet) {
		ctx := testCtx(t, 2*time.Minute)
		netuid := d.newSubnet(ctx, t, testenv.Key(t, "//Alice//owner3"))
		hot := testenv.Key(t, "//Alice//hot2")
		if err := d.client.BurnedRegister(ctx, testenv.Key(t, "//Alice"), netuid, hot.SS58()); err != nil {
			t.Fatal(err)
		}
		const alpha, root = 300 * fractal.RaoPerTAO, 1000 * fractal.RaoPerTAO
		if err := d.setStakeAndPermit(ctx, netuid, hot.SS58(), alpha); err != nil {
			t.Fatal(err)
		}
		rt, err := d.client.cachedRuntime(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Spec 293 weighs root stake in (a global TaoWeight, root stake as
		// TotalHotkeyAlpha(hotkey, 0)); spec 218 does not (its TaoWeight is a
		// map of another meaning), and reports the neuron API's stake alone.
		dynamic := rt.dynamicTAO()
		if dynamic != (d.runtime.Name != runtime218Spec.Name) {
			t.Fatalf("dynamic TAO: got %t on spec %s", dynamic, d.runtime.Name)
		}
		if dynamic {
			pub := hot.PublicKey()
			// TaoWeight = u64::MAX / 4 (0.25); 1000 TAO on the root network.
			if err := d.setRaw(ctx, "TaoWeight", nil, appendU64(nil, math.MaxUint64/4)); err != nil {
				t.Fatal(err)
			}
			if err := d.setRaw(ctx, "TotalHotkeyAlpha", [][]byte{pub[:], appendU16(nil, 0)}, appendU64(nil, root)); err != nil {
				t.Fatal(err)
			}
		}
		m, err := d.client.Metagraph(ctx, netuid)
		if err != nil {
			t.Fatal(err)
		}
		n, ok := m.ByHotkey(hot.SS58())
		if !ok {
			t.Fatalf("%s not in the metagraph", hot.SS58())
		}
		if !dynamic {
			if n.Stake != alpha || n.AlphaStake != 0 || n.RootStake != 0 {
				t.Errorf("stake without dynamic TAO: got %d (alpha %d, root %d), want %d with no parts", n.Stake, n.AlphaStake, n.RootStake, uint64(alpha))
			}
			return
		}
		want := uint64(alpha) + weighted(root, math.MaxUint64/4)
		if n.AlphaStake != alpha || n.RootStake != root || n.Stake != want {
			t.Errorf("stake: got %d (alpha %d, root %d), want %d (alpha %d + 0.25 × root %d)", n.Stake, n.AlphaStake, n.RootStake, want, uint64(alpha), uint64(root))
		}
	})
}

func TestWeighted(t *testing.T) {
	for _, tc := range []struct{ x, w, want uint64 }{
		{1000, math.MaxUint64, 1000},
		{1000, 0, 0},
		{1000, math.MaxUint64 / 2, 499},
		{math.MaxUint64, math.MaxUint64, math.MaxUint64},
	} {
		if got := weighted(tc.x, tc.w); got != tc.want {
			t.Errorf("weighted(%d, %d) = %d, want %d", tc.x, tc.w, got, tc.want)
		}
	}
}
