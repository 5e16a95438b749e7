package subtensor

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"os"
	"strconv"
	"testing"

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
		alice := mustKey(t, "//Alice")
		var hot []fractal.Signer
		for _, uri := range []string{"//Alice//hot0", "//Alice//hot1", "//Alice//hot2", "//Alice//hot3"} {
			hot = append(hot, mustKey(t, uri))
		}
		owner := mustKey(t, "//Alice//owner2")
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
