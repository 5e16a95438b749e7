package validator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/epistula"
	"github.com/fractal-grid/fractal/framesfile"
	"github.com/fractal-grid/fractal/internal/gridtest"
	"github.com/fractal-grid/fractal/miner"
	"github.com/fractal-grid/fractal/minerapi"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/validator"
	"github.com/fractal-grid/fractal/verify"
)

// TestSharedSamplesAreVerified: users' jobs that a gateway replica shared
// through the store reach the validator, which verifies them: the honest
// miner's passes, the cheat's is caught.
func TestSharedSamplesAreVerified(t *testing.T) {
	ctx := context.Background()
	g := gridtest.New(t)
	honest := g.AddMiner(t, refengine.New(), nil)
	cheat := g.AddMiner(t, gridtest.Lazy{Engine: refengine.New()}, nil)
	st := openStore(t, t.TempDir())
	defer st.Close()
	v := newValidator(t, g, st)
	v.Config.OrganicSample, v.Config.Round = 1, time.Hour
	v.Config.Policy = verify.Policy{OpenSteps: 6}
	v.Samples, v.Blobs = st.Queue(), st.Blobs()

	// What a replica does with a finished job: frames to the blob store,
	// the claim to the sample log.
	cl := &minerapi.Client{HTTP: &http.Client{Transport: &epistula.Transport{Signer: g.Validator}}}
	mg, _ := g.Chain.Metagraph(ctx, gridtest.NetUID)
	want := map[string]string{} // request id → miner
	for i, m := range []*miner.Miner{honest, cheat} {
		req := minerapi.GenerateRequest{RequestID: minerapi.NewRequestID(), Spec: fractal.Spec{Prompt: "a user's red kite over a beach", Seed: uint64(i), Frames: 4, Width: 64, Height: 64, FPS: 8, Steps: 6}}
		out, err := cl.Generate(ctx, gridtest.Target(m), req, nil)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := mg.ByHotkey(m.Hotkey.SS58())
		var buf bytes.Buffer
		if err := framesfile.Marshal(&buf, out.Frames); err != nil {
			t.Fatal(err)
		}
		key := "frames.job" + req.RequestID[len(req.RequestID)-8:] + ".1"
		if err := st.Blobs().Put(ctx, key, &buf); err != nil {
			t.Fatal(err)
		}
		claim := out.Claim(n.Hotkey, req)
		claim.Frames = nil
		if err := st.Queue().PublishSample(ctx, &fractal.Sample{Miner: n, Claim: claim, FramesKey: key, Finished: time.Now()}); err != nil {
			t.Fatal(err)
		}
		want[req.RequestID] = n.Hotkey
	}
	v.Start()
	defer v.Close()
	organic := map[string]validator.Record{}
	waitFor(t, "both samples verified", time.Minute, func() bool {
		recs, err := st.Audit().Read(ctx, "", 1, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			var rec validator.Record
			if err := json.Unmarshal(r.Data, &rec); err == nil && rec.Organic {
				organic[rec.RequestID] = rec
			}
		}
		return len(organic) == 2
	})
	for id, hot := range want {
		rec := organic[id]
		switch hot {
		case honest.Hotkey.SS58():
			if !rec.OK {
				t.Errorf("honest miner's shared job: %+v, want a pass", rec)
			}
		case cheat.Hotkey.SS58():
			if rec.OK || !verify.IsCheck(rec.Reason) {
				t.Errorf("cheat's shared job: %+v, want a failed check", rec)
			}
		}
	}
	// The honest miner's passed job counts as users' work it served (every
	// job is verified here, so its cost once); the cheat's counts nothing.
	for _, s := range v.Stats() {
		switch s.Hotkey {
		case honest.Hotkey.SS58():
			if s.OrganicCost <= 0 {
				t.Errorf("honest miner served %g of users' work, want its job's cost", s.OrganicCost)
			}
		case cheat.Hotkey.SS58():
			if s.OrganicCost != 0 {
				t.Errorf("cheat served %g of users' work, want 0", s.OrganicCost)
			}
		}
	}
}
