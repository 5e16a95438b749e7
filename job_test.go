package fractal

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestJobStatusCanTransition(t *testing.T) {
	all := []JobStatus{JobQueued, JobInProgress, JobCompleted, JobFailed, JobCancelled}
	allowed := map[JobStatus][]JobStatus{
		JobQueued:     {JobQueued, JobInProgress, JobFailed, JobCancelled},
		JobInProgress: {JobQueued, JobInProgress, JobCompleted, JobFailed, JobCancelled},
		JobCompleted:  {JobCompleted},
		JobFailed:     {JobFailed},
		JobCancelled:  {JobCancelled},
	}
	for _, from := range all {
		for _, to := range all {
			t.Run(string(from)+"→"+string(to), func(t *testing.T) {
				want := false
				for _, a := range allowed[from] {
					want = want || a == to
				}
				err := from.CanTransition(to)
				if got := err == nil; got != want {
					t.Fatalf("got allowed=%v (%v), want %v", got, err, want)
				}
				if err != nil && !errors.Is(err, ErrConflict) {
					t.Fatalf("got %v, want %v", err, ErrConflict)
				}
			})
		}
	}
	if err := JobQueued.CanTransition("running"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("got %v for an unknown status, want %v", err, ErrInvalid)
	}
}

func TestJobTransition(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	j := NewJob("job-1", "key-a", DefaultSpec("a red ball", 1), t0)
	steps := []struct {
		to  JobStatus
		at  time.Duration
		chk func(*Job) bool
	}{
		{JobInProgress, 1 * time.Second, func(j *Job) bool { return j.Started.Equal(t0.Add(time.Second)) && j.Finished.IsZero() }},
		{JobQueued, 2 * time.Second, func(j *Job) bool { return j.Progress == 0 }},
		{JobInProgress, 3 * time.Second, func(j *Job) bool { return j.Started.Equal(t0.Add(time.Second)) }},
		{JobCompleted, 4 * time.Second, func(j *Job) bool { return j.Progress == 100 && j.Finished.Equal(t0.Add(4*time.Second)) }},
	}
	for _, s := range steps {
		if s.to == JobQueued {
			j.Progress = 40
		}
		if err := j.Transition(s.to, t0.Add(s.at)); err != nil {
			t.Fatalf("to %s: %v", s.to, err)
		}
		if j.Status != s.to || !j.Updated.Equal(t0.Add(s.at)) || !s.chk(j) {
			t.Fatalf("to %s: got %+v", s.to, j)
		}
		if err := j.Validate(); err != nil {
			t.Fatalf("to %s: got invalid job: %v", s.to, err)
		}
	}
	if err := j.Transition(JobQueued, t0.Add(5*time.Second)); !errors.Is(err, ErrConflict) {
		t.Fatalf("got %v reopening a completed job, want %v", err, ErrConflict)
	}
}

func TestJobValidate(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		mutate func(*Job)
		field  string // "" when valid
	}{
		{"valid", func(j *Job) {}, ""},
		{"uuid id", func(j *Job) { j.ID = "0192f0c1-7b5e-7c3a-9a4e-3f1d2b6c8e90" }, ""},
		{"empty id", func(j *Job) { j.ID = "" }, "id"},
		{"dotted id", func(j *Job) { j.ID = "a.b" }, "id"},
		{"long id", func(j *Job) { j.ID = strings.Repeat("a", 129) }, "id"},
		{"bad owner", func(j *Job) { j.Owner = "key a" }, "owner"},
		{"bad spec", func(j *Job) { j.Spec.Width = 65 }, "width"},
		{"bad status", func(j *Job) { j.Status = "done" }, "status"},
		{"progress", func(j *Job) { j.Progress = 101 }, "progress"},
		{"completed below 100", func(j *Job) { j.Status = JobCompleted; j.Progress = 99 }, "progress"},
		{"attempts misnumbered", func(j *Job) { j.Attempts = AttemptLog{{N: 2}} }, "attempts"},
		{"attempt outcome", func(j *Job) { j.Attempts = AttemptLog{{N: 1, Outcome: "lost"}} }, "attempts"},
		{"too many attempts", func(j *Job) { j.Attempts = make(AttemptLog, MaxJobAttempts+1) }, "attempts"},
		{"result attempt above attempts", func(j *Job) { j.ResultAttempt = len(j.Attempts) + 1 }, "result_attempt"},
		{"negative result attempt", func(j *Job) { j.ResultAttempt = -1 }, "result_attempt"},
		{"webhook", func(j *Job) { j.WebhookURL = strings.Repeat("h", MaxWebhookURLBytes+1) }, "webhook_url"},
		{"idempotency key", func(j *Job) { j.IdempotencyKey = strings.Repeat("k", MaxIdempotencyKeyBytes+1) }, "idempotency_key"},
		{"error", func(j *Job) { j.Error = strings.Repeat("e", MaxJobErrorBytes+1) }, "error"},
		{"no created", func(j *Job) { j.Created = time.Time{} }, "created"},
		{"updated before created", func(j *Job) { j.Updated = t0.Add(-time.Second) }, "updated"},
		{"challenge", func(j *Job) { j.Owner, j.Pinned = ChallengeOwner, &MinerRef{UID: 3, Hotkey: "5Miner"} }, ""},
		{"challenge owner unpinned", func(j *Job) { j.Owner = ChallengeOwner }, "pinned"},
		{"user's job pinned", func(j *Job) { j.Pinned = &MinerRef{Hotkey: "5Miner"} }, "pinned"},
		{"pinned to nobody", func(j *Job) { j.Owner, j.Pinned = ChallengeOwner, &MinerRef{UID: 3} }, "pinned"},
		{"user's job with a deadline", func(j *Job) { j.Deadline = time.Second }, "deadline"},
		{"negative deadline", func(j *Job) {
			j.Owner, j.Pinned, j.Deadline = ChallengeOwner, &MinerRef{Hotkey: "5Miner"}, -time.Second
		}, "deadline"},
		{"challenge with a webhook", func(j *Job) {
			j.Owner, j.Pinned, j.WebhookURL = ChallengeOwner, &MinerRef{Hotkey: "5Miner"}, "https://example.com/hook"
		}, "pinned"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := NewJob("job-1", "key-a", DefaultSpec("a red ball", 1), t0)
			tt.mutate(j)
			err := j.Validate()
			var fe *FieldError
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("got %v, want valid", err)
			case tt.field != "" && (!errors.As(err, &fe) || fe.Field != tt.field):
				t.Fatalf("got %v, want a field error on %s", err, tt.field)
			}
		})
	}
}

func TestJobValidateChange(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		mutate func(*Job)
		want   error
	}{
		{"progress", func(j *Job) { j.Status = JobInProgress; j.Progress = 30 }, nil},
		{"id", func(j *Job) { j.ID = "job-2" }, ErrConflict},
		{"owner", func(j *Job) { j.Owner = "key-b" }, ErrConflict},
		{"spec", func(j *Job) { j.Spec.Steps = 5 }, ErrConflict},
		{"idempotency key", func(j *Job) { j.IdempotencyKey = "other" }, ErrConflict},
		{"created", func(j *Job) { j.Created = t0.Add(-time.Hour) }, ErrConflict},
		{"attempts down", func(j *Job) { j.Attempts = nil }, ErrConflict},
		{"queued to completed", func(j *Job) { j.Status = JobCompleted; j.Progress = 100 }, ErrConflict},
		{"invalid result", func(j *Job) { j.Progress = 200 }, ErrInvalid},
		{"pinned", func(j *Job) { j.Owner, j.Pinned = ChallengeOwner, &MinerRef{Hotkey: "5Miner"} }, ErrConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prev := NewJob("job-1", "key-a", DefaultSpec("a red ball", 1), t0)
			prev.Attempts = AttemptLog{{N: 1, RequestID: "r1"}}
			next := *prev
			tt.mutate(&next)
			if err := next.ValidateChange(prev); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestValidateKey(t *testing.T) {
	tests := []struct {
		key   string
		valid bool
	}{
		{"score.12", true},
		{"apikey.sha256=Zm9v", true},
		{"grid/map.5F3sa2TJ", true},
		{"a", true},
		{"", false},
		{".a", false},
		{"a.", false},
		{"a..b", false},
		{"a b", false},
		{"a.*", false},
		{"a.>", false},
		{"ü", false},
		{strings.Repeat("a", MaxKeyBytes+1), false},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			err := ValidateKey(tt.key)
			if (err == nil) != tt.valid || (err != nil && !errors.Is(err, ErrInvalid)) {
				t.Fatalf("got %v, want valid=%v", err, tt.valid)
			}
		})
	}
	for prefix, valid := range map[string]bool{"": true, "score.": true, "a.b.": true, "score": false, ".": false, "a..": false} {
		if err := ValidateKeyPrefix(prefix); (err == nil) != valid {
			t.Errorf("prefix %q: got %v, want valid=%v", prefix, err, valid)
		}
	}
}

// TestChallengePinChange: a challenge keeps its miner for good.
func TestChallengePinChange(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	prev := NewChallenge("challenge-1", MinerRef{UID: 3, Hotkey: "5Miner"}, DefaultSpec("a red ball", 1), 20*time.Second, t0)
	if err := prev.Validate(); err != nil || !prev.IsChallenge() {
		t.Fatalf("a new challenge: %v (challenge %v), want valid", err, prev.IsChallenge())
	}
	for _, c := range []struct {
		name string
		pin  *MinerRef
		want error
	}{
		{"same", &MinerRef{UID: 3, Hotkey: "5Miner"}, nil},
		{"other miner", &MinerRef{UID: 4, Hotkey: "5Other"}, ErrConflict},
		{"unpinned", nil, ErrConflict},
	} {
		t.Run(c.name, func(t *testing.T) {
			next := *prev
			next.Pinned = c.pin
			if err := next.ValidateChange(prev); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

// TestChallengeEndsNameTheirJob: a challenge's sample or failure must name
// the job its validator waits on.
func TestChallengeEndsNameTheirJob(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	miner := Neuron{Hotkey: "5Miner"}
	sample := func(job string) *Sample {
		return &Sample{Miner: miner, Claim: Claim{RequestID: "r1", Miner: "5Miner"}, FramesKey: "frames.c1.1", Challenge: true, Job: job, Dispatched: now}
	}
	failure := func(job string) *AttemptFailure {
		return &AttemptFailure{Miner: miner, RequestID: "r1", Reason: FailureOverloaded, Failed: now, Challenge: true, Job: job, Dispatched: now}
	}
	for _, c := range []struct {
		name string
		err  error
		ok   bool
	}{
		{"sample", sample("challenge-1").Validate(), true},
		{"sample without its job", sample("").Validate(), false},
		{"failure", failure("challenge-1").Validate(), true},
		{"failure without its job", failure("").Validate(), false},
		{"failure naming a bad job", failure("a.b").Validate(), false},
		{"a user's job's failure for load", func() error { f := failure(""); f.Challenge = false; return f.Validate() }(), false},
		{"a challenge's frames unlike its receipt", func() error { f := failure("c1"); f.Reason = FailureFrames; return f.Validate() }(), true},
	} {
		if (c.err == nil) != c.ok {
			t.Errorf("%s: got %v, want valid %v", c.name, c.err, c.ok)
		}
	}
}
