package fractal

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"strings"
	"time"
)

// JobStore keeps jobs. Implementations are safe for concurrent use by many
// processes sharing one backing store.
type JobStore interface {
	// Create stores a new job after validating it; ErrConflict when a job
	// with the same ID exists.
	Create(ctx context.Context, job *Job) error
	// Get returns a job; ErrNotFound when there is none.
	Get(ctx context.Context, id string) (*Job, error)
	// Update reads the job, applies fn to a copy and writes it back only if
	// nobody wrote in between (compare-and-swap), re-reading and re-applying
	// fn on a conflict. fn may run more than once and must only change the
	// job it is given; its error aborts the update and is returned. The
	// result must pass Job.ValidateChange. It returns the stored job.
	Update(ctx context.Context, id string, fn func(*Job) error) (*Job, error)
	// List returns owner's jobs in descending ID order (newest first for
	// time-ordered IDs), at most limit of them, starting after cursor (""
	// for the first page). next is the cursor of the following page, ""
	// after the last one.
	List(ctx context.Context, owner, cursor string, limit int) (jobs []*Job, next string, err error)
}

// JobWatcher is a JobStore capability: a feed of every job written from
// now on, by any process sharing the store, so that waiting clients are
// woken by changes instead of polling. The channel closes when ctx ends or
// the feed breaks (a store outage); the caller watches again.
type JobWatcher interface {
	WatchJobs(ctx context.Context) (<-chan *Job, error)
}

// JobQueue hands accepted jobs to dispatchers, at least once: a delivery
// that is not acknowledged in time (a crashed dispatcher) is delivered
// again, so no accepted job is lost. Deliveries may repeat; a dispatcher
// checks the job's status before working on it, and claims it with a
// JobStore.Update (queued → in_progress) so only one copy runs.
//
// A job is accepted once JobStore.Create and then Enqueue have returned;
// only then may the client be told so. A process dying between the two
// leaves a queued job with no queue entry; the client, told nothing,
// retries with its Idempotency-Key, and the gateway enqueues the job it
// finds again, which EnqueueDedupe makes safe.
type JobQueue interface {
	// Enqueue persists id in the queue before it returns. Enqueueing an
	// id again within EnqueueDedupe of its first Enqueue stores it once.
	Enqueue(ctx context.Context, id string) error
	// Dequeue blocks until a job is available or ctx is done.
	Dequeue(ctx context.Context) (Delivery, error)
}

// ChallengeQueues is a JobQueue capability: a second queue, beside the
// users' jobs, for validators' challenges (jobs pinned to their miners,
// Job.Pinned). Every gateway replica drains it apart from its dispatchers
// and sends each challenge as soon as it takes it, so a sweep's challenges,
// every serving miner's at once, go out together however many users' jobs
// hold the dispatchers or wait for them.
type ChallengeQueues interface {
	Challenges() JobQueue
}

// EnqueueDedupe is how long a queue remembers an enqueued id, so that
// enqueueing it again stores nothing.
const EnqueueDedupe = 2 * time.Minute

// Delivery is one job handed to one dispatcher.
type Delivery interface {
	JobID() string
	// Attempt counts deliveries of this entry, starting at 1.
	Attempt() int
	// Ack removes the entry from the queue for good.
	Ack(ctx context.Context) error
	// Nak returns the entry to the queue, to be delivered again after delay.
	Nak(ctx context.Context, delay time.Duration) error
	// InProgress resets the redelivery timer while a job is being worked on.
	InProgress(ctx context.Context) error
}

// BlobStore keeps large results (videos, frames) for a retention period set
// when the store is created; after it they are gone.
type BlobStore interface {
	// Put stores everything read from r under key, replacing any old blob.
	Put(ctx context.Context, key string, r io.Reader) error
	// Get opens a blob; ErrNotFound when there is none. ctx bounds the read.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes a blob; ErrNotFound when there is none.
	Delete(ctx context.Context, key string) error
}

// BlobLister is a BlobStore capability: the keys it holds, so that a sweep
// can remove blobs before the store's own retention would.
type BlobLister interface {
	// BlobKeys returns the keys that start with prefix ("" for all),
	// sorted.
	BlobKeys(ctx context.Context, prefix string) ([]string, error)
}

// KV keeps small records (JSON) under keys: scores, API keys, idempotency
// keys, the grid map. Keys are validated with ValidateKey; prefixes are ""
// (every key) or end with ".".
type KV interface {
	// Get returns the entry of key; ErrNotFound when there is none.
	Get(ctx context.Context, key string) (Entry, error)
	// Put writes value and returns its new revision.
	Put(ctx context.Context, key string, value []byte) (uint64, error)
	// Delete removes key. Deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// Keys lists the keys under prefix, sorted.
	Keys(ctx context.Context, prefix string) ([]string, error)
	// Watch sends the current entry of every key under prefix, then its
	// changes (deletions with Deleted set), until ctx is done; then it closes
	// the channel. Each key's entries come in revision order and the latest
	// always comes, but a replicated store whose watcher is re-created (a
	// node lost, a missed heartbeat) may send only a key's latest value in
	// place of several changes: a watcher tracks state, not a log.
	Watch(ctx context.Context, prefix string) (<-chan Entry, error)
}

// KVUpdater is a KV capability: compare-and-swap writes, for records that
// several processes update (idempotency keys, per-miner statistics).
type KVUpdater interface {
	// Update writes value only if key's current revision is rev, or, with
	// rev 0, only if key does not exist. ErrConflict otherwise.
	Update(ctx context.Context, key string, value []byte, rev uint64) (uint64, error)
}

// Feed is a KV capability: small messages sent to every process sharing
// the store as they happen, with no history and no delivery guarantee (a
// process that is away misses them), for state that a later full update
// corrects anyway. Gateway replicas share their dispatches through it.
type Feed interface {
	// Publish sends data to the subscribers of subject (dot-separated
	// tokens of the KV key alphabet).
	Publish(ctx context.Context, subject string, data []byte) error
	// Subscribe sends the messages published under subject ("*" and ">"
	// wildcards as in NATS subjects) from now on until ctx is done; then
	// it closes the channel. Messages a slow reader has no room for are
	// dropped.
	Subscribe(ctx context.Context, subject string) (<-chan []byte, error)
}

// Entry is one revision of a KV key.
type Entry struct {
	Key      string    `json:"key"`
	Value    []byte    `json:"value,omitempty"`
	Revision uint64    `json:"revision"`
	Created  time.Time `json:"created"`
	Deleted  bool      `json:"deleted,omitempty"`
}

// AuditLog is an append-only audit stream (verifications, dispatches), kept
// within the limits set when it is created.
type AuditLog interface {
	// Append stores record as JSON under subject (dot-separated tokens of
	// the KV key alphabet) and returns its sequence number.
	Append(ctx context.Context, subject string, record any) (uint64, error)
	// Read returns up to limit records with sequence ≥ from, oldest first,
	// whose subject matches filter ("" for all; "*" and ">" wildcards as in
	// NATS subjects).
	Read(ctx context.Context, filter string, from uint64, limit int) ([]AuditRecord, error)
}

// AuditRecord is one record read from an AuditLog.
type AuditRecord struct {
	Seq     uint64          `json:"seq"`
	Subject string          `json:"subject"`
	Time    time.Time       `json:"time"`
	Data    json.RawMessage `json:"data"`
}

// MaxKeyBytes bounds a KV key.
const MaxKeyBytes = 512

// ValidateKey checks a KV key: dot-separated non-empty tokens of
// [A-Za-z0-9_=/-], at most MaxKeyBytes. Hash free-form text (idempotency
// keys, API keys) before using it in a key.
func ValidateKey(key string) error {
	if len(key) == 0 || len(key) > MaxKeyBytes {
		return Errorf("key", "must be 1–%d bytes, got %d", MaxKeyBytes, len(key))
	}
	for tok := range strings.SplitSeq(key, ".") {
		if tok == "" {
			return Errorf("key", "%q has an empty token", key)
		}
		for i := 0; i < len(tok); i++ {
			if c := tok[i]; !isTokenByte(c) && c != '=' && c != '/' {
				return Errorf("key", "%q contains %q; allowed: [A-Za-z0-9_=/-] and '.' between tokens", key, c)
			}
		}
	}
	return nil
}

// ValidateKeyPrefix checks a prefix for KV.Keys and KV.Watch: "" or a valid
// key followed by ".".
func ValidateKeyPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if !strings.HasSuffix(prefix, ".") {
		return Errorf("prefix", "%q must be empty or end with '.'", prefix)
	}
	return ValidateKey(strings.TrimSuffix(prefix, "."))
}

// Sample is a user's job a gateway finished, handed to the validators so
// that they verify a share of users' jobs like their own challenges,
// whichever gateway replica dispatched it. The frames stay in the
// BlobStore under FramesKey; Claim carries none.
type Sample struct {
	Miner     Neuron    `json:"miner"`
	Claim     Claim     `json:"claim"`
	FramesKey string    `json:"frames_key"`
	Load      int       `json:"load"` // the miner's queue position when it accepted the job
	Finished  time.Time `json:"finished"`
	// Challenge marks a validator's challenge (a pinned job): shared
	// always, never drawn as a user's job. Job names it, and Dispatched is
	// when the gateway sent it to the miner, so that a validator compares
	// hotkeys of one burst dispatched at slightly different instants.
	Challenge  bool      `json:"challenge,omitempty"`
	Job        string    `json:"job,omitempty"`
	Dispatched time.Time `json:"dispatched,omitzero"`
}

// SampleMaxAge is how long samples are kept: after it the miner need no
// longer hold the job's states, so opening them proves nothing.
const SampleMaxAge = 10 * time.Minute

// Validate checks what a validator needs of a sample.
func (s *Sample) Validate() error {
	switch {
	case s.Claim.RequestID == "":
		return Errorf("sample", "has no request id")
	case s.Miner.Hotkey == "" || s.Claim.Miner != s.Miner.Hotkey:
		return Errorf("sample", "names miner %q, its claim %q", s.Miner.Hotkey, s.Claim.Miner)
	case s.Claim.Frames != nil:
		return Errorf("sample", "carries frames; they belong in the blob store")
	case s.Challenge && ValidateToken("job", s.Job) != nil:
		return ValidateToken("job", s.Job)
	}
	return ValidateKey(s.FramesKey)
}

// SampleLog is a JobQueue capability: it carries samples from every
// gateway to the validators. Each named consumer takes every sample still
// kept (SampleMaxAge) once; consumers do not share.
type SampleLog interface {
	// PublishSample stores s after validating it.
	PublishSample(ctx context.Context, s *Sample) error
	// NextSample blocks until consumer's next sample or the end of ctx.
	NextSample(ctx context.Context, consumer string) (*Sample, error)
}

// AttemptFailure is one attempt of a user's job that failed by the miner's
// doing, handed to the validators like a Sample: a miner that fails users'
// jobs while it passes its challenges is scored for both. A refusal for
// load, a store or network fault on the gateway's side and a cancellation
// by the user are no miner's failure and are never shared.
type AttemptFailure struct {
	Miner     Neuron        `json:"miner"`
	RequestID string        `json:"request_id"` // the attempt's, as the miner saw it
	Reason    FailureReason `json:"reason"`
	Detail    string        `json:"detail,omitempty"` // the error, at most MaxJobErrorBytes
	Cost      float64       `json:"cost"`             // of the job's spec
	Failed    time.Time     `json:"failed"`
	// Challenge marks the failure of a validator's challenge (a pinned
	// job, Job): it is shared whatever the reason, a refusal for load
	// included, and never counted as a user's job.
	Challenge  bool      `json:"challenge,omitempty"`
	Job        string    `json:"job,omitempty"`
	Dispatched time.Time `json:"dispatched,omitzero"`
}

// FailureReason is why an attempt failed by the miner's doing.
type FailureReason string

// Failure reasons; their names are the validator's for a failed challenge.
const (
	FailureTimeout     FailureReason = "timeout"     // no result within the attempt's deadline
	FailureUnavailable FailureReason = "unavailable" // the miner could not be reached
	FailureStream      FailureReason = "stream"      // a broken stream, or frames unlike the receipt
	FailureJobFailed   FailureReason = "job_failed"  // the miner reported an error
	FailureRefused     FailureReason = "refused"     // the miner refused the job, not for load
	// Only a challenge's failure has these: a user's job that a miner
	// refuses for load goes elsewhere, and its frames unlike the receipt
	// are a broken stream.
	FailureOverloaded FailureReason = "overloaded" // the miner refused the job for load
	FailureFrames     FailureReason = "frames"     // frames unlike the miner's receipt: a cheat
)

// Valid reports whether r is one of the reasons of a user's job's failure; a
// challenge's may also be FailureOverloaded or FailureFrames.
func (r FailureReason) Valid() bool {
	switch r {
	case FailureTimeout, FailureUnavailable, FailureStream, FailureJobFailed, FailureRefused:
		return true
	}
	return false
}

// Validate checks what a validator needs of a failure.
func (f *AttemptFailure) Validate() error {
	switch {
	case f.Miner.Hotkey == "":
		return Errorf("failure", "names no miner")
	case !f.Reason.Valid() && !(f.Challenge && (f.Reason == FailureOverloaded || f.Reason == FailureFrames)):
		return Errorf("failure", "has unknown reason %q", f.Reason)
	case len(f.Detail) > MaxJobErrorBytes:
		return Errorf("failure", "detail must be at most %d bytes", MaxJobErrorBytes)
	case math.IsNaN(f.Cost) || math.IsInf(f.Cost, 0) || f.Cost < 0:
		return Errorf("failure", "cost must be a finite number ≥ 0, got %g", f.Cost)
	case f.Failed.IsZero():
		return Errorf("failure", "has no time")
	case f.Challenge && ValidateToken("job", f.Job) != nil:
		return ValidateToken("job", f.Job)
	}
	return ValidateToken("request_id", f.RequestID)
}

// FailureLog is a JobQueue capability beside SampleLog: it carries the
// failures of users' jobs from every gateway to the validators, kept for
// SampleMaxAge. Each named consumer takes every failure still kept once.
type FailureLog interface {
	// PublishFailure stores f after validating it.
	PublishFailure(ctx context.Context, f *AttemptFailure) error
	// NextFailure blocks until consumer's next failure or the end of ctx.
	NextFailure(ctx context.Context, consumer string) (*AttemptFailure, error)
}
