package subtensor

import (
	"context"
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/chaintest"
	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/sr25519"
)

// TestContract runs the chain contract suite against the real runtime under
// chopsticks. Stake and permits are written with dev_setStorage: spec 218
// reports stake from the legacy Stake map that add_stake no longer writes,
// and gives permits by its own mock epoch.
func TestContract(t *testing.T) {
	forEachRuntime(t, testContract)
}

func testContract(t *testing.T, d *devnet) {
	alice := testenv.Key(t, "//Alice")
	var hot []fractal.Signer
	for _, uri := range []string{"//Alice//hot0", "//Alice//hot1", "//Alice//hot2", "//Alice//hot3"} {
		hot = append(hot, testenv.Key(t, uri))
	}
	owner := testenv.Key(t, "//Alice//owner1")
	h := chaintest.Harness{
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
		AllowWeights: func(ctx context.Context, tb testing.TB, netuid uint16, _ string) {
			if err := d.setRaw(ctx, "WeightsSetRateLimit", [][]byte{appendU16(nil, netuid)}, appendU64(nil, 0)); err != nil {
				tb.Fatal(err)
			}
		},
	}
	rt, err := d.client.Runtime(testCtx(t, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if rt.dynamicTAO() {
		// Spec 293: root stake is TotalHotkeyAlpha(hotkey, 0), weighed in
		// at the global TaoWeight, here 0.25.
		h.TaoWeight = math.MaxUint64 / 4
		if err := d.setRaw(testCtx(t, time.Minute), "TaoWeight", nil, appendU64(nil, h.TaoWeight)); err != nil {
			t.Fatal(err)
		}
		h.AddRootStake = func(ctx context.Context, tb testing.TB, hotkey string, rao uint64) {
			if err := d.addRootStake(ctx, hotkey, rao); err != nil {
				tb.Fatal(err)
			}
		}
	}
	chaintest.Run(t, h)
}

// addRootStake adds rao to TotalHotkeyAlpha(hotkey, 0), the hotkey's TAO on
// the root network.
func (d *devnet) addRootStake(ctx context.Context, hotkey string, rao uint64) error {
	pub, err := sr25519.ParseSS58(hotkey)
	if err != nil {
		return err
	}
	rt, err := d.client.cachedRuntime(ctx)
	if err != nil {
		return err
	}
	key := [][]byte{pub[:], appendU16(nil, rootNetUID)}
	old, err := d.client.storageOrDefault(ctx, rt, "", palletSubtensor, "TotalHotkeyAlpha", key...)
	if err != nil {
		return err
	}
	return d.setRaw(ctx, "TotalHotkeyAlpha", key, appendU64(nil, newReader(old).u64()+rao))
}

// newSubnet registers a subnet owned by owner and lifts its registration
// limits, which would otherwise refuse a suite's fourth registration in one
// interval before the runtime can say that the hotkey is already
// registered.
func (d *devnet) newSubnet(ctx context.Context, tb testing.TB, owner fractal.Signer) uint16 {
	tb.Helper()
	netuid, err := d.registerNetwork(ctx, owner)
	if err != nil {
		tb.Fatal(err)
	}
	for _, item := range []string{"TargetRegistrationsPerInterval", "MaxRegistrationsPerBlock"} {
		if err := d.setRaw(ctx, item, [][]byte{appendU16(nil, netuid)}, appendU16(nil, 100)); err != nil {
			tb.Fatal(err)
		}
	}
	return netuid
}

// setStakeAndPermit writes the hotkey's stake — the legacy Stake(hotkey,
// owner) = rao on spec 218, alpha on the subnet on spec 293 — and sets the
// hotkey's bit in ValidatorPermit(netuid).
func (d *devnet) setStakeAndPermit(ctx context.Context, netuid uint16, hotkey string, rao uint64) error {
	pub, err := sr25519.ParseSS58(hotkey)
	if err != nil {
		return err
	}
	rt, err := d.client.cachedRuntime(ctx)
	if err != nil {
		return err
	}
	owner, err := d.client.storage(ctx, rt, "", palletSubtensor, "Owner", pub[:])
	if err != nil || len(owner) != 32 {
		return fmtErr("owner of %s: %x, %v", hotkey, owner, err)
	}
	uid, err := d.uidOf(ctx, netuid, pub)
	if err != nil {
		return err
	}
	n, err := d.client.storageOrDefault(ctx, rt, "", palletSubtensor, "SubnetworkN", appendU16(nil, netuid))
	if err != nil {
		return err
	}
	r := newReader(n)
	size := max(int(r.u16()), int(uid)+1)
	permits := appendCompact(nil, uint64(size))
	for i := range size {
		permits = appendBool(permits, i == int(uid))
	}
	if _, err := rt.storageEntry(palletSubtensor, "Stake"); err == nil {
		if err := d.setRaw(ctx, "Stake", [][]byte{pub[:], owner}, appendU64(nil, rao)); err != nil {
			return err
		}
	} else {
		// Dynamic TAO (spec 293): stake is alpha per (hotkey, coldkey,
		// subnet), a U64F64 share, with its total per hotkey and subnet.
		var share [16]byte
		binary.LittleEndian.PutUint64(share[8:], rao)
		if err := d.setRaw(ctx, "Alpha", [][]byte{pub[:], owner, appendU16(nil, netuid)}, share[:]); err != nil {
			return err
		}
		if err := d.setRaw(ctx, "TotalHotkeyAlpha", [][]byte{pub[:], appendU16(nil, netuid)}, appendU64(nil, rao)); err != nil {
			return err
		}
	}
	return d.setRaw(ctx, "ValidatorPermit", [][]byte{appendU16(nil, netuid)}, permits)
}
