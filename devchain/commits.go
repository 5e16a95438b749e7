package devchain

import (
	"cmp"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/sr25519"
	"github.com/fractal-grid/fractal/tlock"
)

// Commit-reveal limits, as subtensor sets them.
const (
	// maxUnrevealed bounds the unrevealed commits of one hotkey on a subnet.
	maxUnrevealed = 10
	// maxCiphertext bounds a timelocked commit's ciphertext.
	maxCiphertext = 2048
)

// commit is a weights commit waiting for its reveal epoch.
type commit struct {
	Hotkey string `json:"hotkey"`
	Path   string `json:"path"` // fractal.WeightsPathHash or WeightsPathTimelock
	Block  uint64 `json:"block"`
	Epoch  uint64 `json:"epoch"`
	// RevealEpoch is Epoch plus the subnet's reveal period at commit time.
	RevealEpoch uint64 `json:"reveal_epoch"`
	Hash        string `json:"hash,omitempty"`       // hex, hash commits
	Ciphertext  []byte `json:"ciphertext,omitempty"` // timelocked commits
	Round       uint64 `json:"round,omitempty"`
	Version     uint16 `json:"version,omitempty"`
}

// revealEvent is the outcome of one timelocked commit the chain revealed
// (or dropped) at a block.
type revealEvent struct {
	NetUID uint16
	Hotkey string
	Round  uint64
	Err    error
}

// revealPeriod is the subnet's reveal period; snapshots from before
// commit-reveal hold 0, which means 1.
func (p SubnetParams) revealPeriod() uint64 { return max(p.RevealPeriodEpochs, 1) }

// nextEpochBlock is the block the subnet's next epoch runs in.
func (sn *subnet) nextEpochBlock() uint64 { return sn.LastEpoch + uint64(sn.Params.Tempo) }

// callEpoch is the epoch a call made at head counts in: the head's, or with
// inclusion the epoch of the block after the head, which a Bittensor
// runtime includes the call in after running that block's epoch if due.
func (sn *subnet) callEpoch(head uint64, inclusion bool) uint64 {
	if !inclusion || head+1 < sn.LastEpoch {
		return sn.EpochIndex
	}
	return sn.EpochIndex + (head+1-sn.LastEpoch)/uint64(sn.Params.Tempo)
}

// revealBlock is the block a commit made in epoch callEpoch is revealed in,
// while the tempo stays as it is.
func (sn *subnet) revealBlock(callEpoch uint64) uint64 {
	return sn.LastEpoch + (callEpoch+sn.Params.revealPeriod()-sn.EpochIndex)*uint64(sn.Params.Tempo)
}

func chainErr(call, name string, kind error, format string, args ...any) error {
	return fmt.Errorf("%s: %s: %s: %w", call, name, fmt.Sprintf(format, args...), kind)
}

// checkCommit runs what every commit checks: commit-reveal on, the hotkey
// registered, the rate limit and the number of unrevealed commits.
func (s *state) checkCommit(call, hotkey string, netuid uint16) (*subnet, *neuron, error) {
	sn, err := s.subnet(netuid)
	if err != nil {
		return nil, nil, err
	}
	if !sn.Params.CommitReveal {
		return nil, nil, chainErr(call, fractal.ErrNameCommitRevealDisabled, fractal.ErrConflict,
			"subnet %d has commit-reveal off; use set_weights", netuid)
	}
	n, _, err := sn.neuronOf(hotkey, call)
	if err != nil {
		return nil, nil, err
	}
	if lim := sn.Params.WeightsRateLimit; n.Committed && s.Block-n.CommittedAt < lim {
		return nil, nil, chainErr(call, fractal.ErrNameTooFast, fractal.ErrConflict,
			"last commit at block %d, rate limit %d blocks, next allowed at block %d (now %d)", n.CommittedAt, lim, n.CommittedAt+lim, s.Block)
	}
	sn.dropExpired(sn.callEpoch(s.Block, s.inclusion))
	pending := 0
	for _, c := range sn.Commits {
		if c.Hotkey == hotkey {
			pending++
		}
	}
	if pending >= maxUnrevealed {
		return nil, nil, chainErr(call, fractal.ErrNameTooManyUnrevealed, fractal.ErrConflict,
			"hotkey %s has %d unrevealed commits on subnet %d", hotkey, pending, netuid)
	}
	return sn, n, nil
}

// addCommit records c as made now by n.
func (s *state) addCommit(sn *subnet, n *neuron, c *commit) {
	c.Block, c.Epoch = s.Block, sn.callEpoch(s.Block, s.inclusion)
	c.RevealEpoch = c.Epoch + sn.Params.revealPeriod()
	sn.Commits = append(sn.Commits, c)
	n.Committed, n.CommittedAt = true, s.Block
}

func (s *state) commitWeights(hotkey string, netuid uint16, hash [32]byte) error {
	sn, n, err := s.checkCommit(callCommitWeights, hotkey, netuid)
	if err != nil {
		return err
	}
	s.addCommit(sn, n, &commit{Hotkey: hotkey, Path: fractal.WeightsPathHash, Hash: hex.EncodeToString(hash[:])})
	return nil
}

func (s *state) commitTimelocked(hotkey string, netuid uint16, ct []byte, round uint64, version uint16) error {
	call := callCommitTimelocked
	sn, err := s.subnet(netuid)
	if err != nil {
		return err
	}
	switch {
	case len(ct) == 0 || len(ct) > maxCiphertext:
		return fmt.Errorf("%s: %w", call, fractal.Errorf("commit", "ciphertext of %d bytes, want 1-%d", len(ct), maxCiphertext))
	case version != sn.Params.CommitRevealVersion:
		return chainErr(call, fractal.ErrNameIncorrectVersion, fractal.ErrInvalid,
			"commit-reveal version %d, the subnet wants %d", version, sn.Params.CommitRevealVersion)
	case round < s.Block:
		return chainErr(call, fractal.ErrNameRevealRoundTooLow, fractal.ErrInvalid,
			"reveal round %d is below the beacon's last round %d", round, s.Block)
	}
	sn, n, err := s.checkCommit(call, hotkey, netuid)
	if err != nil {
		return err
	}
	s.addCommit(sn, n, &commit{Hotkey: hotkey, Path: fractal.WeightsPathTimelock,
		Ciphertext: slices.Clone(ct), Round: round, Version: version})
	return nil
}

func (s *state) revealWeights(hotkey string, netuid uint16, uids, ws, salt []uint16, versionKey uint64) error {
	call := callRevealWeights
	sn, err := s.subnet(netuid)
	if err != nil {
		return err
	}
	if !sn.Params.CommitReveal {
		return chainErr(call, fractal.ErrNameCommitRevealDisabled, fractal.ErrConflict, "subnet %d has commit-reveal off", netuid)
	}
	pub, err := sr25519.ParseSS58(hotkey)
	if err != nil {
		return fmt.Errorf("%s: hotkey: %w", call, err)
	}
	want := hex.EncodeToString(func() []byte { h := fractal.CommitHash(pub, netuid, uids, ws, salt, versionKey); return h[:] }())
	mine, match := 0, -1
	for i, c := range sn.Commits {
		if c.Hotkey != hotkey || c.Path != fractal.WeightsPathHash {
			continue
		}
		mine++
		if c.Hash == want && match < 0 {
			match = i
		}
	}
	switch {
	case mine == 0:
		return chainErr(call, fractal.ErrNameNoCommitFound, fractal.ErrNotFound, "hotkey %s has no commit on subnet %d", hotkey, netuid)
	case match < 0:
		return chainErr(call, fractal.ErrNameHashNotMatch, fractal.ErrInvalid,
			"no commit of hotkey %s matches these weights, salt and version key", hotkey)
	}
	c, now := sn.Commits[match], sn.callEpoch(s.Block, s.inclusion)
	switch {
	case now < c.RevealEpoch:
		return chainErr(call, fractal.ErrNameRevealTooEarly, fractal.ErrConflict,
			"the commit of block %d (epoch %d) reveals in epoch %d, now epoch %d (next epoch at block %d)",
			c.Block, c.Epoch, c.RevealEpoch, now, sn.nextEpochBlock())
	case now > c.RevealEpoch:
		sn.Commits = slices.Delete(sn.Commits, match, match+1)
		return chainErr(call, fractal.ErrNameExpiredWeightCommit, fractal.ErrConflict,
			"the commit of block %d (epoch %d) had to be revealed in epoch %d, now epoch %d",
			c.Block, c.Epoch, c.RevealEpoch, now)
	}
	if err := s.applyWeights(sn, call, hotkey, uids, ws, versionKey, s.Block); err != nil {
		return err
	}
	sn.Commits = slices.Delete(sn.Commits, match, match+1)
	return nil
}

// dropExpired forgets the hash commits whose reveal epoch is before epoch.
func (sn *subnet) dropExpired(epoch uint64) {
	sn.Commits = slices.DeleteFunc(sn.Commits, func(c *commit) bool {
		return c.Path == fractal.WeightsPathHash && epoch > c.RevealEpoch
	})
}

// revealTimelocked decrypts and applies the timelocked commits whose
// reveal epoch has come and whose round the beacon has signed; a commit
// that cannot be revealed by the epoch after its reveal epoch is dropped.
func (s *state) revealTimelocked(sn *subnet) []revealEvent {
	var events []revealEvent
	keep := sn.Commits[:0]
	for _, c := range sn.Commits {
		switch {
		case c.Path != fractal.WeightsPathTimelock || sn.EpochIndex < c.RevealEpoch:
			keep = append(keep, c)
		case c.Round > s.Block && sn.EpochIndex <= c.RevealEpoch:
			keep = append(keep, c) // the pulse is not out yet
		case c.Round > s.Block:
			events = append(events, revealEvent{sn.NetUID, c.Hotkey, c.Round, chainErr(callCommitTimelocked, fractal.ErrNameExpiredWeightCommit,
				fractal.ErrConflict, "round %d was not out by epoch %d", c.Round, c.RevealEpoch)})
		default:
			events = append(events, revealEvent{sn.NetUID, c.Hotkey, c.Round, s.applyTimelocked(sn, c)})
		}
	}
	clear(sn.Commits[len(keep):])
	sn.Commits = keep
	return events
}

func (s *state) applyTimelocked(sn *subnet, c *commit) error {
	sig, err := s.beacon.Sign(c.Round)
	if err != nil {
		return err
	}
	plain, err := tlock.Decrypt(c.Ciphertext, sig)
	if err != nil {
		return fmt.Errorf("reveal: %w", err)
	}
	var p tlock.WeightsPayload
	if c.Version >= 4 {
		if p, err = tlock.DecodeWeightsPayload(plain); err == nil {
			pub, _ := sr25519.ParseSS58(c.Hotkey)
			if string(p.Hotkey) != string(pub[:]) {
				err = fmt.Errorf("payload names another hotkey: %w", tlock.ErrInvalidPayload)
			}
		}
	} else {
		p, err = tlock.DecodeLegacyWeightsPayload(plain)
	}
	if err != nil {
		return fmt.Errorf("reveal: %w", err)
	}
	return s.applyWeights(sn, "reveal", c.Hotkey, p.UIDs, p.Values, p.VersionKey, s.Block)
}

// subnetWeights lists sn's pending commits and weights in force.
func (sn *subnet) weightsState(block uint64) *fractal.SubnetWeights {
	out := &fractal.SubnetWeights{NetUID: sn.NetUID, Block: block, Epoch: sn.EpochIndex,
		Pending: []fractal.PendingCommit{}, Rows: []fractal.WeightsRow{}}
	for _, c := range sn.Commits {
		out.Pending = append(out.Pending, fractal.PendingCommit{Hotkey: c.Hotkey, Path: c.Path, Block: c.Block,
			Epoch: c.Epoch, RevealEpoch: c.RevealEpoch, RevealRound: c.Round, Hash: c.Hash})
	}
	for uid, n := range sn.Neurons {
		if len(n.Weights) == 0 {
			continue
		}
		row := fractal.WeightsRow{UID: uint16(uid), Hotkey: n.Hotkey, Block: n.WeightsAt}
		for _, w := range n.Weights {
			row.UIDs = append(row.UIDs, w.UID)
			row.Weights = append(row.Weights, w.Value)
		}
		out.Rows = append(out.Rows, row)
	}
	slices.SortFunc(out.Pending, func(a, b fractal.PendingCommit) int { return cmp.Compare(a.Block, b.Block) })
	return out
}

// policy is sn's weights policy at block, with reveal timing for calls
// counted as inclusion says (callEpoch).
func (sn *subnet) policy(block uint64, beacon *tlock.Beacon, inclusion bool) *fractal.WeightsPolicy {
	p := sn.Params
	return &fractal.WeightsPolicy{
		NetUID: sn.NetUID, Block: block, CommitReveal: p.CommitReveal, CommitRevealVersion: p.CommitRevealVersion,
		RevealPeriodEpochs: p.revealPeriod(), VersionKey: p.WeightsVersionKey, RateLimit: p.WeightsRateLimit,
		StakeThreshold: p.StakeThreshold, Tempo: p.Tempo, Epoch: sn.EpochIndex, NextEpochBlock: sn.nextEpochBlock(),
		RevealRound: sn.revealBlock(sn.callEpoch(block, inclusion)), Beacon: fractal.Beacon{PublicKey: beacon.PublicKey(), LastRound: block},
	}
}
