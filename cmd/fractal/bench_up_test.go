package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
)

func TestBenchUpJSON(t *testing.T) {
	var out, errb bytes.Buffer
	args := []string{"bench", "up", "--miners", "1", "--jobs", "2", "--size", "64x64", "--frames", "4", "--steps", "6", "--json"}
	if code := Run(context.Background(), args, nil, &out, &errb); code != 0 {
		t.Fatalf("exit status %d, want 0: %s", code, errb.String())
	}
	var rep map[string]any
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, out.String())
	}
	for _, k := range []string{"ready_s", "engine_s", "job_s", "mp4_s", "ratio", "mp4_ratio"} {
		if v, ok := rep[k].(float64); !ok || v <= 0 {
			t.Errorf("%s: got %v, want a positive number", k, rep[k])
		}
	}
	if rep["jobs"] != float64(2) {
		t.Errorf("jobs: got %v, want 2", rep["jobs"])
	}
}

func TestBenchUpRefusesBadSpec(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Run(context.Background(), []string{"bench", "up", "--size", "10x10"}, nil, &out, &errb); code != 2 {
		t.Errorf("exit status %d, want 2 for a bad size: %s", code, errb.String())
	}
}
