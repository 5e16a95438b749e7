package subtensor

import (
	"context"
	"fmt"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/sr25519"
)

// ServeAxon publishes the hotkey's axon on the subnet (serve_axon).
func (c *Client) ServeAxon(ctx context.Context, hotkey fractal.Signer, netuid uint16, axon fractal.Axon) error {
	if err := axon.Validate(); err != nil {
		return fmt.Errorf("serve axon: %w", err)
	}
	ip, ipType := ipToU128(axon.IP)
	if err := c.requireSubnet(ctx, netuid); err != nil {
		return fmt.Errorf("serve axon: %w", err)
	}
	_, err := c.Submit(ctx, hotkey, palletSubtensor, "serve_axon", map[string]any{
		"netuid": netuid, "version": axon.Version, "ip": ip, "port": axon.Port, "ip_type": ipType,
		"protocol": axon.Protocol, "placeholder1": uint8(0), "placeholder2": uint8(0),
	})
	if err != nil {
		return fmt.Errorf("serve axon %s on subnet %d: %w", axon.AddrPort(), netuid, err)
	}
	return nil
}

// SetWeights sets the hotkey's weights on the subnet (set_weights). The
// weights are submitted as given; see fractal.NormalizeWeights.
func (c *Client) SetWeights(ctx context.Context, hotkey fractal.Signer, netuid uint16, uids, weights []uint16, versionKey uint64) error {
	if err := fractal.CheckWeights(uids, weights); err != nil {
		return fmt.Errorf("set weights: %w", err)
	}
	if err := c.requireSubnet(ctx, netuid); err != nil {
		return fmt.Errorf("set weights: %w", err)
	}
	_, err := c.Submit(ctx, hotkey, palletSubtensor, "set_weights", map[string]any{
		"netuid": netuid, "dests": uids, "weights": weights, "version_key": versionKey,
	})
	if err != nil {
		return fmt.Errorf("set weights on subnet %d: %w", netuid, err)
	}
	return nil
}

// BurnedRegister registers hotkey on the subnet, burning the coldkey's TAO
// (burned_register, signed by the coldkey).
func (c *Client) BurnedRegister(ctx context.Context, coldkey fractal.Signer, netuid uint16, hotkey string) error {
	pub, err := sr25519.ParseSS58(hotkey)
	if err != nil {
		return fmt.Errorf("register hotkey: %w", err)
	}
	if err := c.requireSubnet(ctx, netuid); err != nil {
		return fmt.Errorf("register %s: %w", hotkey, err)
	}
	_, err = c.Submit(ctx, coldkey, palletSubtensor, "burned_register", map[string]any{
		"netuid": netuid, "hotkey": pub,
	})
	if err != nil {
		return fmt.Errorf("register %s on subnet %d: %w", hotkey, netuid, err)
	}
	return nil
}

// requireSubnet fails with fractal.ErrNotFound when netuid does not exist at
// the best block, so no fee is paid for a call bound to fail.
func (c *Client) requireSubnet(ctx context.Context, netuid uint16) error {
	rt, err := c.cachedRuntime(ctx)
	if err != nil {
		return err
	}
	_, _, _, err = c.subnetAt(ctx, rt, netuid)
	return err
}
