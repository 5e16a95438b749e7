package e2e

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/engines/diffusers/diffuserstest"
	"github.com/fractal-grid/fractal/validator"
	"github.com/fractal-grid/fractal/verify"
)

// TestAcrossExecutionClasses runs the validator's engine in one execution
// class (one CPU thread) and the miners' in another (three threads, which
// changes the tiny Wan's float32 sums in their last bits): honest miners'
// receipts name their class, the validator checks their steps within the
// profile's cross-class tolerance and they pass; a miner skipping every other
// step in the same class as the honest ones is caught with step_mismatch.
func TestAcrossExecutionClasses(t *testing.T) {
	own := diffuserstest.MustStart(t, diffuserstest.CLI(t, "serve", "--profile", "wan2.1-t2v-1.3b", "--tiny", "--addr", "127.0.0.1:0", "--threads", "1"))
	theirs := diffuserstest.MustStart(t, diffuserstest.CLI(t, "serve", "--profile", "wan2.1-t2v-1.3b", "--tiny", "--addr", "127.0.0.1:0", "--threads", "3"))
	minersEngine := &diffuserstest.Queued{Engine: diffuserstest.MustOpen(t, theirs)}

	g := openGrid(t, own, 2)

	ownClass, theirClass := fractal.ClassOf(g.Engine()), fractal.ClassOf(minersEngine)
	if ownClass == "" || theirClass == "" || ownClass == theirClass {
		t.Fatalf("classes %q and %q: want two different ones", ownClass, theirClass)
	}
	p := g.Engine().Profile()
	if p.CrossClass == nil {
		t.Fatalf("%s has no cross-class tolerance", p)
	}
	if got := minersEngine.Profile(); got.Same(p) != nil {
		t.Fatalf("miners' engine serves %s %s, the grid %s %s", got, got.Digest, p, p.Digest)
	}

	honest, skipper := g.Miners()[0], g.Miners()[1]
	start := statsByHotkey(g)
	if err := honest.SetEngines(minersEngine); err != nil {
		t.Fatal(err)
	}
	if err := skipper.SetEngines(&skipEngine{Engine: minersEngine}); err != nil {
		t.Fatal(err)
	}

	deadline := time.Now().Add(catchWithin)
	for {
		stats := statsByHotkey(g)
		h, s := stats[honest.Hotkey.SS58()], stats[skipper.Hotkey.SS58()]
		if h.Cheats != 0 {
			t.Fatalf("honest miner in another class failed as a cheat: %+v", h)
		}
		if h.Passed >= start[honest.Hotkey.SS58()].Passed+2 && s.Cheats > 0 {
			if s.LastReason != verify.ReasonStep {
				t.Errorf("skipper: last reason %q, want %q", s.LastReason, verify.ReasonStep)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: honest %+v, skipper %+v; want two more passes across classes and the skipper caught", catchWithin, h, s)
		}
		time.Sleep(250 * time.Millisecond)
	}

	// The audit log says which checks compared across classes.
	recs, err := g.Validator().Audit.Read(t.Context(), "audit.>", 0, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	var across, caught int
	for _, lr := range recs {
		var r validator.Record
		if err := json.Unmarshal(lr.Data, &r); err != nil {
			t.Fatal(err)
		}
		switch {
		case r.Miner == honest.Hotkey.SS58() && r.OK && r.CrossClass:
			across++
			if r.Class != theirClass {
				t.Errorf("honest record names class %q, want %q", r.Class, theirClass)
			}
		case r.Miner == skipper.Hotkey.SS58() && r.Reason == verify.ReasonStep && r.CrossClass:
			caught++
		}
	}
	if across < 1 || caught < 1 {
		t.Errorf("audit log: %d passed checks of the honest miner across classes and %d of the skipper caught across classes, want at least one each", across, caught)
	}
}
