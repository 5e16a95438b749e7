package chaos_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/gateway"
	"github.com/fractal-grid/fractal/gridmap"
)

// TestNATSQuorumLost kills two of the three cluster nodes while jobs
// are being generated, so JetStream has no quorum for 10 s, then brings
// them back: every accepted job completes, no miner is charged for the
// store's outage (success rates and breakers stay as they were), and no
// job ran more than once more than it needed.
func TestNATSQuorumLost(t *testing.T) {
	g := newGrid(t, gridOpts{miners: 2, gateways: 2, stepDelay: 100 * time.Millisecond, ackWait: 3 * time.Second})
	var ids []string
	for i := range 8 {
		ids = append(ids, mustSubmit(t, g.gateways[i%2].info, g.key, uint64(7000+i)).ID)
	}
	waitFor(t, "a job to be generating", 20*time.Second, func() bool {
		for _, id := range ids {
			if v := getVideo(t, g.gateways[0].info, g.key, id); v.Status == "in_progress" && v.Progress > 0 {
				return true
			}
		}
		return false
	})
	leader := g.jobsLeader(t)
	down := []*child{leader}
	for _, c := range g.nats {
		if c != leader && len(down) < 2 {
			down = append(down, c)
		}
	}
	for _, c := range down {
		c.kill(t)
	}
	killed := time.Now()
	time.Sleep(10 * time.Second)
	for _, c := range down {
		back := startChild(t, c.name, c.role, c.args)
		for i, x := range g.nats {
			if x == c {
				g.nats[i] = back
			}
		}
	}
	t.Logf("killed %s and %s; both back %v later", down[0].name, down[1].name, time.Since(killed).Round(time.Millisecond))

	for _, id := range ids {
		if done := waitEnd(t, g.gateways[1].info, g.key, id, 90*time.Second); done.Status != "completed" {
			t.Fatalf("accepted job %s: %s (%s), want completed", id, done.Status, done.Error)
		}
	}
	t.Logf("all %d jobs completed %v after the outage began", len(ids), time.Since(killed).Round(time.Millisecond))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	runs := 0
	for _, id := range ids {
		j, err := g.store.Jobs().Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		runs += len(j.Attempts)
		for _, a := range j.Attempts {
			if a.Outcome == fractal.AttemptMinerFault {
				t.Errorf("job %s: attempt %d on %s charged to the miner: %s", id, a.N, a.Miner.Hotkey, a.Error)
			}
		}
		if len(j.Attempts) > 2 {
			t.Errorf("job %s ran %d times, want at most one more than needed", id, len(j.Attempts))
		}
	}
	t.Logf("%d runs for %d jobs", runs, len(ids))
	for _, gw := range g.gateways {
		var grid struct {
			Miners []gateway.GridMiner `json:"miners"`
		}
		if code := getJSON(gw.info+"/v1/grid", "", &grid); code != http.StatusOK {
			t.Fatalf("grid of %s: %d", gw.name, code)
		}
		for _, m := range grid.Miners {
			if !strings.HasPrefix(m.Hotkey, "5") {
				continue
			}
			if m.Success < 1 || m.Breaker != gridmap.Closed {
				t.Errorf("%s sees miner %s with success %.3f and breaker %s, want 1 and closed: the store's outage was charged to it",
					gw.name, m.Hotkey, m.Success, m.Breaker)
			}
		}
	}
}
