package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
)

// FailureLog runs the fractal.FailureLog contract. newLog returns an empty
// failure log for each subtest.
func FailureLog(t *testing.T, newLog func(t *testing.T) fractal.FailureLog) {
	t.Run("RoundTrip", func(t *testing.T) {
		l, ctx := newLog(t), Context(t, 30*time.Second)
		want := testFailure("r1")
		must(t, l.PublishFailure(ctx, want))
		got, err := l.NextFailure(ctx, "v1")
		must(t, err)
		if a, b := jsonOf(t, got), jsonOf(t, want); a != b {
			t.Errorf("got %s, want %s", a, b)
		}
	})
	t.Run("EachConsumerTakesEveryFailureOnce", func(t *testing.T) {
		l, ctx := newLog(t), Context(t, 30*time.Second)
		for i := range 3 {
			must(t, l.PublishFailure(ctx, testFailure(fmt.Sprint("r", i))))
		}
		must(t, l.PublishFailure(ctx, testFailure("r0"))) // a publish retried: stored once
		for _, consumer := range []string{"validator-a", "validator-b"} {
			for i := range 3 {
				f, err := l.NextFailure(ctx, consumer)
				must(t, err)
				if want := fmt.Sprint("r", i); f.RequestID != want {
					t.Errorf("%s took %s, want %s", consumer, f.RequestID, want)
				}
			}
			wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			f, err := l.NextFailure(wctx, consumer)
			cancel()
			if err == nil {
				t.Errorf("%s took %s again, want nothing more", consumer, f.RequestID)
			}
		}
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
		if _, err := l.NextFailure(ctx, "bad name."); !errors.Is(err, fractal.ErrInvalid) {
			t.Errorf("consumer name with a dot: got %v, want ErrInvalid", err)
		}
	})
	t.Run("CancelledWait", func(t *testing.T) {
		l := newLog(t)
		ctx, cancel := context.WithCancel(Context(t, 30*time.Second))
		cancel()
		if _, err := l.NextFailure(ctx, "v1"); !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
	})
}

// testFailure is a failed attempt id as a gateway hands it over.
func testFailure(id string) *fractal.AttemptFailure {
	s := testSample(id)
	return &fractal.AttemptFailure{Miner: s.Miner, RequestID: id, Reason: fractal.FailureJobFailed,
		Detail: "miner reported: out of memory", Cost: 1.5, Failed: s.Finished}
}
