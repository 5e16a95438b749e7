package gateway

import (
	"math"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/gridmap"
	"github.com/fractal-grid/fractal/minerapi"
	"github.com/fractal-grid/fractal/refengine"
)

// TestPacedFromProgress checks that the events of an attempt's stream
// reach the grid map as paces of its steps: from the started event, each
// step timed from the one before, and nothing from a stream with no
// started event or with steps out of order.
func TestPacedFromProgress(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	cfg := gridmap.DefaultConfig()
	cfg.Now = clock
	grid, err := gridmap.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	g := &Gateway{Now: clock, grid: grid}
	grid.Probed("m1", gridmap.Probe{RTT: time.Millisecond, Slots: 1, Sent: now, ETA: 4 * time.Second})
	var told []gridmap.Pace
	grid.ObservePaces(func(_ string, p gridmap.Pace) { told = append(told, p) })
	service := func() time.Duration { v, _ := grid.View("m1"); return v.Service }

	// A stream without a started event tells nothing.
	p := gridmap.Pace{Cost: 1}
	now = now.Add(time.Second)
	g.paced("m1", &p, minerapi.Event{Type: minerapi.EventProgress, Step: 1, Steps: 10})
	if len(told) != 0 || service() != 4*time.Second {
		t.Fatalf("without a started event: told %d, service %v", len(told), service())
	}

	p = gridmap.Pace{Cost: 1, Started: now, At: now}
	now = now.Add(400 * time.Millisecond) // step 1 at the usual pace
	g.paced("m1", &p, minerapi.Event{Type: minerapi.EventProgress, Step: 1, Steps: 10})
	now = now.Add(1600 * time.Millisecond) // step 2 four times slower
	g.paced("m1", &p, minerapi.Event{Type: minerapi.EventProgress, Step: 2, Steps: 10})
	// Only the slow step is passed on to the other replicas, timed from
	// the first.
	if len(told) != 1 || told[0].Step != 2 || told[0].PrevStep != 1 || told[0].At.Sub(told[0].Prev) != 1600*time.Millisecond {
		t.Fatalf("told %+v, want step 2 alone, timed from step 1", told)
	}
	if got := service(); got != 16*time.Second {
		t.Errorf("after a step 4× slow: service %v, want 16s", got)
	}
	now = now.Add(time.Second)
	g.paced("m1", &p, minerapi.Event{Type: minerapi.EventProgress, Step: 2, Steps: 10}) // again
	g.paced("m1", &p, minerapi.Event{Type: minerapi.EventProgress, Step: 3, Steps: 2})  // past its steps
	if len(told) != 1 || p.Step != 2 {
		t.Errorf("steps out of order were taken: told %d, at step %d", len(told), p.Step)
	}
	// Steps 3 to 6 reported at once, 3.2 s after step 2: 0.8 s a step.
	now = now.Add(2200 * time.Millisecond)
	g.paced("m1", &p, minerapi.Event{Type: minerapi.EventProgress, Step: 6, Steps: 10})
	if p.PrevStep != 2 || p.Step != 6 {
		t.Errorf("after steps 3–6 at once: previous step %d, step %d; want 2, 6", p.PrevStep, p.Step)
	}
	if len(told) != 2 { // from 16 s a unit to 8, still slow: passed on
		t.Fatalf("told %d paces, want 2", len(told))
	}
	if got, want := told[1].At.Sub(told[1].Prev)*time.Duration(told[1].Steps)/time.Duration(told[1].Step-told[1].PrevStep), 8*time.Second; got != want {
		t.Errorf("pace of steps 3–6 = %v a job, want %v", got, want)
	}
}

// TestGenerationTime checks that the miner's generation time runs from
// its started event, not from when it queued the job, and from the
// accepted event for a miner that sends no started event.
func TestGenerationTime(t *testing.T) {
	out := &minerapi.Outcome{Accepted: time.Second, Started: 5 * time.Second, Total: 9 * time.Second}
	if got := generation(out); got != 4*time.Second {
		t.Errorf("generation = %v, want 4s", got)
	}
	out.Started = 0
	if got := generation(out); got != 8*time.Second {
		t.Errorf("without a started event: generation = %v, want 8s", got)
	}
}

// TestNewPace checks that an attempt's pace carries the part of its cost
// the steps take, from the cost model of the spec's pinned profile, or
// the legacy one for a spec that names no pinned profile.
func TestNewPace(t *testing.T) {
	prof := refengine.New().Profile()
	prof.Cost = fractal.CostModel{Fixed: 1.5, PerStep: 1.0 / 40}
	g := &Gateway{}
	g.Config.Pins = fractal.Pins{{Profile: prof}}
	spec := prof.DefaultSpec("x", 1) // 20 steps of 16 frames of 256×256: 0.5 of steps
	p := g.newPace(spec, 2)
	if p.Cost != 2 || math.Abs(p.Share-0.25) > 1e-12 {
		t.Errorf("pinned profile: cost %v, share %v; want 2, 0.25", p.Cost, p.Share)
	}
	spec.Profile = "gone@1"
	if p := g.newPace(spec, 1); math.Abs(p.Share-0.5) > 1e-12 {
		t.Errorf("a profile not pinned: share %v, want the legacy 0.5", p.Share)
	}
}
