package gateway

import (
	"testing"
	"time"
)

// TestLimiterClockOrder: requests read the clock before they take the
// limiter's lock, so takes arrive with times out of order. An earlier time
// after a later one refills nothing and drains nothing: with a fast rate
// the whole burst stays available.
func TestLimiterClockOrder(t *testing.T) {
	l := newLimiter(10)
	t0 := time.Unix(1_000_000, 0)
	const rate, burst = 1e6, 10
	for i := range burst {
		// Each take is 1 ms earlier than the one before it.
		if wait := l.take("key", rate, burst, t0.Add(-time.Duration(i)*time.Millisecond)); wait != 0 {
			t.Fatalf("take %d of a burst of %d: told to wait %v", i+1, burst, wait)
		}
	}
	if wait := l.take("key", rate, burst, t0); wait <= 0 {
		t.Errorf("take past the burst at the same time: wait %v, want a positive wait", wait)
	}
}
