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
	"github.com/fractal-grid/fractal/validator"
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

// TestOrganicRate: a user's job is drawn at the base rate, validator.SampleBoost
// times as often when its miner was loaded or the job much faster than the
// miner's record (under 0.7 of it), both when both, never past certainty;
// an unknown speed boosts nothing.
func TestOrganicRate(t *testing.T) {
	for _, c := range []struct {
		name   string
		loaded bool
		speed  float64
		want   float64
	}{
		{"as recorded", false, 1, 0.1},
		{"unknown speed", false, 0, 0.1},
		{"a little faster", false, 0.75, 0.1},
		{"much faster", false, 0.65, 0.1 * validator.SampleBoost},
		{"loaded", true, 1, 0.1 * validator.SampleBoost},
		{"loaded and much faster", true, 0.4, 0.1 * validator.SampleBoost * validator.SampleBoost},
	} {
		if got := validator.OrganicRate(0.1, c.loaded, c.speed); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: rate %g, want %g", c.name, got, c.want)
		}
	}
	if got := validator.OrganicRate(0.5, true, 0.1); got != 1 {
		t.Errorf("rate %g past certainty, want 1", got)
	}
}
