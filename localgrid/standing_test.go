package localgrid

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/jetstream"
	"github.com/fractal-grid/fractal/validator"
)

// The grid's validator publishes its standings to the shared bucket, where
// a gateway replica in another process would read them: every miner the
// grid challenged on opening is there, verified on the grid's profile.
func TestValidatorPublishesStandings(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DataDir, cfg.Addr, cfg.Miners = t.TempDir(), "127.0.0.1:0", 2
	cfg.BlockTime, cfg.Round = 200*time.Millisecond, time.Second
	cfg.Shapes = []validator.Shape{{Width: 64, Height: 64, Frames: 2, FPS: 8, Steps: 4}}
	g := New()
	g.Config, g.Logger = cfg, testenv.Logger(t, slog.LevelWarn) // gridtest imports this package
	ctx := context.Background()
	if err := g.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	kv, err := g.store.KV(ctx, jetstream.SharedKV, 0)
	if err != nil {
		t.Fatal(err)
	}
	src := &fractal.KVStandings{KV: kv, NetUID: cfg.NetUID}
	deadline := time.Now().Add(2*validator.StandingsEvery + 10*time.Second)
	for {
		st, err := src.Standings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		verified := 0
		for _, m := range g.Miners() {
			s, ok := st[m.Hotkey.SS58()]
			if ok && s.Verified(time.Now()) && len(s.Profiles) > 0 {
				verified++
			}
		}
		if verified == len(g.Miners()) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("published standings %+v: %d of %d miners verified, want all", st, verified, len(g.Miners()))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
