package verify

import (
	"context"
	"errors"

	"github.com/fractal-grid/fractal"
)

// Reasons a check fails. Each failure names one; metrics and the audit log
// count them.
const (
	ReasonOK            = "ok"
	ReasonReceipt       = "receipt"        // bad signature, or fields that do not match the job
	ReasonProfile       = "profile"        // a model that is not pinned at the block, or not the one asked
	ReasonFrames        = "frames"         // the frames do not match the commitment or the spec
	ReasonOpen          = "open_failed"    // the miner would not open its commitment
	ReasonOpenLate      = "open_late"      // the opening timed out or the miner was unreachable: a failure, not a cheat, asked again later
	ReasonOpenRefused   = "open_refused"   // still late every time it was asked again within the retention window
	ReasonProof         = "proof"          // an opened state is not in the trajectory, or not a state
	ReasonInitialState  = "initial_state"  // state 0 is not the seeded noise
	ReasonStep          = "step_mismatch"  // a recomputed step differs
	ReasonDecode        = "decode"         // the final state does not decode to the frames
	ReasonRegenerate    = "regenerate"     // a full regeneration differs
	ReasonVerifierError = "verifier_error" // our own engine failed: not the miner's fault
)

// Reasons a job fails before there is a claim to check. They are failures,
// never cheats.
const (
	ReasonTimeout     = "timeout"     // no result within the deadline
	ReasonUnavailable = "unavailable" // the miner could not be reached
	ReasonOverloaded  = "overloaded"  // the miner refused the job for load
	ReasonStream      = "stream"      // garbage, a truncated stream, an event or payload over its limit
	ReasonRefused     = "refused"     // the miner refused the caller
	ReasonJobFailed   = "job_failed"  // the miner reported an error
)

// Classify names the reason an opening failed: open_late when no answer came
// in time (a deadline, an unreachable or overloaded miner: under load an
// honest miner can be late), proof when the answer was not a valid opening,
// and open_failed when the miner answered with a refusal or an error.
func Classify(err error) string {
	switch {
	case err == nil:
		return ReasonOK
	case errors.Is(err, fractal.ErrBadOpening):
		return ReasonProof
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, fractal.ErrUnavailable), errors.Is(err, fractal.ErrOverloaded):
		return ReasonOpenLate
	}
	return ReasonOpen
}

// IsCheck reports whether reason is a failed check that proves a fault in
// the claim, as opposed to a late opening, a failed job or our own error.
func IsCheck(reason string) bool {
	switch reason {
	case ReasonReceipt, ReasonProfile, ReasonFrames, ReasonOpen, ReasonOpenRefused, ReasonProof,
		ReasonInitialState, ReasonStep, ReasonDecode, ReasonRegenerate:
		return true
	}
	return false
}
