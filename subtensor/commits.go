package subtensor

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/sr25519"
	"github.com/fractal-grid/fractal/tlock"
)

// Pallets and calls of commit-reveal.
const (
	palletDrand          = "Drand"
	palletTimestamp      = "Timestamp"
	callCommitTimelocked = "commit_timelocked_weights" // current runtimes
	callCommitCRV3       = "commit_crv3_weights"       // spec 293 and others before version 4
	// crv3Version is the commit-reveal version of runtimes with
	// commit_crv3_weights only: their payload has no hotkey.
	crv3Version = 3
)

var (
	_ fractal.WeightsPolicyReader = (*Client)(nil)
	_ fractal.HashCommitter       = (*Client)(nil)
	_ fractal.TimelockCommitter   = (*Client)(nil)
	_ fractal.WeightsStateReader  = (*Client)(nil)
)

func (c *Client) now() time.Time {
	if c.cfg.Now != nil {
		return c.cfg.Now()
	}
	return time.Now()
}

// readUint reads SubtensorModule.item(args) as a u64 (or the smaller
// unsigned integer or bool its metadata declares), its default when unset
// and 0 when the runtime has no such item.
func (c *Client) readUint(ctx context.Context, rt *Runtime, at, item string, args ...[]byte) (uint64, error) {
	if _, err := rt.storageEntry(palletSubtensor, item); err != nil {
		return 0, nil // a runtime without the item (spec 218 has no StakeThreshold)
	}
	v, err := c.storageOrDefault(ctx, rt, at, palletSubtensor, item, args...)
	if err != nil {
		return 0, err
	}
	var b [8]byte
	copy(b[:], v)
	r := newReader(b[:])
	return r.u64(), nil
}

// blockTime is the runtime's block time: twice Timestamp.MinimumPeriod,
// as Aura runtimes set it; 12 s when the runtime has no such constant.
func (rt *Runtime) blockTime() time.Duration {
	p, err := rt.pallet(palletTimestamp)
	if err != nil {
		return 12 * time.Second
	}
	for _, k := range p.Constants {
		if string(k.Name) == "MinimumPeriod" && len(k.Value) >= 8 {
			if ms := newReader(k.Value).u64(); ms > 0 {
				return 2 * time.Duration(ms) * time.Millisecond
			}
		}
	}
	return 12 * time.Second
}

// timelockCall is the runtime's timelocked-commit call and the version it
// implies when the runtime stores none.
func (rt *Runtime) timelockCall() (string, bool) {
	if _, _, err := rt.call(palletSubtensor, callCommitTimelocked); err == nil {
		return callCommitTimelocked, true
	}
	if _, _, err := rt.call(palletSubtensor, callCommitCRV3); err == nil {
		return callCommitCRV3, true
	}
	return "", false
}

// epochOf is the legacy epoch index of block: subnet netuid runs its
// epoch in the blocks b with (b + netuid + 1) mod (tempo + 1) = 0.
func epochOf(block uint64, tempo, netuid uint16) uint64 {
	return (block + uint64(netuid) + 1) / (uint64(tempo) + 1)
}

// WeightsPolicy reads subnet netuid's weights policy at the best block.
func (c *Client) WeightsPolicy(ctx context.Context, netuid uint16) (*fractal.WeightsPolicy, error) {
	rt, err := c.cachedRuntime(ctx)
	if err != nil {
		return nil, err
	}
	at, key, block, err := c.subnetAt(ctx, rt, netuid)
	if err != nil {
		return nil, fmt.Errorf("weights policy: %w", err)
	}
	p := &fractal.WeightsPolicy{NetUID: netuid, Block: block}
	u := func(item string, args ...[]byte) uint64 {
		if err != nil {
			return 0
		}
		var v uint64
		v, err = c.readUint(ctx, rt, at, item, args...)
		return v
	}
	p.CommitReveal = u("CommitRevealWeightsEnabled", key) == 1
	p.RevealPeriodEpochs = u("RevealPeriodEpochs", key)
	p.VersionKey = u("WeightsVersionKey", key)
	p.RateLimit = u("WeightsSetRateLimit", key)
	p.StakeThreshold = u("StakeThreshold")
	p.Tempo = uint16(u("Tempo", key))
	if _, e := rt.storageEntry(palletSubtensor, "CommitRevealWeightsVersion"); e == nil {
		p.CommitRevealVersion = uint16(u("CommitRevealWeightsVersion"))
	} else if name, ok := rt.timelockCall(); ok && name == callCommitCRV3 {
		p.CommitRevealVersion = crv3Version
	}
	if err != nil {
		return nil, fmt.Errorf("weights policy of subnet %d: %w", netuid, err)
	}
	if err := c.schedule(ctx, rt, at, p); err != nil {
		return nil, err
	}
	if p.Beacon.PublicKey, err = hex.DecodeString(tlock.QuicknetPublicKey); err != nil {
		return nil, err
	}
	if _, e := rt.storageEntry(palletDrand, "LastStoredRound"); e == nil {
		v, err := c.storageOrDefault(ctx, rt, at, palletDrand, "LastStoredRound")
		if err != nil {
			return nil, err
		}
		var b [8]byte
		copy(b[:], v)
		p.Beacon.LastRound = newReader(b[:]).u64()
	}
	return p, nil
}

// schedule fills in the epoch schedule and the reveal round: the legacy
// schedule by block number, or the stored counters of dynamic tempo.
func (c *Client) schedule(ctx context.Context, rt *Runtime, at string, p *fractal.WeightsPolicy) error {
	key := appendU16(nil, p.NetUID)
	if p.Tempo == 0 {
		return fmt.Errorf("subnet %d has tempo 0 and runs no epochs: %w", p.NetUID, fractal.ErrInvalid)
	}
	now := c.now()
	if _, err := rt.storageEntry(palletSubtensor, "SubnetEpochIndex"); err == nil {
		var err error
		ds := tlock.DynamicSchedule{CurrentBlock: p.Block, Tempo: p.Tempo, RevealPeriodEpochs: p.RevealPeriodEpochs, BlockTime: rt.blockTime()}
		for item, dst := range map[string]*uint64{"SubnetEpochIndex": &ds.SubnetEpochIndex, "LastEpochBlock": &ds.LastEpochBlock,
			"BlocksSinceLastStep": &ds.BlocksSinceLastStep} {
			if *dst, err = c.readUint(ctx, rt, at, item, key); err != nil {
				return err
			}
		}
		p.Epoch = ds.SubnetEpochIndex
		p.NextEpochBlock = max(ds.LastEpochBlock+uint64(p.Tempo), p.Block+1)
		p.RevealRound, err = ds.RevealRound(now)
		return err
	}
	s := tlock.Schedule{CurrentBlock: p.Block, Tempo: p.Tempo, NetUID: p.NetUID, RevealPeriodEpochs: p.RevealPeriodEpochs, BlockTime: rt.blockTime()}
	p.Epoch = epochOf(p.Block, p.Tempo, p.NetUID)
	period, offset := uint64(p.Tempo)+1, uint64(p.NetUID)+1
	p.NextEpochBlock = (p.Epoch+1)*period - offset
	var err error
	p.RevealRound, err = s.RevealRound(now)
	return err
}

// CommitWeights commits the hash of the weights (commit_weights).
func (c *Client) CommitWeights(ctx context.Context, hotkey fractal.Signer, netuid uint16, hash [32]byte) error {
	if err := c.requireSubnet(ctx, netuid); err != nil {
		return fmt.Errorf("commit weights: %w", err)
	}
	_, err := c.Submit(ctx, hotkey, palletSubtensor, "commit_weights", map[string]any{"netuid": netuid, "commit_hash": hash})
	if err != nil {
		return fmt.Errorf("commit weights on subnet %d: %w", netuid, err)
	}
	return nil
}

// RevealWeights reveals a hash commit (reveal_weights).
func (c *Client) RevealWeights(ctx context.Context, hotkey fractal.Signer, netuid uint16, uids, weights, salt []uint16, versionKey uint64) error {
	if err := fractal.CheckWeights(uids, weights); err != nil {
		return fmt.Errorf("reveal weights: %w", err)
	}
	if err := c.requireSubnet(ctx, netuid); err != nil {
		return fmt.Errorf("reveal weights: %w", err)
	}
	_, err := c.Submit(ctx, hotkey, palletSubtensor, "reveal_weights", map[string]any{
		"netuid": netuid, "uids": uids, "values": weights, "salt": salt, "version_key": versionKey,
	})
	if err != nil {
		return fmt.Errorf("reveal weights on subnet %d: %w", netuid, err)
	}
	return nil
}

// CommitTimelockedWeights sends a timelocked commit: commit_timelocked_weights
// where the runtime has it (naming version), commit_crv3_weights on older
// runtimes. The chain decrypts it with the drand pulse of revealRound.
func (c *Client) CommitTimelockedWeights(ctx context.Context, hotkey fractal.Signer, netuid uint16, ciphertext []byte, revealRound uint64, version uint16) error {
	rt, err := c.cachedRuntime(ctx)
	if err != nil {
		return err
	}
	call, ok := rt.timelockCall()
	if !ok {
		return fmt.Errorf("commit timelocked weights: runtime spec %d has no %s or %s; use hash commit-reveal: %w",
			rt.SpecVersion, callCommitTimelocked, callCommitCRV3, fractal.ErrUnavailable)
	}
	if err := c.requireSubnet(ctx, netuid); err != nil {
		return fmt.Errorf("commit timelocked weights: %w", err)
	}
	args := map[string]any{"netuid": netuid, "commit": ciphertext, "reveal_round": revealRound}
	if call == callCommitTimelocked {
		args["commit_reveal_version"] = version
	}
	if _, err := c.Submit(ctx, hotkey, palletSubtensor, call, args); err != nil {
		return fmt.Errorf("%s on subnet %d: %w", call, netuid, err)
	}
	return nil
}

// SubnetWeights lists subnet netuid's pending commits (hash commits of
// every registered hotkey, timelocked commits of the epochs not yet
// revealed) and the weights in force of every uid.
func (c *Client) SubnetWeights(ctx context.Context, netuid uint16) (*fractal.SubnetWeights, error) {
	p, err := c.WeightsPolicy(ctx, netuid)
	if err != nil {
		return nil, err
	}
	rt, err := c.cachedRuntime(ctx)
	if err != nil {
		return nil, err
	}
	at, key, _, err := c.subnetAt(ctx, rt, netuid)
	if err != nil {
		return nil, err
	}
	out := &fractal.SubnetWeights{NetUID: netuid, Block: p.Block, Epoch: p.Epoch, Pending: []fractal.PendingCommit{}, Rows: []fractal.WeightsRow{}}
	n, err := c.readUint(ctx, rt, at, "SubnetworkN", key)
	if err != nil {
		return nil, err
	}
	last, err := c.storageOrDefault(ctx, rt, at, palletSubtensor, "LastUpdate", key)
	if err != nil {
		return nil, err
	}
	lr := newReader(last)
	lastUpdate := make([]uint64, lr.length(8))
	for i := range lastUpdate {
		lastUpdate[i] = lr.u64()
	}
	for uid := range uint16(min(n, 4096)) {
		if err := c.uidWeights(ctx, rt, at, p, uid, lastUpdate, out); err != nil {
			return nil, err
		}
	}
	if err := c.timelockedPending(ctx, rt, at, p, out); err != nil {
		return nil, err
	}
	return out, nil
}

// uidWeights adds uid's hash commits and weights to out.
func (c *Client) uidWeights(ctx context.Context, rt *Runtime, at string, p *fractal.WeightsPolicy, uid uint16, lastUpdate []uint64, out *fractal.SubnetWeights) error {
	key := appendU16(nil, p.NetUID)
	hk, err := c.storage(ctx, rt, at, palletSubtensor, "Keys", key, appendU16(nil, uid))
	if err != nil || len(hk) != 32 {
		return err
	}
	hotkey := sr25519.SS58([32]byte(hk))
	if _, e := rt.storageEntry(palletSubtensor, "WeightCommits"); e == nil {
		v, err := c.storageOrDefault(ctx, rt, at, palletSubtensor, "WeightCommits", key, hk)
		if err != nil {
			return err
		}
		// VecDeque<(H256, u64 commit block, u64 first reveal block, u64 last reveal block)>
		r := newReader(v)
		for range r.length(56) {
			hash := r.array32()
			block, _, _ := r.u64(), r.u64(), r.u64()
			e := epochOf(block, p.Tempo, p.NetUID)
			out.Pending = append(out.Pending, fractal.PendingCommit{Hotkey: hotkey, Path: fractal.WeightsPathHash, Block: block,
				Epoch: e, RevealEpoch: e + p.RevealPeriodEpochs, Hash: hex.EncodeToString(hash[:])})
		}
		if r.err != nil {
			return fmt.Errorf("decode WeightCommits of %s: %w", hotkey, r.err)
		}
	}
	v, err := c.storageOrDefault(ctx, rt, at, palletSubtensor, "Weights", key, appendU16(nil, uid))
	if err != nil {
		return err
	}
	r := newReader(v)
	row := fractal.WeightsRow{UID: uid, Hotkey: hotkey}
	for range r.length(4) {
		row.UIDs = append(row.UIDs, r.u16())
		row.Weights = append(row.Weights, r.u16())
	}
	if r.err != nil {
		return fmt.Errorf("decode Weights of uid %d: %w", uid, r.err)
	}
	if int(uid) < len(lastUpdate) {
		row.Block = lastUpdate[uid]
	}
	if len(row.UIDs) > 0 {
		out.Rows = append(out.Rows, row)
	}
	return nil
}

// timelockedPending adds the timelocked commits of the epochs whose reveal
// is still to come: CRV3WeightCommits(netuid, epoch) or
// TimelockedWeightCommits(netuid, epoch), whichever the runtime has.
func (c *Client) timelockedPending(ctx context.Context, rt *Runtime, at string, p *fractal.WeightsPolicy, out *fractal.SubnetWeights) error {
	item := ""
	for _, name := range []string{"TimelockedWeightCommits", "CRV3WeightCommits"} {
		if _, err := rt.storageEntry(palletSubtensor, name); err == nil {
			item = name
			break
		}
	}
	if item == "" {
		return nil
	}
	// The runtime files a commit under its own epoch index of the block
	// that includes it, which runs one block ahead of the legacy schedule
	// (a commit in the last block of epoch e is filed under e + 1, as seen
	// on spec 293), and applies it by the start of epoch key + period.
	for k := p.Epoch - min(p.Epoch, p.RevealPeriodEpochs); k <= p.Epoch+1; k++ {
		e := k
		v, err := c.storageOrDefault(ctx, rt, at, palletSubtensor, item, appendU16(nil, p.NetUID), appendU64(nil, k))
		if err != nil {
			return err
		}
		// VecDeque<(AccountId, [u64 commit block,] BoundedVec<u8> commit, u64 round)>
		r := newReader(v)
		for range r.length(41) {
			who := r.array32()
			var block uint64
			if item == "TimelockedWeightCommits" {
				block = r.u64()
			}
			r.bytes(r.length(1))
			round := r.u64()
			out.Pending = append(out.Pending, fractal.PendingCommit{Hotkey: sr25519.SS58(who), Path: fractal.WeightsPathTimelock,
				Block: block, Epoch: e, RevealEpoch: e + p.RevealPeriodEpochs, RevealRound: round})
		}
		if r.err != nil {
			return fmt.Errorf("decode %s of key %d: %w", item, k, r.err)
		}
	}
	return nil
}
