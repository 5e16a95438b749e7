package loadgen_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/internal/gatewaytest"
	"github.com/fractal-grid/fractal/internal/gridtest"
	"github.com/fractal-grid/fractal/internal/loadgen"
	"github.com/fractal-grid/fractal/refengine"
)

func TestValidateRefusesAbsurdRuns(t *testing.T) {
	for _, tc := range []struct {
		name  string
		mod   func(*loadgen.Config)
		field string
	}{
		{"no target", func(c *loadgen.Config) { c.Target = "" }, "target"},
		{"ftp target", func(c *loadgen.Config) { c.Target = "ftp://x" }, "target"},
		{"no key", func(c *loadgen.Config) { c.Key = "" }, "key"},
		{"zero rate", func(c *loadgen.Config) { c.Rate = 0 }, "rate"},
		{"huge rate", func(c *loadgen.Config) { c.Rate = 1e9 }, "rate"},
		{"hour", func(c *loadgen.Config) { c.Duration = time.Hour }, "duration"},
		{"too many requests", func(c *loadgen.Config) { c.Rate, c.Duration = 5000, 10*time.Minute }, "rate"},
		{"negative wait", func(c *loadgen.Config) { c.Wait = -time.Second }, "wait"},
		{"no body", func(c *loadgen.Config) { c.Body = nil }, "body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := loadgen.DefaultConfig("http://127.0.0.1:1", "fk_x_y")
			tc.mod(&cfg)
			var fe *fractal.FieldError
			if err := cfg.Validate(); !errors.As(err, &fe) || fe.Field != tc.field {
				t.Errorf("got %v, want a field error for %s", err, tc.field)
			}
		})
	}
	if err := loadgen.DefaultConfig("http://127.0.0.1:1", "fk_x_y").Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

// TestRunAgainstGateway floods a real gateway over one miner past its key's
// burst: some requests are accepted, the rest get 429 with Retry-After, and
// every accepted job completes.
func TestRunAgainstGateway(t *testing.T) {
	url, key := startGateway(t, 2, 4)
	cfg := loadgen.DefaultConfig(url, key)
	cfg.Rate, cfg.Duration, cfg.Wait, cfg.PID = 40, 2*time.Second, 60*time.Second, os.Getpid()
	rep, err := loadgen.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", rep)
	if err := rep.OK(); err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 80 || rep.Accepted+rep.Overloaded+rep.Other+rep.Dropped != rep.Sent {
		t.Errorf("sent %d = accepted %d + 429 %d + other %d + dropped %d, want 80 in all",
			rep.Sent, rep.Accepted, rep.Overloaded, rep.Other, rep.Dropped)
	}
	if rep.Accepted == 0 || rep.Overloaded == 0 {
		t.Errorf("accepted %d, 429 %d: want some of each past the key's limits", rep.Accepted, rep.Overloaded)
	}
	if rep.Completed != rep.Accepted {
		t.Errorf("completed %d of %d accepted", rep.Completed, rep.Accepted)
	}
	if rep.Latency.P50 <= 0 || rep.Latency.Max < rep.Latency.P99 || rep.PeakRSSBytes <= 0 {
		t.Errorf("latency %+v, peak RSS %d: want measured figures", rep.Latency, rep.PeakRSSBytes)
	}
	if !strings.Contains(rep.String(), "accepted jobs: completed") {
		t.Errorf("report text %q", rep)
	}
}

// startGateway serves a gateway over one miner; its key allows rate
// requests per second after a burst of 2·rate and active unfinished jobs.
func startGateway(t *testing.T, rate float64, active int) (url, key string) {
	t.Helper()
	g := gridtest.New(t)
	g.AddMiner(t, refengine.New(), nil)
	gw := gatewaytest.Start(t, g, nil)
	return gatewaytest.URL(gw), gatewaytest.APIKey(t, gw, "load", rate, int(2*rate), active)
}
