package miner

import (
	"context"
	"errors"
	"math"
	"testing"
)

// wantQueued checks the scheduler's tally of queued work.
func wantQueued(t *testing.T, s *scheduler, total float64, byCaller map[string]float64) {
	t.Helper()
	gotTotal, got := s.queued()
	if math.Abs(gotTotal-total) > 1e-9 || len(got) != len(byCaller) {
		t.Fatalf("queued = %g %v, want %g %v", gotTotal, got, total, byCaller)
	}
	for k, v := range byCaller {
		if math.Abs(got[k]-v) > 1e-9 {
			t.Fatalf("queued[%s] = %g, want %g (all: %v)", k, got[k], v, got)
		}
	}
}

func TestSchedulerQueuedWorkPerCaller(t *testing.T) {
	s := newScheduler(1, 4, 1)
	admit := func(caller string, cost float64) *ticket {
		t.Helper()
		tk, _, _, err := s.admit(caller, cost)
		if err != nil {
			t.Fatalf("admit(%s, %g): %v", caller, cost, err)
		}
		return tk
	}
	running := admit("gw", 2)    // runs now
	queued := admit("gw", 1)     // waits
	other := admit("val", 4)     // waits
	leaving := admit("val", 0.5) // waits, then its caller goes away
	wantQueued(t, s, 7.5, map[string]float64{"gw": 3, "val": 4.5})

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.wait(ctx, leaving); !errors.Is(err, context.Canceled) {
		t.Fatalf("wait on a cancelled context = %v, want context.Canceled", err)
	}
	wantQueued(t, s, 7, map[string]float64{"gw": 3, "val": 4})

	s.done(running, 0) // hands its slot to queued
	if err := s.wait(context.Background(), queued); err != nil {
		t.Fatalf("wait: %v", err)
	}
	wantQueued(t, s, 5, map[string]float64{"gw": 1, "val": 4})

	s.done(queued, 0)
	s.done(queued, 0) // a second done takes nothing off again
	s.done(other, 0)
	wantQueued(t, s, 0, map[string]float64{})
}

func TestSchedulerDoneBeforeGrantedKeepsTheSlot(t *testing.T) {
	s := newScheduler(1, 4, 1)
	running, _, _, _ := s.admit("a", 1)
	next, _, _, _ := s.admit("b", 1)
	gone, _, _, _ := s.admit("c", 1)
	s.done(gone, 0) // its caller went away before it was granted
	select {
	case <-next.ready:
		t.Fatal("b was granted a slot while a still runs, want it to wait")
	default:
	}
	wantQueued(t, s, 2, map[string]float64{"a": 1, "b": 1})
	s.done(running, 0)
	if err := s.wait(context.Background(), next); err != nil {
		t.Fatalf("wait: %v", err)
	}
	if depth, n, _ := s.stats(); depth != 0 || n != 1 {
		t.Errorf("depth, running = %d, %d, want 0, 1", depth, n)
	}
}
