package chaos_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// TestScaleOut runs two gateway replicas and a validator on a three-node
// cluster with three replicas of every stream: jobs sent to either replica
// complete with the reference engine's digest and read the same from both,
// and a validator restarted on the cluster has the scores and tiers it had.
func TestScaleOut(t *testing.T) {
	g := newGrid(t, gridOpts{miners: 2, gateways: 2, stepDelay: 20 * time.Millisecond, ackWait: 2 * time.Second})
	a, b := g.gateways[0].info, g.gateways[1].info
	var ids []string
	for i := range 6 {
		ids = append(ids, mustSubmit(t, []string{a, b}[i%2], g.key, uint64(100+i)).ID)
	}
	for i, id := range ids {
		done := waitEnd(t, a, g.key, id, 60*time.Second)
		if done.Status != "completed" {
			t.Fatalf("job %s: %s (%s), want completed", id, done.Status, done.Error)
		}
		if want := localDigest(t, spec(uint64(100+i))); done.Digest != want {
			t.Errorf("job %s: digest %s, want %s", id, done.Digest, want)
		}
		if other := getVideo(t, b, g.key, id); other.Status != done.Status || other.Digest != done.Digest {
			t.Errorf("job %s reads %s/%s on the other replica, want %s/%s", id, other.Status, other.Digest, done.Status, done.Digest)
		}
	}

	// A client retrying on the other replica with the same Idempotency-Key
	// gets the job it already has, not a second one.
	s1, first, err1 := submitWith(a, g.key, 900, "order-900")
	s2, again, err2 := submitWith(b, g.key, 900, "order-900")
	if err1 != nil || err2 != nil || s1 != http.StatusAccepted || s2 != http.StatusOK || again.ID != first.ID {
		t.Errorf("same Idempotency-Key on two replicas: %d %s (%v), then %d %s (%v); want 202 and 200 with the same job",
			s1, first.ID, err1, s2, again.ID, err2)
	}

	// The validator restarts on the cluster: scores and tiers are unchanged.
	ctx := context.Background()
	g.val.Round(ctx)
	before := g.val.Stats()
	g.val.Close()
	st := openStore(t, g.natsURL, g.opts.ackWait)
	kv, err := st.KV(ctx, "validator", 0)
	if err != nil {
		t.Fatal(err)
	}
	after := newValidator(t, g.dev, kv, st.Audit(), len(g.miners)).Stats()
	if len(after) != len(before) || len(before) != len(g.miners) {
		t.Fatalf("after restart %d miners, want %d", len(after), len(before))
	}
	for i := range before {
		b, _ := json.Marshal(before[i])
		a, _ := json.Marshal(after[i])
		if string(a) != string(b) {
			t.Errorf("miner %s after restart: %s, want %s", before[i].Hotkey, a, b)
		}
		t.Logf("miner %s: %d passed, tier %d, success %.3f before and after the restart", before[i].Hotkey, before[i].Passed, before[i].Tier, before[i].Success)
		if before[i].Passed != 2 || before[i].Tier < 1 {
			t.Errorf("miner %s passed %d challenges, tier %d; want 2 and a tier above probation", before[i].Hotkey, before[i].Passed, before[i].Tier)
		}
	}
}
