package validator_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/epistula"
	"github.com/fractal-grid/fractal/internal/gridtest"
	"github.com/fractal-grid/fractal/minerapi"
	"github.com/fractal-grid/fractal/refengine"
)

// A user's job handed over as a claim is verified like a challenge.
func TestSample(t *testing.T) {
	g := gridtest.New(t)
	m := g.AddMiner(t, refengine.New(), nil)
	st := openStore(t, t.TempDir())
	defer st.Close()
	v := newValidator(t, g, st)
	v.Config.OrganicSample = 1
	ctx := context.Background()
	cl := &minerapi.Client{HTTP: &http.Client{Transport: &epistula.Transport{Signer: g.Validator}}}
	spec := fractal.Spec{Profile: refengine.New().Profile().String(), Prompt: "a user's green kite", Seed: 4, Frames: 4, Width: 64, Height: 64, FPS: 8, Steps: 6}
	req := minerapi.GenerateRequest{RequestID: minerapi.NewRequestID(), Spec: spec}
	out, err := cl.Generate(ctx, gridtest.Target(m), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	mg, _ := g.Chain.Metagraph(ctx, gridtest.NetUID)
	n, _ := mg.ByHotkey(m.Hotkey.SS58())
	v.Sample(ctx, n, out.Claim(n.Hotkey, req))
	standings, _ := v.Standings(ctx)
	if s := standings[n.Hotkey]; s.Passed != 1 || !s.PassedOn(spec.Profile) {
		t.Fatalf("standing %+v, want one pass on %s", s, spec.Profile)
	}
	// A claim whose frames are not what the receipt commits to fails.
	claim := out.Claim(n.Hotkey, req)
	claim.Receipt.Commitment.FramesRoot[0] ^= 1
	v.Sample(ctx, n, claim)
	if s := v.Stats(); len(s) != 1 || s[0].Passed != 1 || s[0].Failed != 1 {
		t.Errorf("stats %+v, want one pass and one failure", s)
	}
}
