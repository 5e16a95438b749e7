package devchain

import (
	"context"
	"fmt"
	"reflect"

	"github.com/fractal-grid/fractal"
)

// Admin is the devchain's development surface, on the in-process Chain and
// on the Client alike: things a real chain does with funds or sudo.
type Admin interface {
	// CreateSubnet creates a subnet owned by owner with the chain's default
	// parameters and returns its netuid.
	CreateSubnet(ctx context.Context, owner fractal.Signer) (uint16, error)
	// Subnets lists the subnets.
	Subnets(ctx context.Context) ([]SubnetInfo, error)
	// AddStake adds rao to a registered hotkey's stake (sudo only: the
	// devchain keeps no balances).
	AddStake(ctx context.Context, sudo fractal.Signer, netuid uint16, hotkey string, rao uint64) error
	// SetSubnetParams replaces a subnet's parameters (sudo only).
	SetSubnetParams(ctx context.Context, sudo fractal.Signer, netuid uint16, p SubnetParams) error
	// AdvanceBlocks produces n blocks now (sudo only) and returns the new
	// block number.
	AdvanceBlocks(ctx context.Context, sudo fractal.Signer, n int) (uint64, error)
}

// SubnetInfo describes one subnet.
type SubnetInfo struct {
	NetUID    uint16       `json:"netuid"`
	Owner     string       `json:"owner"`
	Neurons   int          `json:"neurons"`
	CreatedAt uint64       `json:"created_at"`
	LastEpoch uint64       `json:"last_epoch"`
	Params    SubnetParams `json:"params"`
}

// ServeAxon publishes hotkey's axon on netuid.
func (c *Chain) ServeAxon(ctx context.Context, hotkey fractal.Signer, netuid uint16, axon fractal.Axon) error {
	who, err := signerAddr(hotkey, callServeAxon)
	if err != nil {
		return err
	}
	return c.serveAxonAs(who, netuid, axon)
}

// SetWeights records hotkey's weights on netuid.
func (c *Chain) SetWeights(ctx context.Context, hotkey fractal.Signer, netuid uint16, uids, weights []uint16, versionKey uint64) error {
	who, err := signerAddr(hotkey, callSetWeights)
	if err != nil {
		return err
	}
	return c.setWeightsAs(who, netuid, uids, weights, versionKey)
}

// BurnedRegister registers hotkey on netuid for coldkey.
func (c *Chain) BurnedRegister(ctx context.Context, coldkey fractal.Signer, netuid uint16, hotkey string) error {
	who, err := signerAddr(coldkey, callBurnedRegister)
	if err != nil {
		return err
	}
	_, err = c.registerAs(who, netuid, hotkey)
	return err
}

// CreateSubnet creates a subnet owned by owner.
func (c *Chain) CreateSubnet(ctx context.Context, owner fractal.Signer) (uint16, error) {
	who, err := signerAddr(owner, callCreateSubnet)
	if err != nil {
		return 0, err
	}
	return c.createSubnetAs(who)
}

// Subnets lists the subnets in netuid order.
func (c *Chain) Subnets(ctx context.Context) ([]SubnetInfo, error) {
	var out []SubnetInfo
	err := c.view(func(st *state) error {
		for _, sn := range sortedSubnets(st) {
			out = append(out, SubnetInfo{NetUID: sn.NetUID, Owner: sn.Owner, Neurons: len(sn.Neurons),
				CreatedAt: sn.CreatedAt, LastEpoch: sn.LastEpoch, Params: sn.Params})
		}
		return nil
	})
	return out, err
}

// AddStake adds stake to hotkey; sudo must be the chain's sudo key.
func (c *Chain) AddStake(ctx context.Context, sudo fractal.Signer, netuid uint16, hotkey string, rao uint64) error {
	who, err := signerAddr(sudo, callAddStake)
	if err != nil {
		return err
	}
	return c.addStakeAs(who, netuid, hotkey, rao)
}

// SetSubnetParams replaces netuid's parameters; sudo must be the sudo key.
func (c *Chain) SetSubnetParams(ctx context.Context, sudo fractal.Signer, netuid uint16, p SubnetParams) error {
	who, err := signerAddr(sudo, callSetParams)
	if err != nil {
		return err
	}
	return c.setParamsAs(who, netuid, p)
}

// AdvanceBlocks produces n blocks; sudo must be the sudo key.
func (c *Chain) AdvanceBlocks(ctx context.Context, sudo fractal.Signer, n int) (uint64, error) {
	who, err := signerAddr(sudo, callAdvance)
	if err != nil {
		return 0, err
	}
	if err := c.checkSudo(who, callAdvance); err != nil {
		return 0, err
	}
	return c.Advance(n)
}

// The *As methods act for an already authenticated caller; the Server calls
// them after verifying the request's signature.

func (c *Chain) serveAxonAs(hotkey string, netuid uint16, axon fractal.Axon) error {
	return c.update(func(st *state) error { return st.serveAxon(hotkey, netuid, axon) })
}

func (c *Chain) setWeightsAs(hotkey string, netuid uint16, uids, ws []uint16, versionKey uint64) error {
	return c.update(func(st *state) error { return st.setWeights(hotkey, netuid, uids, ws, versionKey) })
}

func (c *Chain) registerAs(coldkey string, netuid uint16, hotkey string) (uint16, error) {
	var uid uint16
	err := c.update(func(st *state) error {
		var err error
		uid, err = st.burnedRegister(coldkey, netuid, hotkey)
		return err
	})
	if err == nil {
		c.Logger.Info("registered", logNetUID, netuid, logUID, uid, logHotkey, hotkey)
	}
	return uid, err
}

func (c *Chain) createSubnetAs(owner string) (uint16, error) {
	var id uint16
	err := c.update(func(st *state) error {
		var err error
		id, err = st.createSubnet(owner, c.Config.Subnet)
		return err
	})
	if err == nil {
		c.Logger.Info("subnet created", logNetUID, id, logOwner, owner)
	}
	return id, err
}

func (c *Chain) addStakeAs(caller string, netuid uint16, hotkey string, rao uint64) error {
	if err := c.checkSudo(caller, "add_stake"); err != nil {
		return err
	}
	return c.update(func(st *state) error { return st.addStake(netuid, hotkey, rao) })
}

func (c *Chain) setParamsAs(caller string, netuid uint16, p SubnetParams) error {
	if err := c.checkSudo(caller, "set_subnet_params"); err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return fmt.Errorf("set_subnet_params: %w", err)
	}
	return c.update(func(st *state) error {
		sn, err := st.subnet(netuid)
		if err != nil {
			return err
		}
		if int(p.MaxUIDs) < len(sn.Neurons) {
			return fmt.Errorf("set_subnet_params: %w", fractal.Errorf("max_uids", "%d is below the %d neurons already registered", p.MaxUIDs, len(sn.Neurons)))
		}
		sn.Params = p
		st.recomputePermits(sn)
		return nil
	})
}

func (c *Chain) checkSudo(caller, call string) error {
	if caller != c.Config.Sudo {
		return fmt.Errorf("%s: %s is not the devchain's sudo key %s: %w", call, caller, c.Config.Sudo, fractal.ErrForbidden)
	}
	return nil
}

// signerAddr returns the address of key, refusing a missing key.
func signerAddr(key fractal.Signer, call string) (string, error) {
	if key == nil || reflect.ValueOf(key).IsZero() {
		return "", fmt.Errorf("%s: no signing key given: %w", call, fractal.ErrInvalid)
	}
	return key.SS58(), nil
}
