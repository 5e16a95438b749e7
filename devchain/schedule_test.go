package devchain_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/devchain"
	"github.com/fractal-grid/fractal/tlock"
)

// scheduleCases are tempos and reveal periods; every place in an epoch is
// tried for each.
var scheduleCases = []struct{ tempo, period uint16 }{{1, 1}, {3, 1}, {4, 2}, {5, 3}}

// TestScheduleMatchesDynamicTempo checks the devchain's epoch schedule (a
// stored epoch counter and last epoch block, as on runtimes since spec 404)
// against tlock.DynamicSchedule, the model the subtensor client computes
// reveal rounds with on such runtimes. With InclusionEpoch, for commits at
// every place in an epoch, the block the devchain reveals a timelocked
// commit in is the first reveal block the model gives from the policy's
// counters. Without it a commit made just before an epoch (the next block
// runs one) counts in the old epoch and reveals a tempo earlier than on a
// runtime; everywhere else the two agree.
func TestScheduleMatchesDynamicTempo(t *testing.T) {
	for _, inclusion := range []bool{true, false} {
		for _, tc := range scheduleCases {
			for offset := range int(tc.tempo) + 1 {
				name := fmt.Sprintf("inclusion=%t/tempo%d/period%d/offset%d", inclusion, tc.tempo, tc.period, offset)
				t.Run(name, func(t *testing.T) { testSchedule(t, inclusion, tc.tempo, tc.period, offset) })
			}
		}
	}
}

func testSchedule(t *testing.T, inclusion bool, tempo, period uint16, offset int) {
	c := mustOpen(t, func(cfg *devchain.Config) { cfg.InclusionEpoch = inclusion })
	f := newFixtureOn(t, c, 2, func(p *devchain.SubnetParams) {
		p.Tempo, p.RevealPeriodEpochs, p.CommitReveal = tempo, uint64(period), true
	})
	f.stake(t, 0, 1)
	if offset > 0 {
		f.advance(t, offset)
	}
	ct, p := sealWeights(t, f.c, f.netuid, f.keys[0], []uint16{1}, []uint16{65535})
	ds := tlock.DynamicSchedule{CurrentBlock: p.Block, Tempo: p.Tempo, LastEpochBlock: p.NextEpochBlock - uint64(p.Tempo),
		SubnetEpochIndex: p.Epoch, RevealPeriodEpochs: p.RevealPeriodEpochs, BlockTime: time.Second}
	model, err := ds.FirstRevealBlock()
	if err != nil {
		t.Fatal(err)
	}
	want := model
	if boundary := p.Block+1 == p.NextEpochBlock; boundary && !inclusion {
		want -= uint64(tempo)
	}
	if p.RevealRound != want {
		t.Errorf("reveal round (a block on the devchain): got %d, want %d (the model gives %d from %+v)", p.RevealRound, want, model, ds)
	}
	if err := f.c.CommitTimelockedWeights(t.Context(), f.keys[0], f.netuid, ct, p.RevealRound, p.CommitRevealVersion); err != nil {
		t.Fatal(err)
	}
	for b := p.Block + 1; b <= want+uint64(tempo); b++ {
		f.advance(t, 1)
		w, err := f.c.SubnetWeights(t.Context(), f.netuid)
		if err != nil {
			t.Fatal(err)
		}
		if len(w.Rows) > 0 {
			if b != want {
				t.Errorf("revealed in block %d, want %d (committed at block %d, epoch %d)", b, want, p.Block, p.Epoch)
			}
			return
		}
	}
	t.Errorf("not revealed by block %d, want block %d", want+uint64(tempo), want)
}

// TestHashRevealAtInclusion commits a hash just before an epoch on a chain
// with InclusionEpoch: the commit counts in the new epoch, its reveal is
// too early one epoch later and lands the epoch after, as on a runtime.
func TestHashRevealAtInclusion(t *testing.T) {
	c := mustOpen(t, func(cfg *devchain.Config) { cfg.InclusionEpoch = true })
	f := newFixtureOn(t, c, 2, func(p *devchain.SubnetParams) {
		p.Tempo, p.RevealPeriodEpochs, p.CommitReveal = 4, 1, true
	})
	f.stake(t, 0, 1)
	ctx := t.Context()
	p, err := f.c.WeightsPolicy(ctx, f.netuid)
	if err != nil {
		t.Fatal(err)
	}
	f.advance(t, int(p.NextEpochBlock-p.Block-1)) // the next block runs an epoch
	uids, ws, salt := []uint16{1}, []uint16{65535}, []uint16{7, 8}
	pub := f.keys[0].PublicKey()
	if err := f.c.CommitWeights(ctx, f.keys[0], f.netuid, fractal.CommitHash(pub, f.netuid, uids, ws, salt, 0)); err != nil {
		t.Fatal(err)
	}
	w, err := f.c.SubnetWeights(ctx, f.netuid)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Pending) != 1 || w.Pending[0].Epoch != w.Epoch+1 || w.Pending[0].RevealEpoch != w.Epoch+2 {
		t.Fatalf("pending commit made before epoch %d ran: got %+v, want epoch %d revealed in %d", w.Epoch+1, w.Pending, w.Epoch+1, w.Epoch+2)
	}
	// The commit landed in the block that ran epoch E+1. A block later a
	// reveal lands in that epoch still; three more and it lands in the block
	// that runs epoch E+2, its reveal epoch.
	f.advance(t, 1)
	err = f.c.RevealWeights(ctx, f.keys[0], f.netuid, uids, ws, salt, 0)
	if fractal.ChainErrorName(err) != fractal.ErrNameRevealTooEarly {
		t.Fatalf("reveal in the commit's epoch: got %v, want %s", err, fractal.ErrNameRevealTooEarly)
	}
	f.advance(t, 3)
	if err := f.c.RevealWeights(ctx, f.keys[0], f.netuid, uids, ws, salt, 0); err != nil {
		t.Fatalf("reveal in the reveal epoch: %v", err)
	}
}
