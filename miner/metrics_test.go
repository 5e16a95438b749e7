package miner_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fractal-grid/fractal/minerapi"
	"github.com/fractal-grid/fractal/refengine"
)

// scrape returns the miner's /metrics page.
func scrape(t *testing.T, g *grid) string {
	t.Helper()
	resp, err := http.Get(g.target.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: status %d, %v", resp.StatusCode, err)
	}
	return string(b)
}

func TestMetricsCountJobs(t *testing.T) {
	g := newGrid(t, refengine.New(), nil)
	if _, err := client(g.validator).Generate(context.Background(), g.target, minerapi.GenerateRequest{RequestID: "job-m", Spec: smallSpec("a cat", 1)}, nil); err != nil {
		t.Fatal(err)
	}
	// The miner counts a job once its last record is written, just after
	// the client has read it.
	page := scrape(t, g)
	for deadline := time.Now().Add(2 * time.Second); !strings.Contains(page, `outcome="done"} 1`) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		page = scrape(t, g)
	}
	for _, series := range []string{
		`fractal_miner_jobs_total{outcome="done"} 1`,
		`fractal_miner_jobs_total{outcome="failed"} 0`,
		`fractal_miner_generation_seconds_count 1`,
		`fractal_miner_queue_depth 0`,
		`fractal_miner_running 0`,
	} {
		t.Run(series, func(t *testing.T) {
			if !strings.Contains(page, series+"\n") {
				t.Errorf("got no line %q in /metrics:\n%s", series, page)
			}
		})
	}
}
