package gateway_test

import (
	"context"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/framesfile"
	"github.com/fractal-grid/fractal/refengine"
)

// TestJobsAreSharedForSampling: a gateway with no validator of its own
// shares every finished job through the store, with the key of frames the
// validator can check against the receipt.
func TestJobsAreSharedForSampling(t *testing.T) {
	e := start(t, refengine.New())
	v := e.create(t, `{"prompt": "a fox running through the snow", `+small+`}`)
	if got := e.wait(t, v.ID); got.Status != "completed" {
		t.Fatalf("video %s: %s, want completed", v.ID, got.Status)
	}
	log, ok := e.gw.Queue.(fractal.SampleLog)
	if !ok {
		t.Fatal("the store's queue carries no samples")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := log.NextSample(ctx, "validator")
	if err != nil {
		t.Fatal(err)
	}
	if s.Claim.Spec.Prompt != "a fox running through the snow" || s.Miner.Hotkey != e.grid.Miners[0].Hotkey.SS58() {
		t.Errorf("got a sample of %q by %s, want the job by the one miner", s.Claim.Spec.Prompt, s.Miner.Hotkey)
	}
	rc, err := e.gw.Blobs.Get(ctx, s.FramesKey)
	if err != nil {
		t.Fatalf("frames of the sample: %v", err)
	}
	defer rc.Close()
	frames, err := framesfile.Unmarshal(rc, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	if frames.Digest() != s.Claim.Receipt.Commitment.FramesDigest {
		t.Error("the sample's frames are not the ones its receipt commits to")
	}
}

// TestInProcessValidatorIsNotSampledTwice: a gateway that hands jobs to
// the validator in its process shares none through the store.
func TestInProcessValidatorIsNotSampledTwice(t *testing.T) {
	handed := make(chan string, 1)
	e := startWith(t, fractal.SamplerFunc(func(_ context.Context, _ fractal.Neuron, c fractal.Claim) { handed <- c.RequestID }), refengine.New())
	v := e.create(t, `{"prompt": "a paper boat on a lake", `+small+`}`)
	e.wait(t, v.ID)
	select {
	case <-handed:
	case <-time.After(30 * time.Second):
		t.Fatal("completed job was not handed to the validator in the process")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if s, err := e.gw.Queue.(fractal.SampleLog).NextSample(ctx, "validator"); err == nil {
		t.Errorf("shared %s through the store as well, want it handed over once", s.Claim.RequestID)
	}
}
