package validator_test

import (
	"context"
	"math"
	"net/http"
	"testing"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/epistula"
	"github.com/fractal-grid/fractal/internal/gridtest"
	"github.com/fractal-grid/fractal/minerapi"
	"github.com/fractal-grid/fractal/refengine"
)

// A user's job handed over by the gateway is verified like a challenge
// when sampled, and its miner is scored for it.
func TestOrganicJobsAreVerified(t *testing.T) {
	g := gridtest.New(t)
	m := g.AddMiner(t, refengine.New(), nil)
	st := openStore(t, t.TempDir())
	defer st.Close()
	v := newValidator(t, g, st)
	v.Config.OrganicSample = 1
	cl := &minerapi.Client{HTTP: &http.Client{Transport: &epistula.Transport{Signer: g.Validator}}}
	req := minerapi.GenerateRequest{RequestID: minerapi.NewRequestID(), Spec: fractal.Spec{Prompt: "a user's orange boat", Seed: 9, Frames: 4, Width: 64, Height: 64, FPS: 8, Steps: 6}}
	out, err := cl.Generate(context.Background(), gridtest.Target(m), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	mg, _ := g.Chain.Metagraph(context.Background(), gridtest.NetUID)
	n, _ := mg.ByHotkey(m.Hotkey.SS58())
	rec, sampled := v.Organic(context.Background(), n, req, out)
	if !sampled || !rec.OK || !rec.Organic {
		t.Fatalf("organic verification %+v (sampled %v), want a passing organic record", rec, sampled)
	}
	s := v.Stats()
	if len(s) != 1 || s[0].Passed != 1 {
		t.Fatalf("stats %+v, want the miner scored once", s)
	}
	// Every job is verified (rate 1), so the pass stands for its own cost.
	if got, want := s[0].OrganicCost, refengine.New().Profile().CostOf(req.Spec); want <= 0 || math.Abs(got-want) > 1e-12 {
		t.Errorf("users' work served %g, want the job's cost %g", got, want)
	}
	// A tampered result handed over is caught.
	out.Frames.Pix[0] ^= 0xff
	out.Result.Receipt.Commitment.FramesRoot[0] ^= 1
	if rec, _ := v.Organic(context.Background(), n, req, out); rec.OK {
		t.Errorf("tampered organic result passed: %+v", rec)
	}
	if s := v.Stats(); s[0].OrganicCost != 0 {
		t.Errorf("after a failed check the miner keeps %g of users' work served, want 0", s[0].OrganicCost)
	}
}
