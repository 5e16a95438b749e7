package storetest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
)

// SampleLog runs the fractal.SampleLog contract. newLog returns an empty
// sample log for each subtest.
func SampleLog(t *testing.T, newLog func(t *testing.T) fractal.SampleLog) {
	t.Run("RoundTrip", func(t *testing.T) {
		l, ctx := newLog(t), Context(t, 30*time.Second)
		want := testSample("r1")
		must(t, l.PublishSample(ctx, want))
		got, err := l.NextSample(ctx, "v1")
		must(t, err)
		if a, b := jsonOf(t, got), jsonOf(t, want); a != b {
			t.Errorf("got %s, want %s", a, b)
		}
	})
	t.Run("EachConsumerTakesEverySampleOnce", func(t *testing.T) {
		l, ctx := newLog(t), Context(t, 30*time.Second)
		for i := range 3 {
			must(t, l.PublishSample(ctx, testSample(fmt.Sprint("r", i))))
		}
		for _, consumer := range []string{"validator-a", "validator-b"} {
			for i := range 3 {
				s, err := l.NextSample(ctx, consumer)
				must(t, err)
				if want := fmt.Sprint("r", i); s.Claim.RequestID != want {
					t.Errorf("%s took %s, want %s", consumer, s.Claim.RequestID, want)
				}
			}
			wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			s, err := l.NextSample(wctx, consumer)
			cancel()
			if err == nil {
				t.Errorf("%s took %s again, want nothing more", consumer, s.Claim.RequestID)
			}
		}
	})
	t.Run("LaterSamplesReachAWaitingConsumer", func(t *testing.T) {
		l, ctx := newLog(t), Context(t, 30*time.Second)
		got := make(chan *fractal.Sample, 1)
		errs := make(chan error, 1)
		go func() {
			s, err := l.NextSample(ctx, "waiting")
			got <- s
			errs <- err
		}()
		must(t, l.PublishSample(ctx, testSample("late")))
		must(t, <-errs)
		if s := <-got; s.Claim.RequestID != "late" {
			t.Errorf("got %s, want late", s.Claim.RequestID)
		}
	})
	t.Run("Invalid", func(t *testing.T) {
		l, ctx := newLog(t), Context(t, 30*time.Second)
		noKey := testSample("r1")
		noKey.FramesKey = ""
		withFrames := testSample("r2")
		withFrames.Claim.Frames = fractal.NewFrames(1, 2, 2, 8)
		otherMiner := testSample("r3")
		otherMiner.Claim.Miner = "someone-else"
		for name, s := range map[string]*fractal.Sample{"no frames key": noKey, "frames inline": withFrames, "another miner": otherMiner} {
			if err := l.PublishSample(ctx, s); !errors.Is(err, fractal.ErrInvalid) {
				t.Errorf("%s: got %v, want ErrInvalid", name, err)
			}
		}
		if _, err := l.NextSample(ctx, "bad name."); !errors.Is(err, fractal.ErrInvalid) {
			t.Errorf("consumer name with a dot: got %v, want ErrInvalid", err)
		}
	})
	t.Run("CancelledWait", func(t *testing.T) {
		l := newLog(t)
		ctx, cancel := context.WithCancel(Context(t, 30*time.Second))
		cancel()
		if _, err := l.NextSample(ctx, "v1"); !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
	})
}

// testSample is a sample of job id as a gateway hands it over.
func testSample(id string) *fractal.Sample {
	hot := "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
	spec := fractal.Spec{Prompt: "a fox running through the snow", Seed: 7, Width: 64, Height: 64, Frames: 4, FPS: 8, Steps: 8}
	return &fractal.Sample{
		Miner: fractal.Neuron{UID: 3, Hotkey: hot, Coldkey: hot, Axon: fractal.Axon{IP: netip.MustParseAddr("203.0.113.7"), Port: 8091, Protocol: 4}},
		Claim: fractal.Claim{RequestID: id, Miner: hot, Spec: spec, Receipt: fractal.Receipt{RequestID: id, Miner: hot, SpecHash: spec.Hash()},
			Accepted: 20 * time.Millisecond, FirstProgress: 50 * time.Millisecond, Total: 2 * time.Second},
		FramesKey: "frames." + id + ".1",
		Load:      2,
		Finished:  time.Unix(1_700_000_000, 0).UTC(),
	}
}
