package localgrid_test

import (
	"log/slog"
	"testing"

	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/localgrid"
	"github.com/fractal-grid/fractal/miner"
	"github.com/fractal-grid/fractal/refengine"
)

// A dev subnet's builder is idempotent: registering a hotkey again and
// staking the validator again change nothing, and a miner whose hotkey its
// operator registered keeps that operator's coldkey.
func TestSubnetIsIdempotent(t *testing.T) {
	ctx := t.Context()
	s, chain, err := localgrid.OpenDevSubnet(ctx, testenv.Key(t, "//Alice//validator"), testenv.Logger(t, slog.LevelWarn))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cold, hot := testenv.Key(t, "//Alice//operator"), testenv.Key(t, "//Alice//miner0")
	for range 2 {
		if err := s.Register(ctx, cold, hot); err != nil {
			t.Fatal(err)
		}
		if err := s.Register(ctx, s.Sudo, s.Validator); err != nil {
			t.Fatal(err)
		}
		if err := s.StakeValidator(ctx); err != nil {
			t.Fatal(err)
		}
	}
	m, err := s.AddMiner(ctx, hot, refengine.New(), func(c *miner.Config) { c.QueueLimit = 32 })
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Config.QueueLimit; got != 32 {
		t.Errorf("got queue limit %d, want 32", got)
	}
	if got := s.Miners(); len(got) != 1 || got[0] != m {
		t.Errorf("got miners %v, want the one added", got)
	}
	mg, err := chain.Metagraph(ctx, localgrid.DevNetUID)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(mg.Neurons); got != 2 {
		t.Errorf("got %d neurons, want 2", got)
	}
	if n, _ := mg.ByHotkey(s.Validator.SS58()); n.Stake != localgrid.DevStake {
		t.Errorf("got validator stake %d, want %d", n.Stake, uint64(localgrid.DevStake))
	}
	if n, _ := mg.ByHotkey(hot.SS58()); n.Coldkey != cold.SS58() {
		t.Errorf("got miner coldkey %s, want the operator's %s", n.Coldkey, cold.SS58())
	}
}
