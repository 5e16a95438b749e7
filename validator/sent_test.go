package validator

import (
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/minerapi"
)

// passed is a passing attempt of hotkey sent at sent (zero: by the
// validator, at its burst's instant) that took total.
func passed(hotkey string, sent time.Time, firstProgress, total time.Duration) attempt {
	return attempt{
		miner: fractal.Neuron{Hotkey: hotkey}, req: minerapi.GenerateRequest{Spec: fractal.Spec{Steps: 4}},
		rec: Record{OK: true}, sent: sent, out: &minerapi.Outcome{FirstProgress: firstProgress, Total: total},
	}
}

// TestBurstMakespanFromTheLastSend: challenges sent together are timed by
// the longest answer; queued ones sent at different instants are timed
// from the last send, so the queue's skew is no one's, while two hotkeys
// served one after the other on one GPU still take both turns.
func TestBurstMakespanFromTheLastSend(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	failed := passed("c", t0, time.Second, 9*time.Second)
	failed.rec.OK = false
	for _, c := range []struct {
		name  string
		tries []attempt
		want  time.Duration
	}{
		{"sent together", []attempt{passed("a", time.Time{}, 0, 2*time.Second), passed("b", time.Time{}, 0, 3*time.Second)}, 3 * time.Second},
		{"skewed, own GPUs", []attempt{passed("a", t0, 0, 2*time.Second), passed("b", t0.Add(500*time.Millisecond), 0, 2*time.Second)}, 2 * time.Second},
		{"skewed, one GPU", []attempt{passed("a", t0, 0, 2*time.Second), passed("b", t0.Add(100*time.Millisecond), 0, 3900*time.Millisecond)}, 3900 * time.Millisecond},
		{"a failure is not timed", []attempt{passed("a", t0.Add(time.Second), 0, 2*time.Second), failed}, 2 * time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := burstMakespan(c.tries); got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
}

// TestSweepTimingsOnOneClock: a sweep's queued answers are timed from the
// first send, so a hotkey sent late looks as late as it was.
func TestSweepTimingsOnOneClock(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	ts := sweepTimings([]attempt{
		passed("a", t0.Add(200*time.Millisecond), time.Second, 4*time.Second),
		passed("b", t0, time.Second, 4*time.Second),
	})
	want := map[string][2]time.Duration{"a": {1200 * time.Millisecond, 4200 * time.Millisecond}, "b": {time.Second, 4 * time.Second}}
	for _, x := range ts {
		if w := want[x.hotkey]; x.firstProgress != w[0] || x.total != w[1] {
			t.Errorf("%s: first progress %s, total %s; want %s, %s", x.hotkey, x.firstProgress, x.total, w[0], w[1])
		}
	}
	direct := sweepTimings([]attempt{passed("a", time.Time{}, time.Second, 3*time.Second)})
	if direct[0].firstProgress != time.Second || direct[0].total != 3*time.Second {
		t.Errorf("a challenge the validator sent: %+v, want its own times", direct[0])
	}
}
