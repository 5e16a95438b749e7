package chaos_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestChainAway takes the chain away from the gateway replica and the
// miners for longer than a tempo's worth of grid refreshes: jobs are still
// routed on the last metagraph and complete, and once the chain is back
// on its address they go on completing. (The validator's side, challenges
// continuing and weights set when the chain returns, is
// validator.TestChainOutage.)
func TestChainAway(t *testing.T) {
	g := newGrid(t, gridOpts{miners: 2, gateways: 1, stepDelay: 20 * time.Millisecond, ackWait: 3 * time.Second})
	gw := g.gateways[0].info
	g.stopChain()
	time.Sleep(2 * time.Second) // ten failed grid refreshes on the gateway, block watches failing on the miners
	var ids []string
	for i := range 4 {
		ids = append(ids, mustSubmit(t, gw, g.key, uint64(300+i)).ID)
	}
	for _, id := range ids {
		if done := waitEnd(t, gw, g.key, id, 60*time.Second); done.Status != "completed" {
			t.Fatalf("job %s with the chain away: %s (%s), want completed", id, done.Status, done.Error)
		}
	}
	var h struct {
		Eligible int `json:"eligible_miners"`
	}
	if status := getJSON(gw+"/healthz", "", &h); status != http.StatusOK || h.Eligible != len(g.miners) {
		t.Errorf("healthz with the chain away: status %d, %d eligible miners; want 200 and %d", status, h.Eligible, len(g.miners))
	}
	serveChain(t, g.dev.Chain, strings.TrimPrefix(g.chainURL, "http://"))
	v := mustSubmit(t, gw, g.key, 310)
	if done := waitEnd(t, gw, g.key, v.ID, 60*time.Second); done.Status != "completed" {
		t.Fatalf("job after the chain returned: %s (%s), want completed", done.Status, done.Error)
	}
}
