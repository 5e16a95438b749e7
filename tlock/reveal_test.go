package tlock

import (
	"errors"
	"testing"
	"time"
)

// genesisPlus is quicknet genesis plus d.
func genesisPlus(d time.Duration) time.Time {
	return time.Unix(QuicknetGenesis, 0).Add(d)
}

func TestScheduleRevealRound(t *testing.T) {
	tests := []struct {
		name        string
		s           Schedule
		now         time.Time
		wantBlock   uint64
		wantRound   uint64
		wantErrorIs error
	}{
		{
			// epoch (1000+2)/361 = 2; reveal epoch 3 starts at 3·361-2 = 1081;
			// target 1084 is 84 blocks = 1008 s away; floor(4008/3) = 1336.
			name:      "mainnet-like",
			s:         Schedule{CurrentBlock: 1000, Tempo: 360, NetUID: 1, RevealPeriodEpochs: 1, BlockTime: 12 * time.Second},
			now:       genesisPlus(3000 * time.Second),
			wantBlock: 1081, wantRound: 1336,
		},
		{
			// Block 10 begins epoch 1 of netuid 0 at tempo 10 ((10+1) mod 11 = 0):
			// two epochs later is block 32; target 35, 25 blocks of 2 s.
			name:      "commit in an epoch's first block",
			s:         Schedule{CurrentBlock: 10, Tempo: 10, NetUID: 0, RevealPeriodEpochs: 2, BlockTime: 2 * time.Second},
			now:       genesisPlus(299 * time.Second),
			wantBlock: 32, wantRound: 116, // floor((299+50)/3)
		},
		{
			// The last block of an epoch: the next one starts at block 21.
			name:      "commit in an epoch's last block",
			s:         Schedule{CurrentBlock: 20, Tempo: 10, NetUID: 0, RevealPeriodEpochs: 1, BlockTime: 12 * time.Second},
			now:       genesisPlus(0),
			wantBlock: 21, wantRound: 16, // 4 blocks, 48 s
		},
		{
			// Period 0 reveals in the current epoch, already begun: the target
			// lies in the past and the round is the one due now, rounded down.
			name:      "reveal period 0",
			s:         Schedule{CurrentBlock: 15, Tempo: 10, NetUID: 0, RevealPeriodEpochs: 0, BlockTime: 12 * time.Second},
			now:       genesisPlus(301 * time.Second),
			wantBlock: 10, wantRound: 100,
		},
		{
			name:      "before genesis",
			s:         Schedule{CurrentBlock: 0, Tempo: 99, NetUID: 3, RevealPeriodEpochs: 1, BlockTime: time.Second},
			now:       genesisPlus(-time.Hour),
			wantBlock: 96, wantRound: 1,
		},
		{
			name:        "tempo 0",
			s:           Schedule{CurrentBlock: 5, Tempo: 0, RevealPeriodEpochs: 1, BlockTime: time.Second},
			wantErrorIs: ErrSchedule,
		},
		{
			name:        "no block time",
			s:           Schedule{CurrentBlock: 5, Tempo: 10, RevealPeriodEpochs: 1},
			wantErrorIs: ErrSchedule,
		},
		{
			name:        "reveal centuries away",
			s:           Schedule{CurrentBlock: 5, Tempo: 65535, RevealPeriodEpochs: 1 << 20, BlockTime: 12 * time.Second},
			wantErrorIs: ErrSchedule,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			round, err := tt.s.RevealRound(tt.now)
			if tt.wantErrorIs != nil {
				if !errors.Is(err, tt.wantErrorIs) {
					t.Fatalf("got %d, %v; want error %v", round, err, tt.wantErrorIs)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.s.FirstRevealBlock(); got != tt.wantBlock {
				t.Errorf("first reveal block: got %d, want %d", got, tt.wantBlock)
			}
			if round != tt.wantRound {
				t.Errorf("reveal round: got %d, want %d", round, tt.wantRound)
			}
		})
	}
}

// TestRevealRoundIsPublishedInTime checks the property the offset exists
// for: the round's beacon is due no later than SecurityBlockOffset blocks
// after the reveal block, and the next round is due after that.
func TestRevealRoundIsPublishedInTime(t *testing.T) {
	s := Schedule{CurrentBlock: 4_000_000, Tempo: 360, NetUID: 42, RevealPeriodEpochs: 3, BlockTime: 12 * time.Second}
	for _, now := range []time.Time{genesisPlus(time.Hour), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)} {
		round, err := s.RevealRound(now)
		if err != nil {
			t.Fatal(err)
		}
		blocks := s.FirstRevealBlock() + SecurityBlockOffset - s.CurrentBlock
		target := now.Add(time.Duration(blocks) * s.BlockTime)
		if due := TimeOf(round); due.After(target) {
			t.Errorf("round %d is due %v, after the target %v", round, due, target)
		}
		if next := TimeOf(round + 2); !next.After(target) {
			t.Errorf("round %d+2 is due %v, not after the target %v: the round is older than it need be", round, next, target)
		}
	}
}

func TestDynamicScheduleFirstRevealBlock(t *testing.T) {
	tests := []struct {
		name string
		s    DynamicSchedule
		want uint64
	}{
		{
			// An epoch ran at block 10; the next runs tempo blocks later.
			name: "tempo after the last epoch",
			s:    DynamicSchedule{CurrentBlock: 10, Tempo: 50, LastEpochBlock: 10, RevealPeriodEpochs: 1},
			want: 60,
		},
		{
			name: "a requested epoch comes first",
			s:    DynamicSchedule{CurrentBlock: 91, Tempo: 20, LastEpochBlock: 80, PendingEpochAt: 95, RevealPeriodEpochs: 1},
			want: 95,
		},
		{
			name: "two epochs",
			s:    DynamicSchedule{CurrentBlock: 105, Tempo: 10, LastEpochBlock: 100, SubnetEpochIndex: 5, BlocksSinceLastStep: 5, RevealPeriodEpochs: 2},
			want: 120,
		},
		{
			// The commit lands in block 110, which starts an epoch: it belongs
			// to that epoch, so one epoch later is block 120.
			name: "commit lands in an epoch's first block",
			s:    DynamicSchedule{CurrentBlock: 109, Tempo: 10, LastEpochBlock: 100, SubnetEpochIndex: 5, BlocksSinceLastStep: 9, RevealPeriodEpochs: 1},
			want: 120,
		},
		{
			// More than MaxTempo blocks without a step force an epoch in the
			// commit's block, so the commit belongs to it and the reveal
			// comes a tempo later.
			name: "overdue epoch",
			s:    DynamicSchedule{CurrentBlock: 200, Tempo: 1000, LastEpochBlock: 190, BlocksSinceLastStep: MaxTempo + 1, RevealPeriodEpochs: 1},
			want: 1201,
		},
		{
			name: "reveal period 0 is the commit's own block",
			s:    DynamicSchedule{CurrentBlock: 105, Tempo: 10, LastEpochBlock: 100, RevealPeriodEpochs: 0},
			want: 106,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.s.BlockTime = 12 * time.Second
			got, err := tt.s.FirstRevealBlock()
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("first reveal block: got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestDynamicScheduleRevealRound(t *testing.T) {
	s := DynamicSchedule{CurrentBlock: 10, Tempo: 50, LastEpochBlock: 10, RevealPeriodEpochs: 1, BlockTime: 12 * time.Second}
	// Reveal block 60, target 63: 53 blocks of 12 s = 636 s.
	got, err := s.RevealRound(genesisPlus(30 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if want := uint64((30 + 636) / 3); got != want {
		t.Fatalf("reveal round: got %d, want %d", got, want)
	}
	s.Tempo = 0
	if _, err := s.RevealRound(genesisPlus(0)); !errors.Is(err, ErrSchedule) {
		t.Fatalf("tempo 0: got %v, want %v", err, ErrSchedule)
	}
}
