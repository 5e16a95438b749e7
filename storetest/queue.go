package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
)

// JobQueue runs the fractal.JobQueue contract. newQueue returns an empty
// queue whose unacknowledged deliveries come back after ackWait (keep it
// short: the suite waits for it several times). Each subtest enqueues ids
// of its own, as jobs' are unique: a queue may remember ids for
// fractal.EnqueueDedupe even across a purge.
func JobQueue(t *testing.T, ackWait time.Duration, newQueue func(t *testing.T) fractal.JobQueue) {
	t.Run("FIFOAndAck", func(t *testing.T) {
		q, ctx := newQueue(t), Context(t, 30*time.Second)
		for _, id := range []string{"fifo-a", "fifo-b", "fifo-c"} {
			must(t, q.Enqueue(ctx, id))
		}
		for _, want := range []string{"fifo-a", "fifo-b", "fifo-c"} {
			d := dequeue(t, ctx, q)
			if d.JobID() != want || d.Attempt() != 1 {
				t.Fatalf("got job %s attempt %d, want %s attempt 1", d.JobID(), d.Attempt(), want)
			}
			must(t, d.Ack(ctx))
		}
		wantEmpty(t, q, ackWait+ackWait/2)
	})
	t.Run("EnqueueTwiceStoresOnce", func(t *testing.T) {
		q, ctx := newQueue(t), Context(t, 30*time.Second)
		must(t, q.Enqueue(ctx, "twice-a"))
		must(t, q.Enqueue(ctx, "twice-a"))
		d := dequeue(t, ctx, q)
		if d.JobID() != "twice-a" {
			t.Fatalf("got job %s, want twice-a", d.JobID())
		}
		must(t, d.Ack(ctx))
		must(t, q.Enqueue(ctx, "twice-a")) // within EnqueueDedupe of the first: still once
		wantEmpty(t, q, ackWait+ackWait/2)
	})
	t.Run("EnqueueInvalid", func(t *testing.T) {
		q, ctx := newQueue(t), Context(t, 30*time.Second)
		wantErr(t, q.Enqueue(ctx, "no spaces"), fractal.ErrInvalid)
	})
	t.Run("NakRedelivers", func(t *testing.T) {
		q, ctx := newQueue(t), Context(t, 30*time.Second)
		must(t, q.Enqueue(ctx, "nak-a"))
		d := dequeue(t, ctx, q)
		must(t, d.Nak(ctx, 0))
		d = dequeue(t, ctx, q)
		if d.JobID() != "nak-a" || d.Attempt() != 2 {
			t.Fatalf("got job %s attempt %d after a nak, want nak-a attempt 2", d.JobID(), d.Attempt())
		}
		delay := ackWait / 2
		must(t, d.Nak(ctx, delay))
		start := time.Now()
		d = dequeue(t, ctx, q)
		if el := time.Since(start); el < delay*8/10 || d.Attempt() != 3 {
			t.Fatalf("got attempt %d after %v, want attempt 3 after at least %v", d.Attempt(), el, delay)
		}
		must(t, d.Ack(ctx))
	})
	t.Run("AckWaitRedelivers", func(t *testing.T) {
		q, ctx := newQueue(t), Context(t, 30*time.Second)
		must(t, q.Enqueue(ctx, "ackwait-a"))
		start := time.Now()
		_ = dequeue(t, ctx, q) // a dispatcher that crashes: no ack, no nak
		d := dequeue(t, ctx, q)
		if el := time.Since(start); d.JobID() != "ackwait-a" || d.Attempt() != 2 || el < ackWait*8/10 {
			t.Fatalf("got job %s attempt %d after %v, want ackwait-a attempt 2 after at least %v", d.JobID(), d.Attempt(), el, ackWait)
		}
		must(t, d.Ack(ctx))
	})
	t.Run("InProgressHolds", func(t *testing.T) {
		q, ctx := newQueue(t), Context(t, 30*time.Second)
		must(t, q.Enqueue(ctx, "held-a"))
		d := dequeue(t, ctx, q)
		hctx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Go(func() {
			tick := time.NewTicker(ackWait / 4)
			defer tick.Stop()
			for {
				select {
				case <-hctx.Done():
					return
				case <-tick.C:
					_ = d.InProgress(hctx)
				}
			}
		})
		wantEmpty(t, q, 2*ackWait)
		stop()
		wg.Wait()
		must(t, d.Ack(ctx))
	})
	t.Run("CompetingDispatchers", func(t *testing.T) { testCompetingDispatchers(t, newQueue(t)) })
}

// testCompetingDispatchers dequeues from several goroutines: each job is
// delivered to exactly one of them.
func testCompetingDispatchers(t *testing.T, q fractal.JobQueue) {
	ctx := Context(t, 60*time.Second)
	const jobs, workers = 60, 3
	for i := range jobs {
		must(t, q.Enqueue(ctx, fmt.Sprintf("competing-%d", i)))
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for {
				mu.Lock()
				done := len(seen) == jobs
				mu.Unlock()
				if done {
					return
				}
				dctx, cancel := context.WithTimeout(ctx, time.Second)
				d, err := q.Dequeue(dctx)
				cancel()
				if err != nil {
					continue // another worker took the last one
				}
				mu.Lock()
				seen[d.JobID()]++
				mu.Unlock()
				if err := d.Ack(ctx); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("got job %s delivered %d times, want once", id, n)
		}
	}
	if len(seen) != jobs {
		t.Fatalf("got %d distinct jobs, want %d", len(seen), jobs)
	}
}

func dequeue(t *testing.T, ctx context.Context, q fractal.JobQueue) fractal.Delivery {
	t.Helper()
	d, err := q.Dequeue(ctx)
	must(t, err)
	return d
}

// wantEmpty fails if anything is delivered within wait.
func wantEmpty(t *testing.T, q fractal.JobQueue, wait time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if d, err := q.Dequeue(ctx); err == nil {
		t.Fatalf("got job %s attempt %d delivered, want none within %v", d.JobID(), d.Attempt(), wait)
	}
}
