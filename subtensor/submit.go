package subtensor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fractal-grid/fractal"
)

// Inclusion says where an extrinsic landed and what it emitted.
type Inclusion struct {
	Block     uint64
	BlockHash string
	Index     int // extrinsic index in the block
	Events    []Event
}

// Submit encodes pallet.call with args (by argument name), signs it with
// signer, submits it and waits until a block includes it. A failed dispatch
// returns the Inclusion and a *DispatchError; a refused extrinsic a
// *RejectedError.
func (c *Client) Submit(ctx context.Context, signer fractal.Signer, pallet, call string, args map[string]any) (*Inclusion, error) {
	rt, err := c.Runtime(ctx)
	if err != nil {
		return nil, err
	}
	callBytes, err := rt.encodeCall(pallet, call, args)
	if err != nil {
		return nil, fmt.Errorf("encode %s.%s: %w: %w", pallet, call, fractal.ErrInvalid, err)
	}
	return c.SubmitCall(ctx, rt, signer, callBytes)
}

// SubmitCall signs and submits an encoded call and waits for its inclusion.
func (c *Client) SubmitCall(ctx context.Context, rt *Runtime, signer fractal.Signer, call []byte) (*Inclusion, error) {
	xt, start, err := c.signAndSend(ctx, rt, signer, call)
	if err != nil {
		return nil, err
	}
	inc, err := c.waitInclusion(ctx, rt, xt, start)
	if err != nil {
		return nil, err
	}
	return inc, inc.failure(rt)
}

// signAndSend signs call with the signer's next nonce and submits it; it
// returns the extrinsic and the best block number before submission.
func (c *Client) signAndSend(ctx context.Context, rt *Runtime, signer fractal.Signer, call []byte) ([]byte, uint64, error) {
	c.submitMu.Lock()
	defer c.submitMu.Unlock()
	var nonce uint64
	if err := c.rpc.call(ctx, &nonce, "system_accountNextIndex", signer.SS58()); err != nil {
		return nil, 0, fmt.Errorf("read nonce of %s: %w", signer.SS58(), err)
	}
	p, err := rt.NewPayload(call, nonce)
	if err != nil {
		return nil, 0, err
	}
	xt, err := p.Sign(signer)
	if err != nil {
		return nil, 0, err
	}
	start, err := c.Block(ctx)
	if err != nil {
		return nil, 0, err
	}
	var hash string
	// No retries: a submission that may have reached the node is not sent
	// twice.
	if err := c.rpc.callRetries(ctx, 0, &hash, "author_submitExtrinsic", encodeHex(xt)); err != nil {
		var rpcErr *RPCError
		if errors.As(err, &rpcErr) {
			return nil, 0, fmt.Errorf("submit as %s: %w", signer.SS58(), rejected(rpcErr))
		}
		return nil, 0, fmt.Errorf("submit as %s: %w", signer.SS58(), err)
	}
	c.log.Debug("submitted extrinsic", "hash", hash, "signer", signer.SS58(), "nonce", nonce)
	return xt, start, nil
}

type signedBlock struct {
	Block struct {
		Extrinsics []string `json:"extrinsics"`
	} `json:"block"`
}

// waitInclusion polls blocks after start until one holds xt.
func (c *Client) waitInclusion(ctx context.Context, rt *Runtime, xt []byte, start uint64) (*Inclusion, error) {
	want := encodeHex(xt)
	deadline := time.Now().Add(c.cfg.InclusionTimeout)
	next := start + 1
	for {
		best, err := c.Block(ctx)
		if err != nil {
			return nil, fmt.Errorf("wait for inclusion: %w", err)
		}
		for ; next <= best; next++ {
			var hash string
			if err := c.rpc.call(ctx, &hash, "chain_getBlockHash", next); err != nil {
				return nil, fmt.Errorf("wait for inclusion: %w", err)
			}
			var blk signedBlock
			if err := c.rpc.call(ctx, &blk, "chain_getBlock", hash); err != nil {
				return nil, fmt.Errorf("wait for inclusion: %w", err)
			}
			for i, x := range blk.Block.Extrinsics {
				if x == want {
					return c.inclusion(ctx, rt, next, hash, i)
				}
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("extrinsic not included within %s (blocks %d to %d): %w",
				c.cfg.InclusionTimeout, start+1, best, fractal.ErrUnavailable)
		}
		if err := sleep(ctx, c.cfg.PollInterval); err != nil {
			return nil, fmt.Errorf("wait for inclusion: %w", err)
		}
	}
}

func (c *Client) inclusion(ctx context.Context, rt *Runtime, number uint64, hash string, index int) (*Inclusion, error) {
	raw, err := c.storage(ctx, rt, hash, "System", "Events")
	if err != nil {
		return nil, err
	}
	events, err := rt.DecodeEvents(raw)
	if err != nil {
		return nil, fmt.Errorf("events of block %d: %w", number, err)
	}
	inc := &Inclusion{Block: number, BlockHash: hash, Index: index}
	for _, e := range events {
		if e.Extrinsic == index {
			inc.Events = append(inc.Events, e)
		}
	}
	return inc, nil
}

// failure returns the DispatchError of a System.ExtrinsicFailed event, or
// nil when the extrinsic succeeded.
func (inc *Inclusion) failure(rt *Runtime) error {
	for _, e := range inc.Events {
		if e.Pallet != "System" {
			continue
		}
		switch e.Name {
		case "ExtrinsicSuccess":
			return nil
		case "ExtrinsicFailed":
			if len(e.Fields) == 0 {
				return &DispatchError{Pallet: "DispatchError", Name: "Unknown", Block: inc.Block, Index: inc.Index}
			}
			de := rt.dispatchError(e.Fields[0])
			de.Block, de.Index = inc.Block, inc.Index
			return de
		}
	}
	return fmt.Errorf("block %d has no outcome event for extrinsic %d", inc.Block, inc.Index)
}
