package verify_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/sr25519"
	"github.com/fractal-grid/fractal/verify"
)

// TestRecheckAsksTheSameSteps: a late opening keeps what was asked, and a
// recheck asks exactly that again and judges the answer as a check would.
func TestRecheckAsksTheSameSteps(t *testing.T) {
	ctx := context.Background()
	eng := refengine.New()
	key, _ := sr25519.FromURI("//Alice//miner")
	j := honestJob(t, eng, key, 5)
	policy := verify.Policy{OpenSteps: 2, DecodeProb: 1}
	late := checker(policy, 5, eng).Check(ctx, 0, j.claim, failing(fmt.Errorf("busy: %w", fractal.ErrOverloaded)))
	if late.Reason != verify.ReasonOpenLate || len(late.Opened) != 2 || !late.Decoded {
		t.Fatalf("got %+v, want open_late keeping two asked steps and the decode", late)
	}
	var asked []int
	spy := fractal.OpenerFunc(func(ctx context.Context, steps []int) (*fractal.Openings, error) {
		asked = steps
		return j.opener().Open(ctx, steps)
	})
	v := checker(policy, 99, eng).Recheck(ctx, 0, j.claim, spy, late.Opened, late.Decoded)
	want := append(slices.Clone(late.Opened), j.claim.Spec.Steps)
	if !v.OK || !slices.Equal(asked, want) {
		t.Errorf("recheck: got %+v asking %v, want a pass asking %v", v, asked, want)
	}
	// A faked step found on the recheck is a cheat like any other.
	k := late.Opened[0]
	j.states[k] = j.states[k-1]
	j.recommit(t, key)
	if v := checker(policy, 99, eng).Recheck(ctx, 0, j.claim, j.opener(), late.Opened, false); v.Reason != verify.ReasonStep || !v.Cheat() {
		t.Errorf("recheck of a faked step: got %+v, want step_mismatch", v)
	}
}
