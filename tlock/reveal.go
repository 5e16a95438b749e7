package tlock

import (
	"errors"
	"fmt"
	"time"
)

// Validators commit weights timelocked to a drand round; the chain reveals
// the commits of epoch e in the first block of epoch e + RevealPeriodEpochs,
// decrypting each with the pulse of its round from the Drand pallet. The
// round must therefore be one whose pulse is on chain by then: the round due
// a few blocks after the reveal block, rounded down. bittensor-drand (the
// SDK's implementation) targets the reveal block plus SecurityBlockOffset
// and takes floor((target time - genesis) / period), at least 1.

// SecurityBlockOffset is how many blocks past the reveal block the target
// time lies, so that the pulse has been ingested when the chain reveals.
const SecurityBlockOffset = 3

// MaxTempo bounds the tempo a subnet owner may set; the dynamic epoch
// schedule also runs an epoch when more blocks than this have passed.
const MaxTempo = 50400

// ErrSchedule: the epoch schedule cannot produce a reveal block.
var ErrSchedule = errors.New("invalid epoch schedule")

// Schedule is a subnet's legacy epoch schedule (runtimes before dynamic
// tempo): subnet netuid runs its epoch in the blocks b with
// (b + netuid + 1) mod (tempo + 1) = 0, and epoch indices are
// (b + netuid + 1) / (tempo + 1).
type Schedule struct {
	CurrentBlock       uint64        // the chain head the commit is made against
	Tempo              uint16        // blocks per epoch, minus one
	NetUID             uint16        // the subnet
	RevealPeriodEpochs uint64        // storage RevealPeriodEpochs of the subnet
	BlockTime          time.Duration // 12 s on mainnet
}

// Validate reports a schedule that cannot reveal anything.
func (s Schedule) Validate() error {
	switch {
	case s.Tempo == 0:
		return fmt.Errorf("tempo 0 runs no epochs: %w", ErrSchedule)
	case s.BlockTime <= 0:
		return fmt.Errorf("block time %v: %w", s.BlockTime, ErrSchedule)
	}
	return nil
}

// FirstRevealBlock is the first block of the reveal epoch of a commit made
// at CurrentBlock.
func (s Schedule) FirstRevealBlock() uint64 {
	period := uint64(s.Tempo) + 1
	offset := uint64(s.NetUID) + 1
	epoch := (s.CurrentBlock + offset) / period
	return (epoch+s.RevealPeriodEpochs)*period - offset
}

// RevealRound is the drand round to timelock a commit made now, at
// CurrentBlock, so the chain can decrypt it when it reveals.
func (s Schedule) RevealRound(now time.Time) (uint64, error) {
	if err := s.Validate(); err != nil {
		return 0, err
	}
	return revealRound(s.CurrentBlock, s.FirstRevealBlock(), s.BlockTime, now)
}

// DynamicSchedule is a subnet's epoch schedule on runtimes with dynamic
// tempo (spec 404 and later), where the epoch index is a stored counter and
// an epoch runs tempo blocks after the last one, or earlier when one was
// requested. The fields are the subnet's storage at CurrentBlock.
type DynamicSchedule struct {
	CurrentBlock        uint64
	Tempo               uint16
	LastEpochBlock      uint64 // LastEpochBlock
	PendingEpochAt      uint64 // a requested epoch block, 0 for none
	SubnetEpochIndex    uint64 // SubnetEpochIndex
	BlocksSinceLastStep uint64 // BlocksSinceLastStep
	RevealPeriodEpochs  uint64
	BlockTime           time.Duration
}

// Validate reports a schedule that cannot reveal anything.
func (s DynamicSchedule) Validate() error {
	return Schedule{Tempo: s.Tempo, BlockTime: s.BlockTime}.Validate()
}

// epochDue reports whether the subnet's epoch runs in block b.
func (s *DynamicSchedule) epochDue(b uint64) bool {
	switch {
	case s.PendingEpochAt > 0 && b >= s.PendingEpochAt:
		return true
	case s.BlocksSinceLastStep > MaxTempo:
		return true
	}
	return b >= s.LastEpochBlock && b-s.LastEpochBlock >= uint64(s.Tempo)
}

// epochSeenBy is the epoch index a reveal in block b works with: reveals run
// before the block's coinbase, but count an epoch due in b as begun.
func (s *DynamicSchedule) epochSeenBy(b uint64) uint64 {
	if s.epochDue(b) {
		return s.SubnetEpochIndex + 1
	}
	return s.SubnetEpochIndex
}

// step applies block b's coinbase to the epoch counters.
func (s *DynamicSchedule) step(b uint64) {
	s.BlocksSinceLastStep++
	if s.epochDue(b) {
		s.LastEpochBlock = b
		s.PendingEpochAt = 0
		s.SubnetEpochIndex++
		s.BlocksSinceLastStep = 0
	}
}

// FirstRevealBlock simulates the schedule from the block that includes the
// commit (the one after CurrentBlock) to the first block whose reveal sees
// the commit's epoch plus RevealPeriodEpochs.
func (s DynamicSchedule) FirstRevealBlock() (uint64, error) {
	if err := s.Validate(); err != nil {
		return 0, err
	}
	sim := s
	commit := s.CurrentBlock + 1
	target := sim.epochSeenBy(commit) + s.RevealPeriodEpochs
	limit := commit + (s.RevealPeriodEpochs+1)*MaxTempo
	for b := commit; b <= limit; b++ {
		if sim.epochSeenBy(b) == target {
			return b, nil
		}
		sim.step(b)
	}
	return 0, fmt.Errorf("no reveal block within %d blocks: %w", limit-commit, ErrSchedule)
}

// RevealRound is the drand round to timelock a commit made now, at
// CurrentBlock, so the chain can decrypt it when it reveals.
func (s DynamicSchedule) RevealRound(now time.Time) (uint64, error) {
	reveal, err := s.FirstRevealBlock()
	if err != nil {
		return 0, err
	}
	return revealRound(s.CurrentBlock, reveal, s.BlockTime, now)
}

// revealRound maps the reveal block to the latest round due by the time the
// chain is SecurityBlockOffset blocks past it.
func revealRound(current, reveal uint64, blockTime time.Duration, now time.Time) (uint64, error) {
	target := reveal + SecurityBlockOffset
	var blocks uint64
	if target > current {
		blocks = target - current
	}
	if blocks > uint64(100*365*24*time.Hour/blockTime) {
		return 0, fmt.Errorf("reveal %d blocks away: %w", blocks, ErrSchedule)
	}
	at := now.Add(time.Duration(blocks) * blockTime)
	since := at.Sub(time.Unix(QuicknetGenesis, 0))
	if since < QuicknetPeriod {
		return 1, nil
	}
	return uint64(since / QuicknetPeriod), nil
}
