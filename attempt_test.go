package fractal

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestAttemptLogLegacyCount(t *testing.T) {
	var j Job
	if err := json.Unmarshal([]byte(`{"attempts": 2}`), &j); err != nil {
		t.Fatal(err)
	}
	if len(j.Attempts) != 2 || j.Attempts[0].N != 1 || j.Attempts[1].N != 2 {
		t.Fatalf("got %+v, want two numbered attempts", j.Attempts)
	}
	if err := json.Unmarshal([]byte(`{"attempts": -1}`), &j); !errors.Is(err, ErrInvalid) {
		t.Fatalf("got %v for a negative count, want %v", err, ErrInvalid)
	}
	b, err := json.Marshal(Job{Attempts: AttemptLog{{N: 1, RequestID: "r1", Outcome: AttemptMinerFault}}})
	if err != nil {
		t.Fatal(err)
	}
	var back Job
	if err := json.Unmarshal(b, &back); err != nil || len(back.Attempts) != 1 || back.Attempts[0].RequestID != "r1" || back.Attempts[0].Outcome != AttemptMinerFault {
		t.Fatalf("got %+v (%v), want the attempt back", back.Attempts, err)
	}
}

func TestJobAttempts(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	j := NewJob("job-1", "key-a", DefaultSpec("a red ball", 1), t0)
	a, b := MinerRef{UID: 1, Hotkey: "hk-a"}, MinerRef{UID: 2, Hotkey: "hk-b"}
	if _, err := j.StartAttempt("r1", a, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	// A retried write of the same start records it once.
	if _, err := j.StartAttempt("r1", a, t0.Add(2*time.Second)); err != nil || len(j.Attempts) != 1 {
		t.Fatalf("got %d attempts (%v) after starting r1 twice, want 1", len(j.Attempts), err)
	}
	if err := j.EndAttempt("r1", AttemptMinerFault, "timeout", t0.Add(3*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := j.Transition(JobQueued, t0.Add(3*time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := j.StartAttempt("r2", b, t0.Add(4*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := j.EndAttempt("r9", AttemptCompleted, "", t0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("got %v ending an unknown request, want %v", err, ErrNotFound)
	}
	if !j.Started.Equal(t0.Add(time.Second)) || j.Miner.Hotkey != "hk-b" || j.Attempts[1].N != 2 {
		t.Fatalf("got started %v, miner %v, attempts %+v; want the first start kept and the second attempt numbered 2", j.Started, j.Miner, j.Attempts)
	}
	if miners, n := j.Attempts.MinerFaults(); n != 1 || len(miners) != 1 || miners[0] != "hk-a" {
		t.Fatalf("got miner faults %v (%d), want [hk-a] (1)", miners, n)
	}
	if err := j.Validate(); err != nil {
		t.Fatal(err)
	}
	j.Attempts = make(AttemptLog, MaxJobAttempts)
	for i := range j.Attempts {
		j.Attempts[i].N = i + 1
	}
	if _, err := j.StartAttempt("r3", a, t0); !errors.Is(err, ErrConflict) {
		t.Fatalf("got %v past %d attempts, want %v", err, MaxJobAttempts, ErrConflict)
	}
}
