package storetest

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
)

// FailureLog runs the fractal.FailureLog contract. newLog returns an empty
// failure log for each subtest.
func FailureLog(t *testing.T, newLog func(t *testing.T) fractal.FailureLog) {
	runStream(t, func(t *testing.T) stream[*fractal.AttemptFailure] {
		l := newLog(t)
		return stream[*fractal.AttemptFailure]{l.PublishFailure, l.NextFailure}
	}, streamRecords[*fractal.AttemptFailure]{
		noun: "Failure", make: testFailure, retried: true,
		id: func(f *fractal.AttemptFailure) string { return f.RequestID },
	})
	t.Run("Invalid", func(t *testing.T) {
		l, ctx := newLog(t), Context(t, 30*time.Second)
		bad := map[string]func(*fractal.AttemptFailure){
			"no miner":          func(f *fractal.AttemptFailure) { f.Miner.Hotkey = "" },
			"no request id":     func(f *fractal.AttemptFailure) { f.RequestID = "" },
			"request id a path": func(f *fractal.AttemptFailure) { f.RequestID = "a.b" },
			"unknown reason":    func(f *fractal.AttemptFailure) { f.Reason = "overloaded" },
			"negative cost":     func(f *fractal.AttemptFailure) { f.Cost = -1 },
			"cost not a number": func(f *fractal.AttemptFailure) { f.Cost = math.NaN() },
			"no time":           func(f *fractal.AttemptFailure) { f.Failed = time.Time{} },
		}
		for name, change := range bad {
			f := testFailure("r1")
			change(f)
			if err := l.PublishFailure(ctx, f); !errors.Is(err, fractal.ErrInvalid) {
				t.Errorf("%s: got %v, want ErrInvalid", name, err)
			}
		}
	})
}

// testFailure is a failed attempt id as a gateway hands it over.
func testFailure(id string) *fractal.AttemptFailure {
	s := testSample(id)
	return &fractal.AttemptFailure{Miner: s.Miner, RequestID: id, Reason: fractal.FailureJobFailed,
		Detail: "miner reported: out of memory", Cost: 1.5, Failed: s.Finished}
}
