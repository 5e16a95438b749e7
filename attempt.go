package fractal

import (
	"encoding/json"
	"fmt"
	"time"
)

// AttemptOutcome is how one dispatch of a job to a miner ended.
type AttemptOutcome string

// Attempt outcomes. Only a miner fault is the miner's doing: it counts
// towards the job's retry limit and against the miner on the grid map.
const (
	AttemptRunning    AttemptOutcome = ""            // not ended (or its dispatcher died before it could say)
	AttemptCompleted  AttemptOutcome = "completed"   // this attempt's result is the job's
	AttemptCancelled  AttemptOutcome = "cancelled"   // the owner cancelled the job meanwhile
	AttemptMinerFault AttemptOutcome = "miner_fault" // timeout, refusal, bad stream or failed check: retried elsewhere
	AttemptStoreFault AttemptOutcome = "store_fault" // the result could not be stored: the job runs again, nobody is blamed
	AttemptOver       AttemptOutcome = "over"        // the job had ended meanwhile (another run finished it)
)

// Valid reports whether o is one of the outcomes.
func (o AttemptOutcome) Valid() bool {
	switch o {
	case AttemptRunning, AttemptCompleted, AttemptCancelled, AttemptMinerFault, AttemptStoreFault, AttemptOver:
		return true
	}
	return false
}

// Attempt is one dispatch of a job to a miner. RequestID is the id the
// miner saw (never the job's id), so the gateway's, the miner's and the
// validator's records of one generation can be joined.
type Attempt struct {
	N         int            `json:"n"` // 1, 2, … in the order attempts started
	RequestID string         `json:"request_id"`
	Miner     MinerRef       `json:"miner"`
	Outcome   AttemptOutcome `json:"outcome,omitempty"`
	Error     string         `json:"error,omitempty"`
	Started   time.Time      `json:"started,omitzero"`
	Ended     time.Time      `json:"ended,omitzero"`
}

// AttemptLog is a job's attempts, oldest first.
type AttemptLog []Attempt

// UnmarshalJSON reads the log, or the bare count that records written
// before the log existed hold (as that many attempts of unknown outcome).
// An empty log reads as nil, however it was written.
func (l *AttemptLog) UnmarshalJSON(b []byte) error {
	var n int
	if err := json.Unmarshal(b, &n); err == nil && string(b) != "null" {
		if n < 0 || n > MaxJobAttempts {
			return Errorf("attempts", "must be between 0 and %d, got %d", MaxJobAttempts, n)
		}
		*l = nil
		for i := range n {
			*l = append(*l, Attempt{N: i + 1})
		}
		return nil
	}
	var a []Attempt
	if err := json.Unmarshal(b, &a); err != nil {
		return err
	}
	if len(a) == 0 {
		a = nil
	}
	*l = a
	return nil
}

func (l AttemptLog) validate() error {
	for i, a := range l {
		switch {
		case a.N != i+1:
			return Errorf("attempts", "attempt %d is numbered %d", i+1, a.N)
		case !a.Outcome.Valid():
			return Errorf("attempts", "attempt %d has unknown outcome %q", a.N, a.Outcome)
		case len(a.Error) > MaxJobErrorBytes:
			return Errorf("attempts", "attempt %d: error must be at most %d bytes", a.N, MaxJobErrorBytes)
		}
	}
	return nil
}

// Find returns the attempt that sent requestID, or nil.
func (l AttemptLog) Find(requestID string) *Attempt {
	for i := range l {
		if l[i].RequestID == requestID {
			return &l[i]
		}
	}
	return nil
}

// MinerFaults returns the hotkeys of the miners whose attempts failed by
// their own doing, in order, once each, and how many such attempts there were.
func (l AttemptLog) MinerFaults() (hotkeys []string, n int) {
	seen := map[string]bool{}
	for _, a := range l {
		if a.Outcome != AttemptMinerFault {
			continue
		}
		n++
		if !seen[a.Miner.Hotkey] {
			seen[a.Miner.Hotkey] = true
			hotkeys = append(hotkeys, a.Miner.Hotkey)
		}
	}
	return hotkeys, n
}

// StartAttempt moves the job to in progress on miner with a new attempt
// that sends requestID. Starting the same requestID again changes nothing,
// so a store write that is retried after a lost reply records it once.
func (j *Job) StartAttempt(requestID string, miner MinerRef, now time.Time) (*Attempt, error) {
	if a := j.Attempts.Find(requestID); a != nil {
		return a, nil
	}
	if len(j.Attempts) >= MaxJobAttempts {
		return nil, fmt.Errorf("job %s: %d attempts already: %w", j.ID, len(j.Attempts), ErrConflict)
	}
	if err := j.Transition(JobInProgress, now); err != nil {
		return nil, err
	}
	j.Progress = 0
	j.Miner = &miner
	j.Attempts = append(j.Attempts, Attempt{N: len(j.Attempts) + 1, RequestID: requestID, Miner: miner, Started: now})
	return &j.Attempts[len(j.Attempts)-1], nil
}

// EndAttempt records how the attempt that sent requestID ended. It changes
// no status: the caller transitions the job as the outcome requires.
func (j *Job) EndAttempt(requestID string, o AttemptOutcome, reason string, now time.Time) error {
	a := j.Attempts.Find(requestID)
	if a == nil {
		return fmt.Errorf("job %s: no attempt sent request %s: %w", j.ID, requestID, ErrNotFound)
	}
	if len(reason) > MaxJobErrorBytes {
		reason = reason[:MaxJobErrorBytes]
	}
	a.Outcome, a.Error, a.Ended = o, reason, now
	return nil
}
