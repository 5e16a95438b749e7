package devchain

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/tlock"
)

// snapshotVersion is bumped when the snapshot layout changes incompatibly.
const snapshotVersion = 1

// snapshotFile is the state file inside Config.DataDir.
const snapshotFile = "devchain.json"

// state is the whole chain: everything persisted in one snapshot.
type state struct {
	Version int    `json:"version"`
	Block   uint64 `json:"block"`
	// Owners maps a hotkey to the coldkey that first registered it.
	Owners  map[string]string  `json:"owners"`
	Subnets map[uint16]*subnet `json:"subnets"`
	// BeaconSeed (hex) derives the stand-in beacon that signs round r in
	// block r and so reveals timelocked commits.
	BeaconSeed string `json:"beacon_seed,omitempty"`
	// RootStake maps a hotkey to the TAO (rao) staked to it on the root
	// network; it counts on every subnet at TaoWeight.
	RootStake map[string]uint64 `json:"root_stake,omitempty"`
	// TaoWeight is the part of root stake that counts as subnet stake, a
	// fraction of u64::MAX as the runtime stores it.
	TaoWeight uint64 `json:"tao_weight"`

	beacon *tlock.Beacon
	// inclusion is Config.InclusionEpoch.
	inclusion bool
}

type subnet struct {
	NetUID    uint16       `json:"netuid"`
	Owner     string       `json:"owner"`
	Params    SubnetParams `json:"params"`
	CreatedAt uint64       `json:"created_at"`
	LastEpoch uint64       `json:"last_epoch"`
	Neurons   []*neuron    `json:"neurons"` // index is the uid
	// EpochIndex counts the epochs run; commits reveal by it.
	EpochIndex uint64    `json:"epoch_index"`
	Commits    []*commit `json:"commits,omitempty"` // unrevealed, in commit order

	uids map[string]uint16 // hotkey → uid, rebuilt on load
}

type neuron struct {
	Hotkey  string `json:"hotkey"`
	Coldkey string `json:"coldkey"`
	// Stake is the hotkey's alpha on the subnet; stakeOf adds its root
	// stake.
	Stake        uint64       `json:"stake"`
	Permit       bool         `json:"permit"`
	RegisteredAt uint64       `json:"registered_at"`
	LastUpdate   uint64       `json:"last_update"`
	WeightsSet   bool         `json:"weights_set"`
	WeightsAt    uint64       `json:"weights_at"`
	Incentive    uint16       `json:"incentive"`
	Emission     uint64       `json:"emission"`
	Axon         fractal.Axon `json:"axon"`
	Weights      []weight     `json:"weights,omitempty"` // sorted by uid, no zeros
	Committed    bool         `json:"committed,omitempty"`
	CommittedAt  uint64       `json:"committed_at,omitempty"` // block of the last commit
}

type weight struct {
	UID   uint16 `json:"uid"`
	Value uint16 `json:"w"`
}

func newState() *state {
	st := &state{Version: snapshotVersion, Owners: map[string]string{}, Subnets: map[uint16]*subnet{}}
	st.index()
	return st
}

// index rebuilds the in-memory lookups after a load.
func (s *state) index() {
	if s.Owners == nil {
		s.Owners = map[string]string{}
	}
	if s.Subnets == nil {
		s.Subnets = map[uint16]*subnet{}
	}
	if s.RootStake == nil {
		s.RootStake = map[string]uint64{}
	}
	seed, err := hex.DecodeString(s.BeaconSeed)
	if err != nil || len(seed) != 32 {
		seed = make([]byte, 32)
		rand.Read(seed)
		s.BeaconSeed = hex.EncodeToString(seed)
	}
	s.beacon = tlock.NewBeacon([32]byte(seed))
	for _, sn := range s.Subnets {
		sn.uids = make(map[string]uint16, len(sn.Neurons))
		for uid, n := range sn.Neurons {
			sn.uids[n.Hotkey] = uint16(uid)
		}
	}
}

// loadState reads the snapshot in dir; a missing file yields nil, nil.
func loadState(dir string) (*state, error) {
	b, err := os.ReadFile(filepath.Join(dir, snapshotFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read devchain state: %w", err)
	}
	st := newState()
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("devchain state %s is corrupt (move it away to start a fresh chain): %w",
			filepath.Join(dir, snapshotFile), err)
	}
	if st.Version != snapshotVersion {
		return nil, fmt.Errorf("devchain state has version %d, this build reads %d", st.Version, snapshotVersion)
	}
	st.index()
	return st, nil
}

// saveState writes the snapshot atomically: a temporary file, fsync, rename.
func saveState(dir string, st *state) error {
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode devchain state: %w", err)
	}
	f, err := os.CreateTemp(dir, snapshotFile+".tmp*")
	if err != nil {
		return fmt.Errorf("save devchain state: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, snapshotFile))
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("save devchain state: %w", err)
	}
	return nil
}
