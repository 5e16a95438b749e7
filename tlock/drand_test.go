package tlock

import (
	"encoding/hex"
	"testing"
	"time"
)

func TestRoundAtAndTimeOf(t *testing.T) {
	tests := []struct {
		name  string
		t     time.Time
		round uint64
	}{
		{"before genesis", genesisPlus(-time.Second), 0},
		{"genesis", genesisPlus(0), 1},
		{"just before round 2", genesisPlus(3*time.Second - time.Nanosecond), 1},
		{"round 2", genesisPlus(3 * time.Second), 2},
		{"round 1000", genesisPlus(999 * 3 * time.Second), 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RoundAt(tt.t); got != tt.round {
				t.Fatalf("RoundAt(%v): got %d, want %d", tt.t, got, tt.round)
			}
		})
	}
	for _, round := range []uint64{1, 2, 1000, 20_000_000} {
		if got := RoundAt(TimeOf(round)); got != round {
			t.Errorf("RoundAt(TimeOf(%d)): got %d, want %d", round, got, round)
		}
	}
	if got, want := TimeOf(1000), time.Unix(1692806364, 0); !got.Equal(want) {
		t.Errorf("TimeOf(1000): got %v, want %v", got, want)
	}
}

func TestRoundMessage(t *testing.T) {
	// sha256 of the round as u64 big-endian: 00 00 00 00 00 00 03 e8.
	got := RoundMessage(1000)
	if want := "f652498d092acd949bad74e40683bf3824fb817980504a0c7e6722cfc5a9c0a3"; hex.EncodeToString(got[:]) != want {
		t.Fatalf("RoundMessage(1000): got %x, want %s", got, want)
	}
}
