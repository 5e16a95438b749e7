package chaos_test

import (
	"context"
	"math"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/fractal-grid/fractal/gateway"
	"github.com/fractal-grid/fractal/internal/loadgen"
)

// durationEnv sets the overload run's length and factorEnv the load as a
// multiple of the grid's capacity (default 2); the documented benchmarks
// in docs/reliability.md set them.
const (
	durationEnv = "FRACTAL_LOAD_DURATION"
	factorEnv   = "FRACTAL_LOAD_FACTOR"
)

// TestOverload offers a gateway replica twice the grid's capacity (or
// $FRACTAL_LOAD_FACTOR times): it does not crash, its memory stays bounded,
// the excess gets 429 with Retry-After, and every accepted job completes.
func TestOverload(t *testing.T) {
	d := 5 * time.Second
	if v := os.Getenv(durationEnv); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			t.Fatalf("%s=%q: %v", durationEnv, v, err)
		}
	}
	factor := 2.0
	if v := os.Getenv(factorEnv); v != "" {
		var err error
		if factor, err = strconv.ParseFloat(v, 64); err != nil || factor <= 0 {
			t.Fatalf("%s=%q: want a positive number", factorEnv, v)
		}
	}
	g := newGrid(t, gridOpts{miners: 2, gateways: 1, stepDelay: 20 * time.Millisecond, ackWait: 5 * time.Second})
	gw := g.gateways[0]

	// Capacity: miners (one generation each at a time) over one job's time.
	one := waitEnd(t, gw.info, g.key, mustSubmit(t, gw.info, g.key, 1).ID, 30*time.Second)
	if one.Timings == nil || one.Timings.Generate <= 0 {
		t.Fatalf("calibration job: %+v", one)
	}
	capacity := float64(len(g.miners)) / (float64(one.Timings.Generate) / 1000)
	rate := math.Round(factor * capacity)

	// The key allows the grid's capacity; twice as much is offered.
	_, key, err := (&gateway.Keys{KV: g.kv, Now: time.Now}).Create(context.Background(), "overload", capacity, int(math.Ceil(capacity)), 16*len(g.miners))
	if err != nil {
		t.Fatal(err)
	}
	cfg := loadgen.DefaultConfig(gw.info, key)
	cfg.Rate, cfg.Duration, cfg.Wait, cfg.PID = rate, d, 2*time.Minute, gw.pid()
	rep, err := loadgen.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("capacity %.1f jobs/s (%d ms a job on %d miners); offered %.0f/s for %s\n%s",
		capacity, one.Timings.Generate, len(g.miners), rate, d, rep)
	if err := rep.OK(); err != nil {
		t.Fatal(err)
	}
	if rep.Accepted == 0 || rep.Overloaded == 0 || rep.Completed != rep.Accepted {
		t.Errorf("accepted %d, 429 %d, completed %d: want the excess refused and every accepted job completed", rep.Accepted, rep.Overloaded, rep.Completed)
	}
	const maxRSS = 1 << 30
	if rep.PeakRSSBytes <= 0 || rep.PeakRSSBytes > maxRSS {
		t.Errorf("gateway peak RSS %d bytes, want measured and under %d", rep.PeakRSSBytes, maxRSS)
	}
	select {
	case <-gw.done:
		t.Fatalf("the gateway exited under load:\n%s", gw.output())
	default:
	}
	var h map[string]any
	if status := getJSON(gw.info+"/healthz", "", &h); status != http.StatusOK {
		t.Errorf("healthz after the run: status %d", status)
	}
}
