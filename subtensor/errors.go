package subtensor

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/fractal-grid/fractal"
)

var (
	// ErrRejected is wrapped by errors for extrinsics the node refused to
	// accept into its pool (bad signature, stale nonce, no funds for fees).
	ErrRejected = errors.New("extrinsic rejected")
	// ErrDispatch is wrapped by errors for extrinsics that were included
	// but failed (System.ExtrinsicFailed).
	ErrDispatch = errors.New("extrinsic failed")
)

// DispatchError is a failed extrinsic's error, named as the runtime names
// it: for a module error the pallet and the error variant, such as
// SubtensorModule.SettingWeightsTooFast; otherwise DispatchError and its
// variant, such as DispatchError.BadOrigin.
type DispatchError struct {
	Pallet string
	Name   string
	Doc    string // first line of the runtime's documentation
	Block  uint64
	Index  int // extrinsic index in the block
}

func (e *DispatchError) Error() string {
	s := fmt.Sprintf("%s.%s in block %d", e.Pallet, e.Name, e.Block)
	if e.Doc != "" {
		s += ": " + e.Doc
	}
	return s
}

// Unwrap makes errors.Is match ErrDispatch and a fractal sentinel chosen
// from the error's name.
func (e *DispatchError) Unwrap() []error { return []error{ErrDispatch, kindOf(e.Name)} }

// ChainErrorName is the runtime's name of the error, for
// fractal.ChainErrorName.
func (e *DispatchError) ChainErrorName() string { return e.Name }

// RejectedError is an extrinsic the node's pool refused.
type RejectedError struct {
	Reason string
	Kind   error // a fractal sentinel
	// Name is the runtime's name of a custom validity error (newer runtimes
	// check some calls, serve_axon among them, before the pool takes them).
	Name string
}

// ChainErrorName is the runtime's name of the refusal, if it named one.
func (e *RejectedError) ChainErrorName() string { return e.Name }

// customErrors are subtensor's CustomTransactionError codes, the
// "custom" of an InvalidTransaction the pool answers.
var customErrors = map[int]string{
	0: "ColdkeyInSwapSchedule", 1: "StakeAmountTooLow", 2: "BalanceTooLow", 3: "SubnetDoesntExist",
	4: "HotkeyAccountDoesntExist", 5: "NotEnoughStakeToWithdraw", 6: "RateLimitExceeded", 7: "InsufficientLiquidity",
	8: "SlippageTooHigh", 9: "TransferDisallowed", 10: "HotKeyNotRegisteredInNetwork", 11: "InvalidIpAddress",
	12: "ServingRateLimitExceeded", 13: "InvalidPort", 14: "TransactionPriorityTooLow", 255: "BadRequest",
}

// customRE finds the code of a custom validity error in a pool's answer:
// {"invalid":{"custom":11}} from chopsticks, "Custom error: 11" from a node.
var customRE = regexp.MustCompile(`(?i)custom(?:"?\s*:\s*|\s+error:\s*)(\d+)`)

func (e *RejectedError) Error() string { return "node rejected the extrinsic: " + e.Reason }

// Unwrap makes errors.Is match ErrRejected and the sentinel in Kind.
func (e *RejectedError) Unwrap() []error { return []error{ErrRejected, e.Kind} }

// kindOf maps a runtime error name to the fractal sentinel a caller acts
// on: conflict (already registered), forbidden (the signer is not
// registered, lacks a permit, stake, funds or ownership), not found (no such
// subnet or account), overloaded (rate limits) or, by default, invalid input
// (bad IP, unknown uids, mismatched weights).
func kindOf(name string) error {
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(name, w) {
				return true
			}
		}
		return false
	}
	switch {
	case has("AlreadyRegistered", "AlreadyExist", "AlreadyDelegate", "AlreadyAssociated"):
		return fractal.ErrConflict
	case has("NotRegistered", "NoValidatorPermit", "NonAssociated", "NotEnough", "Insufficient", "NotSubnetOwner",
		"NotOwner", "BadOrigin", "NotSenateMember", "ShouldBeHotKey", "FundsUnavailable", "NoPermission"):
		return fractal.ErrForbidden
	case has("DoesNotExist", "NotExist", "NotFound", "DoesntExist"):
		return fractal.ErrNotFound
	case has("TooFast", "RateLimit", "TooMany", "TooEarly"):
		return fractal.ErrOverloaded
	}
	return fractal.ErrInvalid
}

// rejected turns an author_submitExtrinsic error into a RejectedError.
func rejected(err *RPCError) error {
	reason := err.Message
	if err.Data != nil {
		reason = fmt.Sprintf("%s: %v", err.Message, err.Data)
	}
	kind := fractal.ErrInvalid
	switch lower := strings.ToLower(reason); {
	case strings.Contains(lower, "pay") || strings.Contains(lower, "balance"):
		kind = fractal.ErrForbidden
	case strings.Contains(lower, "bad signature"):
		kind = fractal.ErrUnauthorized
	case strings.Contains(lower, "priority is too low") || strings.Contains(lower, "temporarily banned") ||
		strings.Contains(lower, "exhausts the resources"):
		kind = fractal.ErrOverloaded
	case strings.Contains(lower, "already imported"):
		kind = fractal.ErrConflict
	}
	if m := customRE.FindStringSubmatch(reason); m != nil {
		code, _ := strconv.Atoi(m[1])
		if name, ok := customErrors[code]; ok {
			return &RejectedError{Reason: reason + " (" + name + ")", Kind: kindOf(name), Name: name}
		}
	}
	return &RejectedError{Reason: reason, Kind: kind}
}
