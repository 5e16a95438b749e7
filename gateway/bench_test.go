package gateway_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fractal-grid/fractal/gateway"
	"github.com/fractal-grid/fractal/internal/gridtest"
	"github.com/fractal-grid/fractal/internal/natstest"
	"github.com/fractal-grid/fractal/jetstream"
)

// BenchmarkCreate measures the accepted+persisted jobs per second of the
// POST /v1/videos path: authentication, rate limit, validation, the job
// stored and queued on the embedded JetStream store, the 202 written. The
// key's limits are out of the way and no miner serves, so jobs stay queued.
//
//	go test ./gateway -run '^$' -bench Create -benchtime 20000x
func BenchmarkCreate(b *testing.B) {
	benchCreate(b, jetstream.DefaultConfig(b.TempDir()))
}

// BenchmarkCreateCluster is BenchmarkCreate on a three-node cluster on
// loopback with three replicas of every stream, as docs/scale.md deploys.
func BenchmarkCreateCluster(b *testing.B) {
	cfg := jetstream.DefaultConfig("")
	cfg.URL, cfg.Replicas = natstest.StartCluster(b), 3
	benchCreate(b, cfg)
}

// benchGateway opens a gateway with no miners on a store with cfg, and
// returns it with an API key whose limits are out of the way.
func benchGateway(b *testing.B, cfg jetstream.Config) (*gateway.Gateway, string) {
	ctx := context.Background()
	g := gridtest.New(b)
	st, err := jetstream.Open(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	kv, err := st.KV(ctx, "gateway", 0)
	if err != nil {
		b.Fatal(err)
	}
	gw := gateway.New()
	gw.Config.Dispatchers = 1
	gw.Jobs, gw.Queue, gw.Blobs, gw.KV = st.Jobs(), st.Queue(), st.Blobs(), kv
	gw.Chain, gw.Hotkey = g.Chain, g.Validator
	if err := gw.Open(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { gw.Close() })
	_, key, err := gw.Keys().Create(ctx, "bench", 1e9, 1e9, 1e9)
	if err != nil {
		b.Fatal(err)
	}
	return gw, key
}

func benchCreate(b *testing.B, cfg jetstream.Config) {
	gw, key := benchGateway(b, cfg)
	h := gw.Handler()
	body := `{"prompt": "a red ball bouncing over the ocean at night", "size": "64x64", "frames": 4, "steps": 6}`
	var failed atomic.Int64
	b.SetParallelism(16) // each request waits on the store; overlap them
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, "/v1/videos", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+key)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusAccepted {
				failed.Add(1)
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "jobs/s")
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d creates not accepted", n, b.N)
	}
}
