package main

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
)

// runBenchCLI runs the command line and returns the exit status and outputs.
func runBenchCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestBenchRoutingJSON(t *testing.T) {
	code, out, errOut := runBenchCLI(t, "bench", "routing", "--json", "--jobs", "400", "--miners", "16", "--seed", "3")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var rep struct {
		Policies map[string]map[string]float64 `json:"policies"`
		Ratios   map[string]float64            `json:"ratios"`
		Params   map[string]any                `json:"params"`
	}
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, out)
	}
	if dec.More() {
		t.Errorf("output has more than one JSON value:\n%s", out)
	}
	wantPolicies := []string{"least_outstanding", "oracle", "p2c", "random", "round_robin", "sn29-best-of-three"}
	if got := slices.Sorted(maps.Keys(rep.Policies)); !slices.Equal(got, wantPolicies) {
		t.Fatalf("policies = %v, want %v", got, wantPolicies)
	}
	for name, figs := range rep.Policies {
		if got := slices.Sorted(maps.Keys(figs)); !slices.Equal(got, []string{"p50", "p95", "p99", "success"}) {
			t.Errorf("%s keys = %v, want p50 p95 p99 success", name, got)
		}
		if figs["p99"] <= 0 || figs["success"] <= 0 || figs["success"] > 1 {
			t.Errorf("%s = %v, want a positive p99 and success in (0, 1]", name, figs)
		}
	}
	for _, k := range []string{"p2c_random_p99", "p2c_round_robin_p99", "p2c_oracle_p99"} {
		if rep.Ratios[k] <= 0 {
			t.Errorf("ratio %s = %g, want positive", k, rep.Ratios[k])
		}
	}
	if got := rep.Ratios["p2c_oracle_p99"]; got != rep.Policies["p2c"]["p99"]/rep.Policies["oracle"]["p99"] {
		t.Errorf("p2c_oracle_p99 = %g, want p2c p99 ÷ oracle p99", got)
	}
	if rep.Params["jobs"] != 400.0 || rep.Params["miners"] != 16.0 {
		t.Errorf("params = %v, want jobs 400 and miners 16", rep.Params)
	}
}

func TestBenchRoutingTable(t *testing.T) {
	code, out, errOut := runBenchCLI(t, "bench", "routing", "--jobs", "200", "--miners", "8")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"random", "round_robin", "sn29-best-of-three", "least_outstanding", "p2c", "oracle", "p2c ÷ random", "p2c ÷ oracle"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestBenchRoutingScenarios(t *testing.T) {
	code, out, errOut := runBenchCLI(t, "bench", "routing", "--scenario", "throttle-4", "--jobs", "200", "--miners", "12")
	if code != 0 || !strings.Contains(out, "scenario throttle-4") || !strings.Contains(out, "12 miners") || !strings.Contains(out, "4 gateway(s)") {
		t.Errorf("--scenario throttle-4 --miners 12: exit %d, stderr %q, output:\n%s\nwant the scenario with 12 miners and 4 gateways", code, errOut, out)
	}
	code, out, errOut = runBenchCLI(t, "bench", "routing", "--scenario", "all", "--jobs", "100", "--miners", "24")
	if code != 0 {
		t.Fatalf("--scenario all: exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"uneven-1", "late-probes-4", "throttle-4", "heavy-tail-4", "far-region-4", "large-16", "p2c ÷ oracle"} {
		if !strings.Contains(out, want) {
			t.Errorf("--scenario all lacks %q:\n%s", want, out)
		}
	}
}

func TestBenchUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"no benchmark", []string{"bench"}},
		{"unknown benchmark", []string{"bench", "nope"}},
		{"bad flag", []string{"bench", "routing", "--nope"}},
		{"bad load", []string{"bench", "routing", "--load", "0"}},
		{"stray argument", []string{"bench", "routing", "extra"}},
		{"unknown scenario", []string{"bench", "routing", "--scenario", "nope"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, _, _ := runBenchCLI(t, tc.args...); code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
		})
	}
}
