package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/fractal-grid/fractal/internal/gatewaytest"
	"github.com/fractal-grid/fractal/internal/gridtest"
	"github.com/fractal-grid/fractal/internal/loadgen"
)

func TestBenchLoadRefusesAbsurdRuns(t *testing.T) {
	for _, args := range [][]string{
		{"--target", "http://127.0.0.1:1", "--key", "k", "--rate", "1e9"},
		{"--target", "http://127.0.0.1:1", "--key", "k", "--duration", "2h"},
		{"--target", "http://127.0.0.1:1", "--key", "k", "--rate", "-1"},
		{"--target", "127.0.0.1:1", "--key", "k"},
		{"--target", "http://127.0.0.1:1"},
		{"--target", "http://127.0.0.1:1", "--key", "k", "extra"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, _, errOut := runBenchCLI(t, append([]string{"bench", "load"}, args...)...)
			if code != 2 {
				t.Errorf("exit %d (%s), want 2", code, errOut)
			}
		})
	}
}

// TestBenchLoadJSON floods a gateway that has no miner: every request is
// answered, the accepted jobs stay queued, and the command says so in its
// JSON report and exits 1.
func TestBenchLoadJSON(t *testing.T) {
	gw := gatewaytest.Start(t, gridtest.New(t), nil)
	key := gatewaytest.APIKey(t, gw, "load", 5, 5, 100)
	start := time.Now()
	code, out, errOut := runBenchCLI(t, "bench", "load", "--target", gatewaytest.URL(gw), "--key", key,
		"--rate", "20", "--duration", "1s", "--wait", "500ms", "--json")
	if code != 1 || !strings.Contains(errOut, "unfinished") {
		t.Errorf("exit %d, stderr %q: want 1 for unfinished jobs", code, errOut)
	}
	var rep loadgen.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("output is not a JSON report: %v\n%s", err, out)
	}
	if rep.Sent != 20 || rep.Accepted < 5 || rep.Overloaded == 0 || rep.Unfinished != rep.Accepted || rep.Other != 0 {
		t.Errorf("report %+v: want 20 sent, the burst accepted and left queued, the rest 429", rep)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("took %s, want the run bounded by its duration and wait", took)
	}
}
