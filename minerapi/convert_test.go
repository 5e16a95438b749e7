package minerapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/apierr"
	"github.com/fractal-grid/fractal/minerapi"
)

func testState(seed float32, shape ...int) fractal.State {
	s := fractal.State{Shape: shape}
	s.Data = make([]float32, s.Len())
	for i := range s.Data {
		s.Data[i] = seed + float32(i)/8
	}
	return s
}

// testOpenings opens steps 1..n of a trajectory of n+1 states of 2×3×4.
func testOpenings(t *testing.T, n int) *fractal.Openings {
	t.Helper()
	states := make([]fractal.State, n+1)
	digests := make([]fractal.Digest, n+1)
	for i := range states {
		states[i] = testState(float32(i), 2, 3, 4)
		digests[i] = states[i].Digest()
	}
	tree := fractal.NewMerkleTree(digests)
	out := &fractal.Openings{TrajectoryRoot: tree.Root()}
	for k := 1; k <= n; k++ {
		pp, err := tree.Proof(k - 1)
		if err != nil {
			t.Fatal(err)
		}
		p, err := tree.Proof(k)
		if err != nil {
			t.Fatal(err)
		}
		out.Openings = append(out.Openings, fractal.Opening{Step: k, Prev: states[k-1], PrevProof: pp, State: states[k], Proof: p})
	}
	return out
}

func TestOutcomeClaim(t *testing.T) {
	spec := fractal.Spec{Profile: "fractal-ref@4", Prompt: "a kite", Seed: 3, Frames: 2, Width: 64, Height: 64, FPS: 8, Steps: 4}
	req := minerapi.GenerateRequest{RequestID: "job-1", Spec: spec}
	frames := fractal.NewFrames(2, 64, 64, 8)
	res := &minerapi.ResultEvent{Profile: fractal.Profile{ID: "fractal-ref", Version: "4"}, Receipt: fractal.Receipt{RequestID: "job-1", Profile: "fractal-ref@4"}}
	out := &minerapi.Outcome{Result: res, Frames: frames, Accepted: time.Millisecond, FirstProgress: 2 * time.Millisecond, Total: 3 * time.Millisecond}
	want := fractal.Claim{
		RequestID: "job-1", Miner: "5Miner", Spec: spec, Profile: res.Profile, Receipt: res.Receipt, Frames: frames,
		Accepted: time.Millisecond, FirstProgress: 2 * time.Millisecond, Total: 3 * time.Millisecond,
	}
	if got := out.Claim("5Miner", req); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if got := (&minerapi.Outcome{}).Claim("5Miner", req); got.Receipt.RequestID != "" || got.RequestID != "job-1" {
		t.Errorf("outcome without a result: got %+v, want the request's fields and an empty receipt", got)
	}
}

func TestOpeningsRoundTrip(t *testing.T) {
	in := testOpenings(t, 3)
	wire := minerapi.OpenResponseOf("job-1", in)
	b, err := json.Marshal(wire)
	if err != nil {
		t.Fatal(err)
	}
	var back minerapi.OpenResponse
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	got, err := back.Decode(24)
	if err != nil {
		t.Fatal(err)
	}
	if back.RequestID != "job-1" || !reflect.DeepEqual(got, in) {
		t.Errorf("got %+v for %q, want %+v for job-1", got, back.RequestID, in)
	}
}

func TestBadStatesAreBadOpenings(t *testing.T) {
	for _, tc := range []struct {
		name     string
		tamper   func(*minerapi.OpenResponse)
		maxElems int
	}{
		{"larger than the profile allows", func(*minerapi.OpenResponse) {}, 23},
		{"data shorter than the shape", func(r *minerapi.OpenResponse) { r.Openings[1].State.Data = r.Openings[1].State.Data[:7] }, 24},
		{"negative dimension", func(r *minerapi.OpenResponse) { r.Openings[0].Prev.Shape = []int{-2, 3, 4} }, 24},
		{"no shape", func(r *minerapi.OpenResponse) { r.Openings[0].State.Shape = nil }, 24},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wire := minerapi.OpenResponseOf("job-1", testOpenings(t, 2))
			tc.tamper(&wire)
			if got, err := wire.Decode(tc.maxElems); !errors.Is(err, fractal.ErrBadOpening) {
				t.Errorf("got %+v, %v; want an error wrapping ErrBadOpening", got, err)
			}
		})
	}
}

// openServer answers opening requests with handle.
func openServer(t *testing.T, handle func(w http.ResponseWriter, req minerapi.OpenRequest)) minerapi.Target {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req minerapi.OpenRequest
		if r.URL.Path != minerapi.PathOpen || json.NewDecoder(r.Body).Decode(&req) != nil {
			apierr.Miner.Write(w, fmt.Errorf("bad request: %w", fractal.ErrInvalid))
			return
		}
		handle(w, req)
	}))
	t.Cleanup(srv.Close)
	return minerapi.Target{URL: srv.URL, Hotkey: "5Miner"}
}

func TestOpener(t *testing.T) {
	all := testOpenings(t, 4)
	serve := func(w http.ResponseWriter, req minerapi.OpenRequest) {
		picked := &fractal.Openings{TrajectoryRoot: all.TrajectoryRoot}
		for _, k := range req.Steps {
			if o := all.At(k); o != nil {
				picked.Openings = append(picked.Openings, *o)
			}
		}
		json.NewEncoder(w).Encode(minerapi.OpenResponseOf(req.RequestID, picked))
	}
	client := &minerapi.Client{HTTP: &http.Client{}}
	ctx := context.Background()
	t.Run("opens and decodes", func(t *testing.T) {
		o := &minerapi.Opener{Client: client, Target: openServer(t, serve), RequestID: "job-1", MaxStateElems: 24}
		got, err := o.Open(ctx, []int{2, 4})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Openings) != 2 || !reflect.DeepEqual(*got.At(2), *all.At(2)) || !reflect.DeepEqual(*got.At(4), *all.At(4)) {
			t.Errorf("got %+v, want steps 2 and 4 as served", got)
		}
	})
	t.Run("states over the bound", func(t *testing.T) {
		o := &minerapi.Opener{Client: client, Target: openServer(t, serve), RequestID: "job-1", MaxStateElems: 12}
		if _, err := o.Open(ctx, []int{1}); !errors.Is(err, fractal.ErrBadOpening) {
			t.Errorf("got %v, want ErrBadOpening", err)
		}
	})
	t.Run("miner error", func(t *testing.T) {
		target := openServer(t, func(w http.ResponseWriter, req minerapi.OpenRequest) {
			apierr.Miner.Write(w, fmt.Errorf("job %s: %w", req.RequestID, fractal.ErrNotFound))
		})
		o := &minerapi.Opener{Client: client, Target: target, RequestID: "job-1", MaxStateElems: 24}
		if _, err := o.Open(ctx, []int{1}); !errors.Is(err, fractal.ErrNotFound) || errors.Is(err, fractal.ErrBadOpening) {
			t.Errorf("got %v, want ErrNotFound and no bad opening", err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		release := make(chan struct{})
		target := openServer(t, func(w http.ResponseWriter, req minerapi.OpenRequest) { <-release })
		t.Cleanup(func() { close(release) }) // before the server closes: cleanups run last first
		o := &minerapi.Opener{Client: client, Target: target, RequestID: "job-1", MaxStateElems: 24, Timeout: 50 * time.Millisecond}
		start := time.Now()
		if _, err := o.Open(ctx, []int{1}); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("got %v, want a deadline", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("opening took %s with a 50ms timeout", d)
		}
	})
}
