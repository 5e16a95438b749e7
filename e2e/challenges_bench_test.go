package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/validator"
)

// BenchmarkChallengeRound times one round that challenges two honest
// miners and verifies their answers, sent by the validator itself
// (direct) or through the store's queue and a gateway replica (queue):
// what the users' path costs a challenge.
func BenchmarkChallengeRound(b *testing.B) {
	for _, path := range []string{validator.ChallengeDirect, validator.ChallengeQueue} {
		b.Run(path, func(b *testing.B) {
			e := openEnv(b, testenv.Logger(b, slog.LevelWarn))
			for i := range 2 {
				if _, err := e.sub.AddMiner(context.Background(), testenv.Key(b, fmt.Sprintf("//Alice//miner%d", i)), refengine.New(), nil); err != nil {
					b.Fatal(err)
				}
			}
			if path == validator.ChallengeQueue {
				e.replica(b)
			}
			v := e.validator(b, path)
			ctx := context.Background()
			v.Round(ctx) // the metagraph, the connections
			for b.Loop() {
				if n := v.Round(ctx); n != 2 {
					b.Fatalf("round sent %d challenges, want 2", n)
				}
			}
			for _, s := range v.Stats() {
				if s.Failed != 0 {
					b.Fatalf("miner %s failed %d challenges (%s)", s.Hotkey, s.Failed, s.LastReason)
				}
			}
		})
	}
}
