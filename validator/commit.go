package validator

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/tlock"
)

// Log keys of weights submissions.
const (
	logKeyPath        = "path"
	logKeyBlock       = "block"
	logKeyEpoch       = "epoch"
	logKeyRevealEpoch = "reveal_epoch"
	logKeyRound       = "reveal_round"
	logKeyMiners      = "miners"
	logKeyChainError  = "chain_error"
)

// Weights operations, the op label of fractal_validator_weights_ops_total.
const (
	opSet    = "set"
	opCommit = "commit"
	opReveal = "reveal"
)

// saltLen is the u16s of salt of a hash commit.
const saltLen = 8

// errBelowStakeThreshold: the validator lacks the stake to set weights.
var errBelowStakeThreshold = errors.New("stake below the subnet's stake threshold")

// pendingCommit is a hash commit waiting for its reveal epoch, kept in the
// KV so that a restarted validator still reveals it.
type pendingCommit struct {
	UIDs        []uint16  `json:"uids"`
	Weights     []uint16  `json:"weights"`
	Salt        []uint16  `json:"salt"`
	VersionKey  uint64    `json:"version_key"`
	Hash        string    `json:"hash"`
	Block       uint64    `json:"block"`
	Epoch       uint64    `json:"epoch"`
	RevealEpoch uint64    `json:"reveal_epoch"`
	DecidedAt   time.Time `json:"decided_at"`
}

// commitState is the validator's commit-reveal state: the pending hash
// commit and the metrics of every weights operation.
type commitState struct {
	once    sync.Once
	ops     *prometheus.CounterVec
	mu      sync.Mutex
	loaded  bool
	pending *pendingCommit
	policy  *fractal.WeightsPolicy // the last one read
}

func (v *Validator) commitState() *commitState {
	cs := &v.commits
	cs.once.Do(func() {
		cs.ops = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fractal_validator_weights_ops_total",
			Help: "Weights operations by op (set, commit, reveal), path (set_weights, timelock, hash) and result (ok, or the chain's error name, or error)."},
			[]string{"op", "path", "result"})
		if v.Registry != nil {
			if err := v.Registry.Register(cs.ops); err != nil {
				v.logger.Warn("weights metrics not registered", slog.Any(logKeyError, err))
			}
		}
	})
	return cs
}

// report counts and logs one weights operation.
func (v *Validator) report(op, path string, err error, attrs ...any) {
	result := "ok"
	if err != nil {
		if result = fractal.ChainErrorName(err); result == "" {
			result = "error"
		}
	}
	if err != nil && errors.Is(err, context.Canceled) {
		// Shutting down while waiting for the call's block: it may still be
		// included, so it is neither a failure nor a success.
		result = "cancelled"
	}
	v.commitState().ops.WithLabelValues(op, path, result).Inc()
	attrs = append(attrs, slog.String(logKeyPath, path))
	if result == "cancelled" {
		v.logger.Info("weights "+op+" cut short before its block; its outcome is on the chain", append(attrs, slog.Any(logKeyError, err))...)
		return
	}
	if err != nil {
		v.logger.Warn("weights "+op+" failed", append(attrs, slog.String(logKeyChainError, result), slog.Any(logKeyError, err))...)
		return
	}
	v.logger.Info("weights "+op, attrs...)
}

func (v *Validator) commitKey() string {
	return fmt.Sprintf("validator.%d.commit.%s", v.Config.NetUID, v.Hotkey.SS58())
}

// loadPending reads the pending hash commit once.
func (v *Validator) loadPending(ctx context.Context) (*pendingCommit, error) {
	cs := v.commitState()
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.loaded {
		return cs.pending, nil
	}
	e, err := v.KV.Get(ctx, v.commitKey())
	switch {
	case errors.Is(err, fractal.ErrNotFound):
	case err != nil:
		return nil, fmt.Errorf("load pending commit: %w", err)
	default:
		var p pendingCommit
		if err := json.Unmarshal(e.Value, &p); err != nil {
			return nil, fmt.Errorf("decode pending commit: %w", err)
		}
		cs.pending = &p
		v.logger.Info("pending weights commit loaded", slog.Uint64(logKeyBlock, p.Block), slog.Uint64(logKeyRevealEpoch, p.RevealEpoch))
	}
	cs.loaded = true
	return cs.pending, nil
}

func (v *Validator) storePending(ctx context.Context, p *pendingCommit) error {
	cs := v.commitState()
	if p == nil {
		if err := v.KV.Delete(ctx, v.commitKey()); err != nil {
			return fmt.Errorf("drop pending commit: %w", err)
		}
	} else {
		b, err := json.Marshal(p)
		if err != nil {
			return err
		}
		if _, err := v.KV.Put(ctx, v.commitKey(), b); err != nil {
			return fmt.Errorf("save pending commit: %w", err)
		}
	}
	cs.mu.Lock()
	cs.pending, cs.loaded = p, true
	cs.mu.Unlock()
	return nil
}

// PendingCommit returns the hash commit waiting for its reveal, if any.
func (v *Validator) PendingCommit(ctx context.Context) (uids, weights []uint16, revealEpoch uint64, ok bool, err error) {
	p, err := v.loadPending(ctx)
	if err != nil || p == nil {
		return nil, nil, 0, false, err
	}
	return p.UIDs, p.Weights, p.RevealEpoch, true, nil
}

// weightsPolicy reads the subnet's policy; nil when the chain has none
// (it then takes set_weights with the configured version key).
func (v *Validator) weightsPolicy(ctx context.Context) (*fractal.WeightsPolicy, error) {
	r, ok := v.Chain.(fractal.WeightsPolicyReader)
	if !ok {
		return nil, nil
	}
	p, err := r.WeightsPolicy(ctx, v.Config.NetUID)
	if err != nil {
		return nil, fmt.Errorf("read weights policy: %w", err)
	}
	cs := v.commitState()
	cs.mu.Lock()
	cs.policy = p
	cs.mu.Unlock()
	return p, nil
}

// versionKey is the configured key, or the subnet's when none is set.
func (v *Validator) versionKey(p *fractal.WeightsPolicy) (uint64, error) {
	key := v.Config.WeightsVersionKey
	switch {
	case p == nil:
	case key == 0:
		key = p.VersionKey
	case key < p.VersionKey:
		return 0, fractal.Errorf("version-key", "%d is below the subnet's weights version key %d; upgrade the validator", key, p.VersionKey)
	}
	return key, nil
}

// checkStake refuses to submit weights the chain would refuse for stake.
func (v *Validator) checkStake(p *fractal.WeightsPolicy) error {
	if p == nil || p.StakeThreshold == 0 {
		return nil
	}
	v.mu.Lock()
	graph := v.graph
	v.mu.Unlock()
	if graph == nil {
		return nil
	}
	if n, ok := graph.ByHotkey(v.Hotkey.SS58()); ok && n.Stake < p.StakeThreshold {
		return fmt.Errorf("%w: %d rao staked, threshold %d", errBelowStakeThreshold, n.Stake, p.StakeThreshold)
	}
	return nil
}

// submit sends uids/ws the way the subnet wants them: set_weights, or a
// commit of the configured path. It returns the path taken.
func (v *Validator) submit(ctx context.Context, block uint64, uids, ws []uint16, decided time.Time) (string, error) {
	p, err := v.weightsPolicy(ctx)
	if err != nil {
		return "", err
	}
	key, err := v.versionKey(p)
	if err != nil {
		return "", err
	}
	if err := v.checkStake(p); err != nil {
		return "", err
	}
	path := v.Config.CommitReveal
	if path == "" {
		path = fractal.WeightsPathTimelock
	}
	attrs := []any{slog.Uint64(logKeyBlock, block), slog.Int(logKeyMiners, len(uids))}
	switch {
	case p == nil || !p.CommitReveal:
		err := v.Chain.SetWeights(ctx, v.Hotkey, v.Config.NetUID, uids, ws, key)
		v.report(opSet, fractal.WeightsPathSet, err, attrs...)
		return fractal.WeightsPathSet, err
	case path == fractal.WeightsPathHash:
		return path, v.commitHash(ctx, p, uids, ws, key, decided, attrs)
	default:
		return path, v.commitTimelocked(ctx, p, uids, ws, key, attrs)
	}
}

// commitTimelocked seals the weights for the policy's reveal round and
// commits them; the chain reveals them itself.
func (v *Validator) commitTimelocked(ctx context.Context, p *fractal.WeightsPolicy, uids, ws []uint16, key uint64, attrs []any) error {
	tc, ok := v.Chain.(fractal.TimelockCommitter)
	if !ok {
		return fmt.Errorf("the chain takes no timelocked commits; run with the hash path: %w", fractal.ErrUnavailable)
	}
	pub := v.Hotkey.PublicKey()
	payload := tlock.WeightsPayload{Hotkey: pub[:], UIDs: uids, Values: ws, VersionKey: key}
	plain, err := payload.Encode()
	if p.CommitRevealVersion < 4 {
		plain, err = payload.EncodeLegacy()
	}
	if err != nil {
		return err
	}
	ct, err := tlock.Encrypt(p.Beacon.PublicKey, p.RevealRound, plain, nil)
	if err != nil {
		return fmt.Errorf("timelock weights: %w", err)
	}
	err = tc.CommitTimelockedWeights(ctx, v.Hotkey, v.Config.NetUID, ct, p.RevealRound, p.CommitRevealVersion)
	v.report(opCommit, fractal.WeightsPathTimelock, err, append(attrs, slog.Uint64(logKeyRound, p.RevealRound),
		slog.Uint64(logKeyRevealEpoch, p.Epoch+p.RevealPeriodEpochs))...)
	return err
}

// commitHash commits the weights' hash, keeping the weights and salt in the
// KV first so that a restart reveals them. One commit is pending at a time.
func (v *Validator) commitHash(ctx context.Context, p *fractal.WeightsPolicy, uids, ws []uint16, key uint64, decided time.Time, attrs []any) error {
	hc, ok := v.Chain.(fractal.HashCommitter)
	if !ok {
		return fmt.Errorf("the chain takes no hash commits: %w", fractal.ErrUnavailable)
	}
	if cur, err := v.loadPending(ctx); err != nil {
		return err
	} else if cur != nil && p.Epoch <= cur.RevealEpoch {
		return errCommitPending
	}
	var raw [2 * saltLen]byte
	rand.Read(raw[:])
	salt := make([]uint16, saltLen)
	for i := range salt {
		salt[i] = binary.LittleEndian.Uint16(raw[2*i:])
	}
	hash := fractal.CommitHash(v.Hotkey.PublicKey(), v.Config.NetUID, uids, ws, salt, key)
	pc := &pendingCommit{UIDs: uids, Weights: ws, Salt: salt, VersionKey: key, Hash: hex.EncodeToString(hash[:]),
		Block: p.Block, Epoch: p.Epoch, RevealEpoch: p.Epoch + p.RevealPeriodEpochs, DecidedAt: decided}
	if err := v.storePending(ctx, pc); err != nil {
		return err
	}
	err := hc.CommitWeights(ctx, v.Hotkey, v.Config.NetUID, hash)
	v.report(opCommit, fractal.WeightsPathHash, err, append(attrs, slog.Uint64(logKeyEpoch, pc.Epoch), slog.Uint64(logKeyRevealEpoch, pc.RevealEpoch))...)
	if err != nil {
		if derr := v.storePending(ctx, nil); derr != nil {
			return errors.Join(err, derr)
		}
		return err
	}
	v.confirmRevealEpoch(ctx, pc)
	return nil
}

// errCommitPending: a hash commit waits for its reveal; no new one yet.
var errCommitPending = errors.New("a hash commit waits for its reveal")

// confirmRevealEpoch takes the reveal epoch the chain recorded for the
// commit, when it lists them: a commit included after an epoch boundary
// reveals an epoch later than the policy read before it said.
func (v *Validator) confirmRevealEpoch(ctx context.Context, pc *pendingCommit) {
	r, ok := v.Chain.(fractal.WeightsStateReader)
	if !ok {
		return
	}
	w, err := r.SubnetWeights(ctx, v.Config.NetUID)
	if err != nil {
		return
	}
	for i := len(w.Pending) - 1; i >= 0; i-- {
		c := w.Pending[i]
		if c.Hotkey == v.Hotkey.SS58() && c.Hash == pc.Hash && c.RevealEpoch != pc.RevealEpoch {
			pc.Epoch, pc.RevealEpoch = c.Epoch, c.RevealEpoch
			if err := v.storePending(ctx, pc); err != nil {
				v.logger.Warn("pending commit not updated", slog.Any(logKeyError, err))
			}
			return
		}
	}
}

// revealDue reveals the pending hash commit once its reveal epoch has come.
// A commit the chain no longer takes (expired, unknown) is dropped.
func (v *Validator) revealDue(ctx context.Context, block uint64) error {
	pc, err := v.loadPending(ctx)
	if err != nil || pc == nil {
		return err
	}
	hc, ok := v.Chain.(fractal.HashCommitter)
	if !ok {
		return nil
	}
	p, err := v.weightsPolicy(ctx)
	if err != nil || p == nil || p.Epoch < pc.RevealEpoch {
		return err
	}
	attrs := []any{slog.Uint64(logKeyBlock, block), slog.Uint64(logKeyEpoch, p.Epoch), slog.Uint64(logKeyRevealEpoch, pc.RevealEpoch),
		slog.Int(logKeyMiners, len(pc.UIDs)), slog.Duration("since_decided", v.now().Sub(pc.DecidedAt))}
	err = hc.RevealWeights(ctx, v.Hotkey, v.Config.NetUID, pc.UIDs, pc.Weights, pc.Salt, pc.VersionKey)
	v.report(opReveal, fractal.WeightsPathHash, err, attrs...)
	switch name := fractal.ChainErrorName(err); {
	case err == nil, name == fractal.ErrNameExpiredWeightCommit, name == fractal.ErrNameNoCommitFound, name == fractal.ErrNameHashNotMatch,
		err != nil && p.Epoch > pc.RevealEpoch+1:
		if derr := v.storePending(ctx, nil); derr != nil {
			return errors.Join(err, derr)
		}
	}
	return err
}
