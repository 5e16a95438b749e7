package fractal

import (
	"fmt"
	"time"
)

// JobStatus is the life-cycle state of a gateway job.
//
//	queued ──▶ in_progress ──▶ completed
//	  │  ▲          │  ├──────▶ failed
//	  │  └──────────┘  └──────▶ cancelled
//	  └──▶ failed | cancelled
//
// in_progress returns to queued when a miner fails and the job is retried on
// another. completed, failed and cancelled are terminal.
type JobStatus string

// Job statuses, as the API spells them.
const (
	JobQueued     JobStatus = "queued"
	JobInProgress JobStatus = "in_progress"
	JobCompleted  JobStatus = "completed"
	JobFailed     JobStatus = "failed"
	JobCancelled  JobStatus = "cancelled"
)

// Limits of a Job's free-form fields.
const (
	MaxJobIDBytes          = 128
	MaxWebhookURLBytes     = 2048
	MaxIdempotencyKeyBytes = 255
	MaxJobErrorBytes       = 4096
	MaxJobAttempts         = 64 // dispatches recorded on one job
)

// ChallengeOwner owns the jobs a validator submits as challenges (Job.Pinned).
// API key ids are lower-case base32, so no key is this owner: the API never
// shows these jobs, and nobody can submit, cancel or be billed for one.
const ChallengeOwner = "_challenge"

// ChallengeQueueLimit bounds a challenge's time in the queue: a gateway
// that takes one created longer ago fails it without trying its miner, as
// its validator stopped waiting for it (or restarted meanwhile).
const ChallengeQueueLimit = time.Minute

// Valid reports whether s is one of the five statuses.
func (s JobStatus) Valid() bool {
	switch s {
	case JobQueued, JobInProgress, JobCompleted, JobFailed, JobCancelled:
		return true
	}
	return false
}

// Terminal reports whether no further transition is allowed from s.
func (s JobStatus) Terminal() bool {
	return s == JobCompleted || s == JobFailed || s == JobCancelled
}

// CanTransition returns nil when a job may go from s to next, and an error
// wrapping ErrConflict otherwise. Staying in the same status is always allowed
// (progress updates, retry bookkeeping).
func (s JobStatus) CanTransition(next JobStatus) error {
	if !next.Valid() {
		return Errorf("status", "unknown status %q", next)
	}
	if s == next {
		return nil
	}
	ok := false
	switch s {
	case JobQueued:
		ok = next == JobInProgress || next == JobFailed || next == JobCancelled
	case JobInProgress:
		ok = true // to queued (retry) or any terminal status
	}
	if !ok {
		return fmt.Errorf("job status %s cannot become %s: %w", s, next, ErrConflict)
	}
	return nil
}

// MinerRef names the miner a job was dispatched to.
type MinerRef struct {
	UID    uint16 `json:"uid"`
	Hotkey string `json:"hotkey"` // SS58
}

// Timings are the measured phases of a job. Zero means not (yet) measured.
type Timings struct {
	Queue         time.Duration `json:"queue_ns,omitempty"`          // created → dispatched to the miner that finished it
	Accept        time.Duration `json:"accept_ns,omitempty"`         // dispatched → the miner accepted
	FirstProgress time.Duration `json:"first_progress_ns,omitempty"` // dispatched → first progress report
	Generate      time.Duration `json:"generate_ns,omitempty"`       // dispatched → result received
	Total         time.Duration `json:"total_ns,omitempty"`          // created → finished
}

// Job is one request for a video accepted by the gateway.
type Job struct {
	ID             string      `json:"id"`    // [A-Za-z0-9_-]{1,128}; time-ordered IDs list newest first
	Owner          string      `json:"owner"` // API key id, same alphabet as ID
	Spec           Spec        `json:"spec"`
	Status         JobStatus   `json:"status"`
	Progress       int         `json:"progress"`                 // 0–100
	Attempts       AttemptLog  `json:"attempts"`                 // dispatches so far, oldest first
	ResultAttempt  int         `json:"result_attempt,omitempty"` // N of the attempt whose frames a completed job keeps; 0 before it existed
	Miner          *MinerRef   `json:"miner,omitempty"`
	Error          string      `json:"error,omitempty"`
	WebhookURL     string      `json:"webhook_url,omitempty"`
	IdempotencyKey string      `json:"idempotency_key,omitempty"`
	RemixedFrom    string      `json:"remixed_from,omitempty"` // the job whose seed and shape this one took with a new prompt
	Created        time.Time   `json:"created"`
	Updated        time.Time   `json:"updated"`
	Started        time.Time   `json:"started,omitzero"`
	Finished       time.Time   `json:"finished,omitzero"`
	Commitment     *Commitment `json:"commitment,omitempty"`
	Timings        Timings     `json:"timings"`
	// Pinned is the one miner a validator's challenge runs on: a gateway
	// dispatches it there whatever the router would choose, and a miner
	// fault fails it instead of trying another miner. Only ChallengeOwner's
	// jobs are pinned.
	Pinned *MinerRef `json:"pinned,omitempty"`
	// Deadline is how long a challenge's miner has to answer once sent,
	// the validator's deadline, which the gateway holds the attempt to;
	// zero: the gateway's own attempt timeout.
	Deadline time.Duration `json:"deadline_ns,omitempty"`
}

// NewChallenge returns a queued job pinned to miner, owned by
// ChallengeOwner, created at now, whose miner has deadline to answer once
// sent (zero: the gateway's attempt timeout).
func NewChallenge(id string, miner MinerRef, spec Spec, deadline time.Duration, now time.Time) *Job {
	j := NewJob(id, ChallengeOwner, spec, now)
	j.Pinned, j.Deadline = &miner, deadline
	return j
}

// NewJob returns a queued job created at now.
func NewJob(id, owner string, spec Spec, now time.Time) *Job {
	return &Job{ID: id, Owner: owner, Spec: spec, Status: JobQueued, Created: now, Updated: now}
}

// Validate returns the first problem of the job as a *FieldError.
func (j *Job) Validate() error {
	if err := ValidateToken("id", j.ID); err != nil {
		return err
	}
	if err := ValidateToken("owner", j.Owner); err != nil {
		return err
	}
	if err := j.Spec.CheckBounds(); err != nil {
		return err
	}
	switch {
	case !j.Status.Valid():
		return Errorf("status", "unknown status %q", j.Status)
	case j.Progress < 0 || j.Progress > 100:
		return Errorf("progress", "must be between 0 and 100, got %d", j.Progress)
	case j.Status == JobCompleted && j.Progress != 100:
		return Errorf("progress", "must be 100 when completed, got %d", j.Progress)
	case len(j.Attempts) > MaxJobAttempts:
		return Errorf("attempts", "must be at most %d, got %d", MaxJobAttempts, len(j.Attempts))
	case j.ResultAttempt < 0 || j.ResultAttempt > len(j.Attempts):
		return Errorf("result_attempt", "must be between 0 and the attempts (%d), got %d", len(j.Attempts), j.ResultAttempt)
	case j.Attempts.validate() != nil:
		return j.Attempts.validate()
	case len(j.Error) > MaxJobErrorBytes:
		return Errorf("error", "must be at most %d bytes, got %d", MaxJobErrorBytes, len(j.Error))
	case len(j.WebhookURL) > MaxWebhookURLBytes:
		return Errorf("webhook_url", "must be at most %d bytes, got %d", MaxWebhookURLBytes, len(j.WebhookURL))
	case len(j.IdempotencyKey) > MaxIdempotencyKeyBytes:
		return Errorf("idempotency_key", "must be at most %d bytes, got %d", MaxIdempotencyKeyBytes, len(j.IdempotencyKey))
	case j.RemixedFrom != "" && ValidateToken("remixed_from", j.RemixedFrom) != nil:
		return ValidateToken("remixed_from", j.RemixedFrom)
	case j.Created.IsZero():
		return Errorf("created", "must be set")
	case j.Updated.Before(j.Created):
		return Errorf("updated", "must not be before created")
	}
	return j.validatePin()
}

// validatePin checks that a job is pinned exactly when ChallengeOwner owns
// it, and that a challenge carries nothing a user's job sends elsewhere.
func (j *Job) validatePin() error {
	switch {
	case j.Pinned == nil && j.Owner == ChallengeOwner:
		return Errorf("pinned", "a job of owner %s must be pinned to a miner", ChallengeOwner)
	case j.Pinned == nil && j.Deadline != 0:
		return Errorf("deadline", "only a challenge has a deadline of its own")
	case j.Pinned == nil:
		return nil
	case j.Deadline < 0:
		return Errorf("deadline", "must not be negative, got %s", j.Deadline)
	case j.Owner != ChallengeOwner:
		return Errorf("pinned", "only owner %s's jobs are pinned, not %q's", ChallengeOwner, j.Owner)
	case j.Pinned.Hotkey == "":
		return Errorf("pinned", "names no miner")
	case j.WebhookURL != "" || j.IdempotencyKey != "" || j.RemixedFrom != "":
		return Errorf("pinned", "a challenge has no webhook, idempotency key or source video")
	}
	return nil
}

// IsChallenge reports whether j is a validator's challenge.
func (j *Job) IsChallenge() bool { return j.Pinned != nil }

// ValidateChange checks that j is a valid successor of prev: the identity,
// owner, spec, idempotency key and creation time are unchanged, the status
// change is allowed and attempts never decrease.
func (j *Job) ValidateChange(prev *Job) error {
	switch {
	case j.ID != prev.ID:
		return fmt.Errorf("job %s: id changed to %q: %w", prev.ID, j.ID, ErrConflict)
	case j.Owner != prev.Owner:
		return fmt.Errorf("job %s: owner changed: %w", prev.ID, ErrConflict)
	case j.Spec != prev.Spec:
		return fmt.Errorf("job %s: spec changed: %w", prev.ID, ErrConflict)
	case j.IdempotencyKey != prev.IdempotencyKey:
		return fmt.Errorf("job %s: idempotency key changed: %w", prev.ID, ErrConflict)
	case j.RemixedFrom != prev.RemixedFrom:
		return fmt.Errorf("job %s: remixed_from changed: %w", prev.ID, ErrConflict)
	case (j.Pinned == nil) != (prev.Pinned == nil) || j.Pinned != nil && *j.Pinned != *prev.Pinned || j.Deadline != prev.Deadline:
		return fmt.Errorf("job %s: pinned miner or deadline changed: %w", prev.ID, ErrConflict)
	case !j.Created.Equal(prev.Created):
		return fmt.Errorf("job %s: created time changed: %w", prev.ID, ErrConflict)
	case len(j.Attempts) < len(prev.Attempts):
		return fmt.Errorf("job %s: attempts went from %d to %d: %w", prev.ID, len(prev.Attempts), len(j.Attempts), ErrConflict)
	}
	if err := prev.Status.CanTransition(j.Status); err != nil {
		return fmt.Errorf("job %s: %w", prev.ID, err)
	}
	return j.Validate()
}

// Transition moves the job to status next at now, stamping Updated, Started
// (first time in progress) and Finished (terminal), setting Progress to 100
// on completion and back to 0 when a job is queued again.
func (j *Job) Transition(next JobStatus, now time.Time) error {
	if err := j.Status.CanTransition(next); err != nil {
		return fmt.Errorf("job %s: %w", j.ID, err)
	}
	prev := j.Status
	j.Status = next
	j.Updated = now
	switch {
	case next == JobInProgress && j.Started.IsZero():
		j.Started = now
	case next == JobQueued && prev == JobInProgress:
		j.Progress = 0
	case next.Terminal() && prev != next:
		j.Finished = now
		if next == JobCompleted {
			j.Progress = 100
		}
	}
	return nil
}

// ValidateToken checks an identifier used as a store key segment: 1–128
// bytes of [A-Za-z0-9_-].
func ValidateToken(field, s string) error {
	if len(s) == 0 || len(s) > MaxJobIDBytes {
		return Errorf(field, "must be 1–%d bytes of [A-Za-z0-9_-], got %d bytes", MaxJobIDBytes, len(s))
	}
	for i := 0; i < len(s); i++ {
		if !isTokenByte(s[i]) {
			return Errorf(field, "must contain only [A-Za-z0-9_-], found %q at byte %d", s[i], i)
		}
	}
	return nil
}

func isTokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}
