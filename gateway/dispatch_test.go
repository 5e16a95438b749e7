package gateway_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/framesfile"
	"github.com/fractal-grid/fractal/gateway"
	"github.com/fractal-grid/fractal/minerapi"
	"github.com/fractal-grid/fractal/refengine"
)

// TestLateSecondRunKeepsFirstFrames runs one job twice, as a replica cut
// off from NATS past AckWait and the replica that took the job over would:
// both claim it, the first finishes first, the second finishes later with
// other frames. The job must keep and serve the first run's frames, which
// match its commitment, and the second run's blob must be gone.
func TestLateSecondRunKeepsFirstFrames(t *testing.T) {
	ctx := context.Background()
	e := start(t) // no miners: the job stays queued until claimed below
	v := e.create(t, `{"prompt": "a paper boat on a pond", "seed": 5, `+small+`}`)
	gw := e.gw
	job, err := gw.Jobs.Get(ctx, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	claim := func(requestID string) *fractal.Job {
		t.Helper()
		j, err := gw.Jobs.Update(ctx, job.ID, func(j *fractal.Job) error {
			_, err := j.StartAttempt(requestID, fractal.MinerRef{UID: uint16(len(j.Attempts)), Hotkey: e.grid.Validator.SS58()}, time.Now())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	outcome := func(seed uint64) *minerapi.Outcome {
		t.Helper()
		s := job.Spec
		s.Seed = seed
		res, err := refengine.New().Generate(ctx, s, fractal.GenerateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var file bytes.Buffer
		if err := framesfile.Marshal(&file, res.Frames); err != nil {
			t.Fatal(err)
		}
		com := res.Commit()
		return &minerapi.Outcome{Result: &minerapi.ResultEvent{Receipt: fractal.Receipt{Commitment: com}}, Frames: res.Frames, FramesFile: file.Bytes()}
	}
	first, second := claim("req-first"), claim("req-second")
	a, b := outcome(job.Spec.Seed), outcome(job.Spec.Seed+1)
	if err := gw.Complete(ctx, first, "req-first", a); err != nil {
		t.Fatalf("first run: %v", err)
	}
	if err := gw.Complete(ctx, second, "req-second", b); !errors.Is(err, gateway.ErrJobOver) {
		t.Fatalf("second run: got %v, want the job already over", err)
	}

	done, err := gw.Jobs.Get(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := a.Result.Receipt.Commitment.FramesDigest
	if done.Status != fractal.JobCompleted || done.Commitment.FramesDigest != want || done.ResultAttempt != 1 {
		t.Fatalf("job %s, digest %s, result attempt %d; want completed with the first run's %s from attempt 1",
			done.Status, done.Commitment.FramesDigest, done.ResultAttempt, want)
	}
	if got := outcomes(done); got != "completed over" {
		t.Errorf("attempt outcomes %q, want the first completed and the second over", got)
	}
	resp, body := e.do(t, "GET", "/v1/videos/"+job.ID+"/content?variant=frames", "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("frames: %d %s", resp.StatusCode, body)
	}
	served, err := framesfile.Unmarshal(bytes.NewReader(body), 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := served.Digest(); got != want {
		t.Errorf("served frames hash to %s, want the committed %s", got, want)
	}
	if _, err := gw.Blobs.Get(ctx, gateway.FramesKey(job.ID, len(second.Attempts))); !errors.Is(err, fractal.ErrNotFound) {
		t.Errorf("the superseded run's frames: got %v, want them removed", err)
	}
}

// outcomes lists a job's attempt outcomes in order, "running" for an
// attempt not ended.
func outcomes(j *fractal.Job) string {
	var out []string
	for _, a := range j.Attempts {
		o := string(a.Outcome)
		if o == "" {
			o = "running"
		}
		out = append(out, o)
	}
	return strings.Join(out, " ")
}
