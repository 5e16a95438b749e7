package devchain

import (
	"context"
	"fmt"
	"net/http"

	"github.com/fractal-grid/fractal"
)

// Commit-reveal calls, also write paths /v1/calls/{call}.
const (
	callCommitWeights    = "commit_weights"
	callRevealWeights    = "reveal_weights"
	callCommitTimelocked = "commit_timelocked_weights"
)

var (
	_ fractal.WeightsPolicyReader = (*Chain)(nil)
	_ fractal.HashCommitter       = (*Chain)(nil)
	_ fractal.TimelockCommitter   = (*Chain)(nil)
	_ fractal.WeightsStateReader  = (*Chain)(nil)
	_ fractal.WeightsPolicyReader = (*Client)(nil)
	_ fractal.HashCommitter       = (*Client)(nil)
	_ fractal.TimelockCommitter   = (*Client)(nil)
	_ fractal.WeightsStateReader  = (*Client)(nil)
)

// Arguments of the commit-reveal calls.
type (
	commitWeightsArgs struct {
		NetUID uint16   `json:"netuid"`
		Hash   [32]byte `json:"hash"`
	}
	revealWeightsArgs struct {
		NetUID     uint16   `json:"netuid"`
		UIDs       []uint16 `json:"uids"`
		Weights    []uint16 `json:"weights"`
		Salt       []uint16 `json:"salt"`
		VersionKey uint64   `json:"version_key"`
	}
	commitTimelockedArgs struct {
		NetUID      uint16 `json:"netuid"`
		Commit      []byte `json:"commit"`
		RevealRound uint64 `json:"reveal_round"`
		Version     uint16 `json:"commit_reveal_version"`
	}
)

// WeightsPolicy returns subnet netuid's weights policy now.
func (c *Chain) WeightsPolicy(ctx context.Context, netuid uint16) (*fractal.WeightsPolicy, error) {
	var p *fractal.WeightsPolicy
	err := c.view(func(st *state) error {
		sn, err := st.subnet(netuid)
		if err == nil {
			p = sn.policy(st.Block, st.beacon, st.inclusion)
		}
		return err
	})
	return p, err
}

// SubnetWeights returns subnet netuid's pending commits and weights.
func (c *Chain) SubnetWeights(ctx context.Context, netuid uint16) (*fractal.SubnetWeights, error) {
	var w *fractal.SubnetWeights
	err := c.view(func(st *state) error {
		sn, err := st.subnet(netuid)
		if err == nil {
			w = sn.weightsState(st.Block)
		}
		return err
	})
	return w, err
}

// CommitWeights records hotkey's hash commit.
func (c *Chain) CommitWeights(ctx context.Context, hotkey fractal.Signer, netuid uint16, hash [32]byte) error {
	who, err := signerAddr(hotkey, callCommitWeights)
	if err != nil {
		return err
	}
	return c.update(func(st *state) error { return st.commitWeights(who, netuid, hash) })
}

// RevealWeights reveals hotkey's hash commit of these weights.
func (c *Chain) RevealWeights(ctx context.Context, hotkey fractal.Signer, netuid uint16, uids, weights, salt []uint16, versionKey uint64) error {
	who, err := signerAddr(hotkey, callRevealWeights)
	if err != nil {
		return err
	}
	return c.update(func(st *state) error { return st.revealWeights(who, netuid, uids, weights, salt, versionKey) })
}

// CommitTimelockedWeights records hotkey's timelocked commit; the chain
// reveals it in its reveal epoch with the stand-in beacon's round.
func (c *Chain) CommitTimelockedWeights(ctx context.Context, hotkey fractal.Signer, netuid uint16, ciphertext []byte, revealRound uint64, version uint16) error {
	who, err := signerAddr(hotkey, callCommitTimelocked)
	if err != nil {
		return err
	}
	return c.update(func(st *state) error { return st.commitTimelocked(who, netuid, ciphertext, revealRound, version) })
}

// dispatchCommit runs a commit-reveal call; ok is false for other calls.
func (s *Server) dispatchCommit(env *envelope) (ok bool, err error) {
	c, who := s.Chain, env.Signer
	switch env.Call {
	case callCommitWeights:
		var a commitWeightsArgs
		if err = decodeArgs(env, &a); err == nil {
			err = c.update(func(st *state) error { return st.commitWeights(who, a.NetUID, a.Hash) })
		}
	case callRevealWeights:
		var a revealWeightsArgs
		if err = decodeArgs(env, &a); err == nil {
			err = c.update(func(st *state) error { return st.revealWeights(who, a.NetUID, a.UIDs, a.Weights, a.Salt, a.VersionKey) })
		}
	case callCommitTimelocked:
		var a commitTimelockedArgs
		if err = decodeArgs(env, &a); err == nil {
			err = c.update(func(st *state) error { return st.commitTimelocked(who, a.NetUID, a.Commit, a.RevealRound, a.Version) })
		}
	default:
		return false, nil
	}
	return true, err
}

func (s *Server) handleWeightsPolicy(w http.ResponseWriter, r *http.Request) {
	netuid, err := parseNetUID(r.PathValue("netuid"))
	if err != nil {
		s.reply(w, r, nil, err)
		return
	}
	p, err := s.Chain.WeightsPolicy(r.Context(), netuid)
	s.reply(w, r, p, err)
}

func (s *Server) handleSubnetWeights(w http.ResponseWriter, r *http.Request) {
	netuid, err := parseNetUID(r.PathValue("netuid"))
	if err != nil {
		s.reply(w, r, nil, err)
		return
	}
	sw, err := s.Chain.SubnetWeights(r.Context(), netuid)
	s.reply(w, r, sw, err)
}

// WeightsPolicy reads subnet netuid's weights policy.
func (c *Client) WeightsPolicy(ctx context.Context, netuid uint16) (*fractal.WeightsPolicy, error) {
	p := new(fractal.WeightsPolicy)
	if err := c.get(ctx, fmt.Sprintf("/v1/subnets/%d/weights-policy", netuid), p); err != nil {
		return nil, err
	}
	return p, nil
}

// SubnetWeights reads subnet netuid's pending commits and weights.
func (c *Client) SubnetWeights(ctx context.Context, netuid uint16) (*fractal.SubnetWeights, error) {
	w := new(fractal.SubnetWeights)
	if err := c.get(ctx, fmt.Sprintf("/v1/subnets/%d/weights", netuid), w); err != nil {
		return nil, err
	}
	return w, nil
}

// CommitWeights sends hotkey's hash commit.
func (c *Client) CommitWeights(ctx context.Context, hotkey fractal.Signer, netuid uint16, hash [32]byte) error {
	_, err := c.call(ctx, hotkey, callCommitWeights, commitWeightsArgs{NetUID: netuid, Hash: hash})
	return err
}

// RevealWeights reveals hotkey's hash commit.
func (c *Client) RevealWeights(ctx context.Context, hotkey fractal.Signer, netuid uint16, uids, weights, salt []uint16, versionKey uint64) error {
	if err := fractal.CheckWeights(uids, weights); err != nil {
		return fmt.Errorf("%s: %w", callRevealWeights, err)
	}
	_, err := c.call(ctx, hotkey, callRevealWeights, revealWeightsArgs{NetUID: netuid, UIDs: uids, Weights: weights, Salt: salt, VersionKey: versionKey})
	return err
}

// CommitTimelockedWeights sends hotkey's timelocked commit.
func (c *Client) CommitTimelockedWeights(ctx context.Context, hotkey fractal.Signer, netuid uint16, ciphertext []byte, revealRound uint64, version uint16) error {
	_, err := c.call(ctx, hotkey, callCommitTimelocked, commitTimelockedArgs{NetUID: netuid, Commit: ciphertext, RevealRound: revealRound, Version: version})
	return err
}
