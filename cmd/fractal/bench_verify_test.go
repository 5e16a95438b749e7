package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestBenchVerifyJSON(t *testing.T) {
	// A live suite of real miners, one challenge each: about ten seconds.
	code, out, errOut := runBenchCLI(t, "bench", "verify", "--json", "--challenges", "1", "--honest", "1",
		"--trials", "2", "--verifications", "40", "--cost-checks", "2", "--tolerant=false", "--hidden-jobs", "20")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var rep struct {
		Strategies []struct {
			Name       string `json:"name"`
			Challenges int    `json:"challenges"`
			Detected   int    `json:"detected"`
		} `json:"strategies"`
		FalsePositives *int     `json:"false_positives"`
		Verifications  int      `json:"verifications"`
		CostRatio      *float64 `json:"cost_ratio"`
		Hidden         []struct {
			Name string `json:"name"`
			Jobs int    `json:"jobs"`
		} `json:"hidden_strategies"`
		HiddenLive []struct {
			Name       string `json:"name"`
			Verified   int    `json:"verified"`
			Unanswered int    `json:"unanswered"`
		} `json:"hidden_live"`
		SweepCost *struct {
			Measured struct {
				Sweeps           int     `json:"sweeps"`
				ChallengeGPUSecs float64 `json:"challenge_gpu_s"`
			} `json:"measured"`
			Profiles []struct {
				MeasuredShare float64 `json:"measured_share"`
				EstimateShare float64 `json:"estimate_share"`
			} `json:"profiles"`
		} `json:"sweep_cost"`
		ClassifierAUC float64            `json:"classifier_auc"`
		Unlinked      map[string]float64 `json:"sybil_unlinked_by_hotkeys"`
		Suite         struct {
			Users *struct {
				Submitted map[string]int `json:"submitted"`
			} `json:"users"`
		} `json:"suite"`
		SybilSuite *struct {
			Miners []struct {
				Strategy string `json:"strategy"`
			} `json:"miners"`
		} `json:"sybil_suite"`
		Goals map[string]struct {
			Met bool `json:"met"`
		} `json:"goals"`
	}
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, out)
	}
	if dec.More() {
		t.Errorf("output has more than one JSON value:\n%s", out)
	}
	if rep.FalsePositives == nil || *rep.FalsePositives != 0 || rep.Verifications != 40 {
		t.Errorf("false_positives %v over %d verifications, want 0 over 40", rep.FalsePositives, rep.Verifications)
	}
	if rep.CostRatio == nil || *rep.CostRatio <= 0 || *rep.CostRatio >= 1 {
		t.Errorf("cost_ratio %v, want a share of a generation", rep.CostRatio)
	}
	seen := map[string]bool{}
	for _, s := range rep.Strategies {
		seen[s.Name] = true
		if s.Challenges < 1 {
			t.Errorf("%s: %d challenges, want at least 1", s.Name, s.Challenges)
		}
		if s.Name == "lazy" && s.Detected != s.Challenges {
			t.Errorf("lazy: detected %d of %d, want all", s.Detected, s.Challenges)
		}
	}
	for _, name := range []string{"honest", "lazy", "fake-frames", "replay", "skip-half", "skip-quarter", "low-steps", "wrong-model", "sybil", "sybil-unlinked-3", "slow", "flaky"} {
		if !seen[name] {
			t.Errorf("no figures for %s", name)
		}
	}
	if len(rep.Hidden) != 6 || rep.Hidden[0].Jobs != 20 {
		t.Errorf("hidden_strategies %+v, want six of 20 jobs each", rep.Hidden)
	}
	// The hiding cheats live: each challenged once at least.
	if len(rep.HiddenLive) != 6 {
		t.Errorf("hidden_live %+v, want six", rep.HiddenLive)
	}
	for _, h := range rep.HiddenLive {
		if h.Verified+h.Unanswered < 1 {
			t.Errorf("hidden_live %s: %d verified, %d unanswered, want a challenge at least", h.Name, h.Verified, h.Unanswered)
		}
	}
	if c := rep.SweepCost; c == nil || c.Measured.Sweeps != 1 || c.Measured.ChallengeGPUSecs <= 0 || len(c.Profiles) == 0 ||
		c.Profiles[0].MeasuredShare <= 0 || c.Profiles[0].EstimateShare <= 0 {
		t.Errorf("sweep_cost %+v, want the one sweep's GPU time and its mainnet shares", c)
	}
	// The main suite's unlinkable Sybil and the Sybil suite's three, each
	// with its hotkeys.
	for _, k := range []string{"3", "sybils/2", "sybils/3", "sybils/8"} {
		if _, ok := rep.Unlinked[k]; !ok {
			t.Errorf("sybil_unlinked_by_hotkeys %v: no %q", rep.Unlinked, k)
		}
	}
	if u := rep.Suite.Users; u == nil || u.Submitted["validator"]+u.Submitted["replica"] < 1 {
		t.Errorf("suite's users %+v, want jobs submitted through the gateways", u)
	}
	if rep.SybilSuite == nil {
		t.Fatal("no sybil_suite")
	}
	hotkeys := map[string]int{}
	for _, m := range rep.SybilSuite.Miners {
		hotkeys[m.Strategy]++
	}
	if hotkeys["honest"] != 1 || hotkeys["sybil-unlinked-2"] != 2 || hotkeys["sybil-unlinked-8"] != 8 || hotkeys["lazy"] != 0 {
		t.Errorf("Sybil suite's hotkeys by strategy %v, want the honest miner, the Sybils and no cheat", hotkeys)
	}
	if rep.ClassifierAUC <= 0 || rep.ClassifierAUC >= 1 {
		t.Errorf("classifier_auc %g, want an AUC", rep.ClassifierAUC)
	}
	if len(rep.Goals) != 7 {
		t.Errorf("goals %v, want seven", rep.Goals)
	}
}
