// Package minerapi is the HTTP protocol between validators (and gateways) and
// miners: the wire types, the one mapping between errors and HTTP statuses,
// the generation stream's framing and a client. docs/protocol.md describes it.
package minerapi

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/apierr"
)

// Paths served by a miner.
const (
	PathGenerate = "/v1/generate"
	PathOpen     = "/v1/open"
	PathHealth   = "/v1/health"
)

// Event types of a generation stream, in the order they arrive.
const (
	EventAccepted = "accepted" // queued: position and ETA
	EventStarted  = "started"  // the engine began
	EventProgress = "progress" // step k of n done
	EventResult   = "result"   // commitment, receipt, timings
	EventFrames   = "frames"   // followed by Bytes bytes of a canonical frames file
	EventError    = "error"    // the job failed; the stream ends
)

// GenerateRequest asks a miner for one generation. Challenges and users'
// jobs are the same request.
type GenerateRequest struct {
	RequestID string       `json:"request_id"`
	Spec      fractal.Spec `json:"spec"`
}

// MaxRequestIDBytes bounds request ids.
const MaxRequestIDBytes = 128

// Validate checks the request.
func (r GenerateRequest) Validate() error {
	if err := ValidateRequestID(r.RequestID); err != nil {
		return err
	}
	return r.Spec.CheckBounds()
}

// ValidateRequestID checks a request id: 1–128 bytes of [A-Za-z0-9._:-].
func ValidateRequestID(id string) error {
	if id == "" || len(id) > MaxRequestIDBytes {
		return fractal.Errorf("request_id", "must be 1–%d characters, got %d", MaxRequestIDBytes, len(id))
	}
	for _, c := range []byte(id) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':'
		if !ok {
			return fractal.Errorf("request_id", "may hold only letters, digits and -_.: (found %q)", c)
		}
	}
	return nil
}

// Event is one line of a generation stream (newline-delimited JSON).
type Event struct {
	Type          string       `json:"type"`
	QueuePosition int          `json:"queue_position,omitempty"`
	ETAMillis     int64        `json:"eta_ms,omitempty"`
	Step          int          `json:"step,omitempty"`
	Steps         int          `json:"steps,omitempty"`
	Result        *ResultEvent `json:"result,omitempty"`
	Bytes         int64        `json:"bytes,omitempty"`
	Error         *apierr.Body `json:"error,omitempty"`
}

// ResultEvent is the body of a result event: what a miner commits to for a
// job.
type ResultEvent struct {
	Profile fractal.Profile `json:"profile"`
	Receipt fractal.Receipt `json:"receipt"`
	// QueueMillis and GenerateMillis are the miner's own account; verifiers
	// measure latency themselves.
	QueueMillis    int64 `json:"queue_ms"`
	GenerateMillis int64 `json:"generate_ms"`
}

// OpenRequest asks a miner to open committed steps of a recent job.
type OpenRequest struct {
	RequestID string `json:"request_id"`
	Steps     []int  `json:"steps"` // each 1..spec.Steps; state k-1 and k are returned
}

// MaxOpenSteps bounds the steps one open request may ask for.
const MaxOpenSteps = 8

// Validate checks the request shape.
func (r OpenRequest) Validate() error {
	if err := ValidateRequestID(r.RequestID); err != nil {
		return err
	}
	if len(r.Steps) == 0 || len(r.Steps) > MaxOpenSteps {
		return fractal.Errorf("steps", "must list 1–%d steps, got %d", MaxOpenSteps, len(r.Steps))
	}
	for _, k := range r.Steps {
		if k < 1 || k > fractal.MaxSteps {
			return fractal.Errorf("steps", "step %d is outside 1–%d", k, fractal.MaxSteps)
		}
	}
	return nil
}

// OpenResponse holds the opened states with proofs against the trajectory root.
type OpenResponse struct {
	RequestID      string         `json:"request_id"`
	TrajectoryRoot fractal.Digest `json:"trajectory_root"`
	Openings       []Opening      `json:"openings"`
}

// Opening is step k: states k-1 and k with their Merkle proofs.
type Opening struct {
	Step      int                 `json:"step"`
	Prev      StateBlob           `json:"prev"`
	PrevProof fractal.MerkleProof `json:"prev_proof"`
	State     StateBlob           `json:"state"`
	Proof     fractal.MerkleProof `json:"proof"`
}

// StateBlob is a state on the wire: its shape and the canonical bytes
// (float32 little-endian), base64 in JSON.
type StateBlob struct {
	Shape []int  `json:"shape"`
	Data  []byte `json:"data"`
}

// Blob encodes a state.
func Blob(s fractal.State) StateBlob { return StateBlob{Shape: s.Shape, Data: s.Bytes()} }

// State decodes the blob, checking it holds at most maxElems elements.
func (b StateBlob) State(maxElems int) (fractal.State, error) {
	n := 1
	for _, d := range b.Shape {
		if d <= 0 || d > maxElems || n > maxElems/d {
			return fractal.State{}, fractal.Errorf("state", "shape %v is too large or invalid", b.Shape)
		}
		n *= d
	}
	return fractal.StateFromBytes(b.Shape, b.Data)
}

// Health is a miner's public status.
type Health struct {
	Profile fractal.Profile `json:"profile"` // the first of Profiles, for version 1 readers
	// Profiles are every profile the miner serves, one engine each.
	Profiles    []fractal.Profile `json:"profiles,omitempty"`
	Hotkey      string            `json:"hotkey"`
	Version     string            `json:"version"`
	QueueDepth  int               `json:"queue_depth"`
	InFlight    int               `json:"in_flight"`
	Concurrency int               `json:"concurrency"`
	QueueLimit  int               `json:"queue_limit"`
	ETAMillis   int64             `json:"eta_ms"` // for a default spec submitted now
	// QueuedWork is the spec cost of the jobs admitted and not finished
	// (waiting and running), WorkByCaller its part per caller hotkey (SS58)
	// and MeasuredAt when the miner read them, so that a gateway can tell
	// its own work from everyone else's. Miners before them leave them out.
	QueuedWork   float64            `json:"queued_work,omitempty"`
	WorkByCaller map[string]float64 `json:"work_by_caller,omitempty"`
	MeasuredAt   time.Time          `json:"measured_at,omitzero"`
}

// NewRequestID returns a random job id (26 characters of base32). Validators and
// gateways use the same ids, so a miner cannot tell a challenge from a job.
func NewRequestID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// Serves returns the profiles ("id@version") a health answer says the miner
// serves: Profiles, or Profile for a miner that predates it.
func (h *Health) Serves() []string {
	if len(h.Profiles) == 0 {
		return []string{h.Profile.String()}
	}
	out := make([]string, len(h.Profiles))
	for i, p := range h.Profiles {
		out[i] = p.String()
	}
	return out
}
