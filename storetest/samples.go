package storetest

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
)

// SampleLog runs the fractal.SampleLog contract. newLog returns an empty
// sample log for each subtest.
func SampleLog(t *testing.T, newLog func(t *testing.T) fractal.SampleLog) {
	runStream(t, func(t *testing.T) stream[*fractal.Sample] {
		l := newLog(t)
		return stream[*fractal.Sample]{l.PublishSample, l.NextSample}
	}, streamRecords[*fractal.Sample]{
		noun: "Sample", make: testSample,
		id: func(s *fractal.Sample) string { return s.Claim.RequestID },
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
