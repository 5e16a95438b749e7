package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
)

// stream is one log that gateways publish records to and each named
// consumer takes every record from once: the sample and the failure logs.
type stream[T any] struct {
	publish func(context.Context, T) error
	next    func(ctx context.Context, consumer string) (T, error)
}

// streamRecords describes a stream's records to the shared contract.
type streamRecords[T any] struct {
	noun    string            // "Sample", "Failure"
	make    func(id string) T // a valid record of request id
	id      func(T) string
	retried bool // a publish retried with the same id is stored once
}

// runStream runs the contract every stream keeps: a round trip, every
// consumer taking every record once, invalid consumer names refused, and a
// cancelled wait returning.
func runStream[T any](t *testing.T, open func(t *testing.T) stream[T], r streamRecords[T]) {
	t.Run("RoundTrip", func(t *testing.T) {
		l, ctx := open(t), Context(t, 30*time.Second)
		want := r.make("r1")
		must(t, l.publish(ctx, want))
		got, err := l.next(ctx, "v1")
		must(t, err)
		if a, b := jsonOf(t, got), jsonOf(t, want); a != b {
			t.Errorf("got %s, want %s", a, b)
		}
	})
	t.Run("EachConsumerTakesEvery"+r.noun+"Once", func(t *testing.T) {
		l, ctx := open(t), Context(t, 30*time.Second)
		for i := range 3 {
			must(t, l.publish(ctx, r.make(fmt.Sprint("r", i))))
		}
		if r.retried {
			must(t, l.publish(ctx, r.make("r0"))) // a publish retried: stored once
		}
		for _, consumer := range []string{"validator-a", "validator-b"} {
			for i := range 3 {
				got, err := l.next(ctx, consumer)
				must(t, err)
				if want := fmt.Sprint("r", i); r.id(got) != want {
					t.Errorf("%s took %s, want %s", consumer, r.id(got), want)
				}
			}
			wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			got, err := l.next(wctx, consumer)
			cancel()
			if err == nil {
				t.Errorf("%s took %s again, want nothing more", consumer, r.id(got))
			}
		}
	})
	t.Run("InvalidConsumer", func(t *testing.T) {
		l, ctx := open(t), Context(t, 30*time.Second)
		if _, err := l.next(ctx, "bad name."); !errors.Is(err, fractal.ErrInvalid) {
			t.Errorf("consumer name with a dot: got %v, want ErrInvalid", err)
		}
	})
	t.Run("CancelledWait", func(t *testing.T) {
		l := open(t)
		ctx, cancel := context.WithCancel(Context(t, 30*time.Second))
		cancel()
		if _, err := l.next(ctx, "v1"); !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
	})
}
