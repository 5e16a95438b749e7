package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/epistula"
	"github.com/fractal-grid/fractal/gateway"
	"github.com/fractal-grid/fractal/internal/gridtest"
	"github.com/fractal-grid/fractal/minerapi"
	"github.com/fractal-grid/fractal/refengine"
)

// BenchmarkEndToEnd measures a default-spec video through the gateway (POST
// with Prefer: wait, stored, routed, generated, frames stored) against the
// same spec sent straight to the miner, side by side in one run.
func BenchmarkEndToEnd(b *testing.B) {
	testProbeInterval = gateway.DefaultConfig().ProbeInterval
	defer func() { testProbeInterval = 100 * time.Millisecond }()
	e := start(b, refengine.New())
	m := e.grid.Miners[0]
	cl := &minerapi.Client{HTTP: &http.Client{Transport: &epistula.Transport{Signer: e.grid.Validator}}}
	ctx := context.Background()
	var direct, viaGateway time.Duration
	viaMiner := func(spec fractal.Spec) time.Duration {
		start := time.Now()
		if _, err := cl.Generate(ctx, gridtest.Target(m), minerapi.GenerateRequest{RequestID: minerapi.NewRequestID(), Spec: spec}, nil); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	viaAPI := func(spec fractal.Spec) time.Duration {
		start := time.Now()
		body := fmt.Sprintf(`{"prompt": %q, "seed": %d}`, spec.Prompt, spec.Seed)
		req, _ := http.NewRequest("POST", e.url+"/v1/videos", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e.key)
		req.Header.Set("Prefer", "wait=60")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var v struct{ Status string }
		json.NewDecoder(resp.Body).Decode(&v)
		resp.Body.Close()
		if v.Status != "completed" {
			b.Fatalf("status %s", v.Status)
		}
		return time.Since(start)
	}
	for i := 0; i < b.N; i++ {
		spec := fractal.DefaultSpec(fmt.Sprintf("a red ball bouncing over the ocean at night %d", i), uint64(i))
		// Alternate which path goes first, so neither gains from the order.
		if i%2 == 0 {
			direct += viaMiner(spec)
			viaGateway += viaAPI(spec)
		} else {
			viaGateway += viaAPI(spec)
			direct += viaMiner(spec)
		}
	}
	b.ReportMetric(direct.Seconds()/float64(b.N), "miner-s/video")
	b.ReportMetric(viaGateway.Seconds()/float64(b.N), "gateway-s/video")
	b.ReportMetric(viaGateway.Seconds()/direct.Seconds(), "gateway/miner")
}
