package chaintest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/tlock"
)

// CommitRevealChain is what RunCommitReveal needs of a chain beyond
// fractal.Chain.
type CommitRevealChain interface {
	fractal.Chain
	fractal.WeightsPolicyReader
	fractal.HashCommitter
	fractal.TimelockCommitter
	fractal.WeightsStateReader
}

// RunCommitReveal runs the commit-reveal contract against h on a subnet of
// its own: set_weights is refused with CommitRevealEnabled; a hash commit
// reveals in exactly its reveal epoch (RevealTooEarly before,
// ExpiredWeightCommit after, InvalidRevealCommitHashNotMatch for other
// weights); a timelocked commit sealed to the chain's beacon for the policy's
// reveal round is revealed by the chain itself.
func RunCommitReveal(t *testing.T, h Harness) {
	h.defaults(t)
	if h.SetCommitReveal == nil {
		t.Fatal("chaintest: RunCommitReveal needs Harness.SetCommitReveal")
	}
	c, ok := h.Chain.(CommitRevealChain)
	if !ok {
		t.Fatalf("chaintest: %T lacks the commit-reveal capabilities", h.Chain)
	}
	s := &suite{h: h, uids: map[string]uint16{}}
	ctx, cancel := context.WithTimeout(t.Context(), h.Timeout)
	s.netuid = h.NewSubnet(ctx, t, h.Chain)
	h.SetCommitReveal(ctx, t, s.netuid, true)
	h.AdvanceBlocks(ctx, t, 2)
	cancel()
	if !t.Run("Register", s.testRegister) || !t.Run("StakeAndPermit", s.testStake) {
		t.Fatal("later steps need registered hotkeys and a permitted validator")
	}
	cr := &crSuite{suite: s, c: c}
	t.Run("Policy", cr.testPolicy)
	t.Run("SetWeightsRefused", cr.testSetWeightsRefused)
	t.Run("HashCommitReveal", cr.testHash)
	t.Run("HashRevealExpired", cr.testHashExpired)
	t.Run("Timelocked", cr.testTimelocked)
	if !h.NoTimelock {
		t.Run("TimelockedRoundTooLow", cr.testRoundTooLow)
	}
}

type crSuite struct {
	*suite
	c CommitRevealChain
}

func (s *crSuite) policy(t *testing.T) *fractal.WeightsPolicy {
	t.Helper()
	p, err := s.c.WeightsPolicy(s.ctx(t), s.netuid)
	if err != nil {
		t.Fatalf("weights policy: %v", err)
	}
	return p
}

// weightsOf returns the weights row of hotkey, if any.
func (s *crSuite) weightsOf(t *testing.T, hotkey string) (fractal.WeightsRow, *fractal.SubnetWeights) {
	t.Helper()
	w, err := s.c.SubnetWeights(s.ctx(t), s.netuid)
	if err != nil {
		t.Fatalf("subnet weights: %v", err)
	}
	return w.Row(hotkey), w
}

// pendingOf returns hotkey's last pending commit.
func (s *crSuite) pendingOf(t *testing.T, hotkey, path string) fractal.PendingCommit {
	t.Helper()
	_, w := s.weightsOf(t, hotkey)
	for i := len(w.Pending) - 1; i >= 0; i-- {
		if p := w.Pending[i]; p.Hotkey == hotkey && p.Path == path {
			return p
		}
	}
	t.Fatalf("no pending %s commit of %s in %+v", path, hotkey, w.Pending)
	return fractal.PendingCommit{}
}

// untilEpoch produces blocks until the subnet's epoch index is epoch,
// bounded by the epochs' length.
func (s *crSuite) untilEpoch(t *testing.T, epoch uint64) *fractal.WeightsPolicy {
	t.Helper()
	p := s.policy(t)
	limit := (epoch-min(epoch, p.Epoch)+1)*(uint64(p.Tempo)+1) + 2
	for i := uint64(0); p.Epoch < epoch; i++ {
		if i > limit {
			t.Fatalf("epoch %d not reached in %d blocks (at epoch %d, block %d)", epoch, limit, p.Epoch, p.Block)
		}
		s.h.AdvanceBlocks(s.ctx(t), t, 1)
		p = s.policy(t)
	}
	if p.Epoch != epoch {
		t.Fatalf("epoch: got %d, want %d", p.Epoch, epoch)
	}
	return p
}

func (s *crSuite) weights() ([]uint16, []uint16) {
	return []uint16{s.uids[s.miner(0).SS58()], s.uids[s.miner(1).SS58()]}, []uint16{65535, 21845}
}

func (s *crSuite) testPolicy(t *testing.T) {
	p := s.policy(t)
	switch {
	case !p.CommitReveal:
		t.Error("commit_reveal: got false, want true")
	case p.RevealPeriodEpochs < 1:
		t.Errorf("reveal period: got %d epochs, want at least 1", p.RevealPeriodEpochs)
	case p.Tempo == 0:
		t.Error("tempo: got 0")
	case p.NextEpochBlock <= p.Block:
		t.Errorf("next epoch at block %d, not after the current block %d", p.NextEpochBlock, p.Block)
	case p.RevealRound < p.Beacon.LastRound:
		t.Errorf("reveal round %d is below the beacon's last round %d", p.RevealRound, p.Beacon.LastRound)
	case len(p.Beacon.PublicKey) != 96:
		t.Errorf("beacon public key: got %d bytes, want 96", len(p.Beacon.PublicKey))
	}
}

func (s *crSuite) testSetWeightsRefused(t *testing.T) {
	uids, ws := s.weights()
	err := s.c.SetWeights(s.ctx(t), s.validator(), s.netuid, uids, ws, 0)
	if got := fractal.ChainErrorName(err); got != fractal.ErrNameCommitRevealEnabled {
		t.Fatalf("set_weights with commit-reveal on: got %v (%q), want %s", err, got, fractal.ErrNameCommitRevealEnabled)
	}
}

func (s *crSuite) testHash(t *testing.T) {
	v := s.validator()
	uids, ws := s.weights()
	salt := []uint16{7, 1, 2, 9}
	p := s.policy(t)
	hash := fractal.CommitHash(v.PublicKey(), s.netuid, uids, ws, salt, p.VersionKey)
	if err := s.c.CommitWeights(s.ctx(t), v, s.netuid, hash); err != nil {
		t.Fatalf("commit_weights: %v", err)
	}
	pc := s.pendingOf(t, v.SS58(), fractal.WeightsPathHash)
	if pc.RevealEpoch != pc.Epoch+p.RevealPeriodEpochs {
		t.Errorf("reveal epoch: got %d, want %d + %d", pc.RevealEpoch, pc.Epoch, p.RevealPeriodEpochs)
	}
	err := s.c.RevealWeights(s.ctx(t), v, s.netuid, uids, ws, salt, p.VersionKey)
	if got := fractal.ChainErrorName(err); got != fractal.ErrNameRevealTooEarly {
		t.Fatalf("reveal in the commit's epoch: got %v, want %s", err, fractal.ErrNameRevealTooEarly)
	}
	s.untilEpoch(t, pc.RevealEpoch)
	err = s.c.RevealWeights(s.ctx(t), v, s.netuid, uids, ws, []uint16{7, 1, 2, 8}, p.VersionKey)
	if got := fractal.ChainErrorName(err); got != fractal.ErrNameHashNotMatch {
		t.Fatalf("reveal with another salt: got %v, want %s", err, fractal.ErrNameHashNotMatch)
	}
	if err := s.c.RevealWeights(s.ctx(t), v, s.netuid, uids, ws, salt, p.VersionKey); err != nil {
		t.Fatalf("reveal in the reveal epoch: %v", err)
	}
	row, _ := s.weightsOf(t, v.SS58())
	if !slices.Equal(row.UIDs, uids) || !slices.Equal(row.Weights, ws) {
		t.Errorf("revealed weights: got %v %v, want %v %v", row.UIDs, row.Weights, uids, ws)
	}
	err = s.c.RevealWeights(s.ctx(t), v, s.netuid, uids, ws, salt, p.VersionKey)
	if got := fractal.ChainErrorName(err); got != fractal.ErrNameNoCommitFound {
		t.Errorf("reveal twice: got %v, want %s", err, fractal.ErrNameNoCommitFound)
	}
}

func (s *crSuite) testHashExpired(t *testing.T) {
	v := s.validator()
	uids, ws := s.weights()
	salt := []uint16{3}
	p := s.policy(t)
	if err := s.c.CommitWeights(s.ctx(t), v, s.netuid, fractal.CommitHash(v.PublicKey(), s.netuid, uids, ws, salt, p.VersionKey)); err != nil {
		t.Fatalf("commit_weights: %v", err)
	}
	pc := s.pendingOf(t, v.SS58(), fractal.WeightsPathHash)
	s.untilEpoch(t, pc.RevealEpoch+1)
	err := s.c.RevealWeights(s.ctx(t), v, s.netuid, uids, ws, salt, p.VersionKey)
	if got := fractal.ChainErrorName(err); got != fractal.ErrNameExpiredWeightCommit && got != fractal.ErrNameNoCommitFound {
		t.Fatalf("reveal after the reveal epoch: got %v, want %s", err, fractal.ErrNameExpiredWeightCommit)
	}
}

func (s *crSuite) testTimelocked(t *testing.T) {
	v := s.validator()
	uids := []uint16{s.uids[s.miner(1).SS58()]}
	ws := []uint16{65535}
	p := s.policy(t)
	round := p.RevealRound
	if s.h.TimelockRound != 0 {
		round = s.h.TimelockRound
	}
	pub := v.PublicKey()
	payload := tlock.WeightsPayload{Hotkey: pub[:], UIDs: uids, Values: ws, VersionKey: p.VersionKey}
	plain, err := payload.Encode()
	if p.CommitRevealVersion < 4 {
		plain, err = payload.EncodeLegacy()
	}
	if err != nil {
		t.Fatal(err)
	}
	ct, err := tlock.Encrypt(p.Beacon.PublicKey, round, plain, nil)
	if err != nil {
		t.Fatalf("encrypt: %v", err)
	}
	start := time.Now()
	err = s.c.CommitTimelockedWeights(s.ctx(t), v, s.netuid, ct, round, p.CommitRevealVersion)
	if s.h.NoTimelock {
		if !errors.Is(err, fractal.ErrUnavailable) {
			t.Fatalf("timelocked commit on a runtime without them: got %v, want ErrUnavailable", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("commit timelocked weights: %v", err)
	}
	pc := s.pendingOf(t, v.SS58(), fractal.WeightsPathTimelock)
	if pc.RevealRound != round {
		t.Errorf("pending reveal round: got %d, want %d", pc.RevealRound, round)
	}
	if s.h.PublishPulse != nil {
		s.h.PublishPulse(s.ctx(t), t, round)
	}
	end := s.untilEpoch(t, pc.RevealEpoch)
	row, w := s.weightsOf(t, v.SS58())
	t.Logf("timelocked weights in force at block %d, %d blocks and %.1f s after the commit's block %d",
		end.Block, end.Block-p.Block, time.Since(start).Seconds(), p.Block)
	if !slices.Equal(row.UIDs, uids) || !slices.Equal(row.Weights, ws) {
		t.Fatalf("weights after the reveal epoch: got %v %v, want %v %v", row.UIDs, row.Weights, uids, ws)
	}
	for _, pc := range w.Pending {
		if pc.Hotkey == v.SS58() && pc.Path == fractal.WeightsPathTimelock {
			t.Errorf("timelocked commit still pending after its reveal: %+v", pc)
		}
	}
}

func (s *crSuite) testRoundTooLow(t *testing.T) {
	p := s.policy(t)
	if p.Beacon.LastRound == 0 {
		t.Fatal("the beacon has no round yet")
	}
	ct, err := tlock.Encrypt(p.Beacon.PublicKey, p.Beacon.LastRound-1, []byte{0}, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = s.c.CommitTimelockedWeights(s.ctx(t), s.validator(), s.netuid, ct, p.Beacon.LastRound-1, p.CommitRevealVersion)
	if s.h.AcceptsPastRounds {
		if err != nil {
			t.Fatalf("commit for a past round on a runtime that checks no round: %v", err)
		}
		return
	}
	if got := fractal.ChainErrorName(err); got != fractal.ErrNameRevealRoundTooLow {
		t.Fatalf("commit for a past round: got %v, want %s", err, fractal.ErrNameRevealRoundTooLow)
	}
}
