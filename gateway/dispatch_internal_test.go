package gateway

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/internal/gridtest"
	"github.com/fractal-grid/fractal/jetstream"
	"github.com/fractal-grid/fractal/minerapi"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/video"
)

// TestLateSecondRunKeepsFirstFrames runs one job twice, as a replica cut
// off from NATS past AckWait and the replica that took the job over would:
// both claim it, the first finishes first, the second finishes later with
// other frames. The job must keep and serve the first run's frames, which
// match its commitment, and the second run's blob must be gone.
func TestLateSecondRunKeepsFirstFrames(t *testing.T) {
	ctx := context.Background()
	grid := gridtest.New(t)
	st, err := jetstream.Open(ctx, jetstream.DefaultConfig(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	kv, err := st.KV(ctx, "gateway", 0)
	if err != nil {
		t.Fatal(err)
	}
	gw := New()
	gw.Config.AllowPrivateAxons = true
	gw.Jobs, gw.Queue, gw.Blobs, gw.KV = st.Jobs(), st.Queue(), st.Blobs(), kv
	gw.Chain, gw.Hotkey, gw.Logger = grid.Chain, grid.Validator, gridtest.Logger(t)
	if err := gw.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if err := gw.Serve("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gw.Close() })
	key, secret, err := gw.Keys().Create(ctx, "test", 100, 100, 8)
	if err != nil {
		t.Fatal(err)
	}

	spec := fractal.Spec{Prompt: "a paper boat on a pond", Seed: 5, Frames: 4, Width: 64, Height: 64, FPS: 8, Steps: 6}
	job := fractal.NewJob("job-twice", key.ID, spec, gw.now())
	if err := gw.Jobs.Create(ctx, job); err != nil { // not queued: no dispatcher takes it
		t.Fatal(err)
	}
	claim := func() *fractal.Job {
		t.Helper()
		j, err := gw.Jobs.Update(ctx, job.ID, func(j *fractal.Job) error {
			j.Status, j.Attempts, j.Progress = fractal.JobInProgress, j.Attempts+1, 0
			j.Miner = &fractal.MinerRef{UID: uint16(j.Attempts), Hotkey: grid.Validator.SS58()}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	outcome := func(seed uint64) *minerapi.Outcome {
		t.Helper()
		s := spec
		s.Seed = seed
		res, err := refengine.New().Generate(ctx, s, fractal.GenerateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var file bytes.Buffer
		if err := video.MarshalFrames(&file, res.Frames); err != nil {
			t.Fatal(err)
		}
		com := res.Commit()
		return &minerapi.Outcome{Result: &minerapi.Result{Receipt: fractal.Receipt{Commitment: com}}, Frames: res.Frames, FramesFile: file.Bytes()}
	}
	first, second := claim(), claim()
	a, b := outcome(spec.Seed), outcome(spec.Seed+1)
	if err := gw.complete(ctx, first, a, time.Now()); err != nil {
		t.Fatalf("first run: %v", err)
	}
	if err := gw.complete(ctx, second, b, time.Now()); !errors.Is(err, errJobOver) {
		t.Fatalf("second run: got %v, want the job already over", err)
	}

	done, err := gw.Jobs.Get(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := a.Result.Receipt.Commitment.FramesDigest
	if done.Status != fractal.JobCompleted || done.Commitment.FramesDigest != want || done.ResultAttempt != first.Attempts {
		t.Fatalf("job %s, digest %s, result attempt %d; want completed with the first run's %s from attempt %d",
			done.Status, done.Commitment.FramesDigest, done.ResultAttempt, want, first.Attempts)
	}
	req, _ := http.NewRequest("GET", "http://"+gw.Addr()+"/v1/videos/"+job.ID+"/content?variant=frames", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("frames: %d %s", resp.StatusCode, body)
	}
	served, err := video.UnmarshalFrames(bytes.NewReader(body), 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := served.Digest(); got != want {
		t.Errorf("served frames hash to %s, want the committed %s", got, want)
	}
	if _, err := gw.Blobs.Get(ctx, framesKey(job.ID, second.Attempts)); !errors.Is(err, fractal.ErrNotFound) {
		t.Errorf("the superseded run's frames: got %v, want them removed", err)
	}
}
