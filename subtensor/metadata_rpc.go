package subtensor

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// readMetadata returns the runtime's metadata: V15 through the Metadata
// runtime API where the runtime lists it among its versions (and the
// configuration allows it), V14 from state_getMetadata otherwise.
func (c *Client) readMetadata(ctx context.Context) ([]byte, error) {
	if c.cfg.MaxMetadata != 14 {
		versions, err := c.MetadataVersions(ctx)
		if err != nil {
			return nil, err
		}
		if slices.Contains(versions, 15) {
			return c.metadataAtVersion(ctx, 15)
		}
		c.log.Info("runtime offers no metadata V15, reading V14", "versions", fmt.Sprint(versions))
	}
	var metaHex string
	if err := c.rpc.call(ctx, &metaHex, "state_getMetadata"); err != nil {
		return nil, fmt.Errorf("read metadata: %w", err)
	}
	raw, err := decodeHex(metaHex)
	if err != nil {
		return nil, fmt.Errorf("read metadata: %w", err)
	}
	return raw, nil
}

// MetadataVersions returns the metadata versions the runtime offers
// (Metadata_metadata_versions; u32::MAX stands for an unstable one). A runtime
// without that API answers none; 14 is then the only version to ask for.
func (c *Client) MetadataVersions(ctx context.Context) ([]uint32, error) {
	raw, err := c.stateCall(ctx, "Metadata_metadata_versions", nil, "")
	var rpcErr *RPCError
	if errors.As(err, &rpcErr) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read metadata versions: %w", err)
	}
	r := newReader(raw)
	versions := decodeSeq(r, 4, func(r *reader) uint32 { return r.u32() })
	if r.err == nil && r.remaining() != 0 {
		r.fail(fmt.Errorf("%d trailing bytes", r.remaining()))
	}
	if r.err != nil {
		return nil, fmt.Errorf("metadata versions: %w", r.err)
	}
	return versions, nil
}

// metadataAtVersion returns the prefixed metadata of version v from
// Metadata_metadata_at_version, an Option<OpaqueMetadata>.
func (c *Client) metadataAtVersion(ctx context.Context, v uint32) ([]byte, error) {
	raw, err := c.stateCall(ctx, "Metadata_metadata_at_version", appendU32(nil, v), "")
	if err != nil {
		return nil, fmt.Errorf("read metadata V%d: %w", v, err)
	}
	r := newReader(raw)
	if !option(r) && r.err == nil {
		return nil, fmt.Errorf("runtime has no metadata V%d", v)
	}
	meta := r.bytes(r.length(1))
	if r.err == nil && r.remaining() != 0 {
		r.fail(fmt.Errorf("%d trailing bytes", r.remaining()))
	}
	if r.err != nil {
		return nil, fmt.Errorf("metadata V%d: %w", v, r.err)
	}
	return meta, nil
}

// stateCall runs runtime API method with SCALE-encoded args at block hash
// at ("" for the best block) and returns its SCALE-encoded result.
func (c *Client) stateCall(ctx context.Context, method string, args []byte, at string) ([]byte, error) {
	params := []any{method, encodeHex(args)}
	if at != "" {
		params = append(params, at)
	}
	var res string
	if err := c.rpc.call(ctx, &res, "state_call", params...); err != nil {
		return nil, err
	}
	return decodeHex(res)
}
