package verify_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/verify"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"none", nil, verify.ReasonOK},
		{"deadline", fmt.Errorf("open: %w", context.DeadlineExceeded), verify.ReasonOpenLate},
		{"unreachable", fmt.Errorf("dial: %w", fractal.ErrUnavailable), verify.ReasonOpenLate},
		{"overloaded", fmt.Errorf("busy: %w", fractal.ErrOverloaded), verify.ReasonOpenLate},
		{"not a state", fmt.Errorf("step 3: %w", fractal.ErrBadOpening), verify.ReasonProof},
		{"not retained", fmt.Errorf("job: %w", fractal.ErrNotFound), verify.ReasonOpen},
		{"refused", fmt.Errorf("caller: %w", fractal.ErrForbidden), verify.ReasonOpen},
		{"anything else", errors.New("boom"), verify.ReasonOpen},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := verify.Classify(tc.err); got != tc.want {
				t.Errorf("Classify(%v) = %q, want %q", tc.err, got, tc.want)
			}
		})
	}
}

func TestIsCheck(t *testing.T) {
	for reason, want := range map[string]bool{
		verify.ReasonProof: true, verify.ReasonOpenRefused: true, verify.ReasonProfile: true, verify.ReasonStep: true, verify.ReasonFrames: true,
		verify.ReasonOK: false, verify.ReasonOpenLate: false, verify.ReasonVerifierError: false,
		verify.ReasonTimeout: false, verify.ReasonStream: false, verify.ReasonUnavailable: false,
	} {
		if got := verify.IsCheck(reason); got != want {
			t.Errorf("IsCheck(%q) = %v, want %v", reason, got, want)
		}
	}
}
