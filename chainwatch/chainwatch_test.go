package chainwatch_test

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/chainwatch"
)

// flaky is a chain reader whose first watch fails and whose watches end
// after two blocks, as when a node restarts.
type flaky struct {
	fractal.ChainReader
	calls atomic.Int32
	next  atomic.Uint64
}

func (f *flaky) WatchBlocks(ctx context.Context) (<-chan uint64, error) {
	if f.calls.Add(1) == 1 {
		return nil, errors.New("connection refused")
	}
	ch := make(chan uint64)
	go func() {
		defer close(ch)
		for range 2 {
			select {
			case ch <- f.next.Add(1):
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch, nil
}

func TestFollowSurvivesLossAndEnds(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f := &flaky{}
	var seen []uint64
	done := make(chan struct{})
	go func() {
		defer close(done)
		chainwatch.Follow(ctx, f, slog.New(slog.DiscardHandler), "chain lost", func(b uint64) {
			seen = append(seen, b)
			if len(seen) == 5 {
				cancel()
			}
		})
	}()
	<-done
	if len(seen) < 5 || seen[0] != 1 || seen[4] != 5 {
		t.Errorf("blocks %v, want 1..5 across a failed watch and restarted watches", seen)
	}
	if f.calls.Load() < 4 {
		t.Errorf("%d watches, want the failed one and one per ended watch", f.calls.Load())
	}
}
