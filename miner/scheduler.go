package miner

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/apierr"
)

// scheduler admits jobs into a bounded FIFO queue in front of a fixed number
// of generation slots and estimates waiting times.
type scheduler struct {
	mu          sync.Mutex
	concurrency int
	queueLimit  int
	running     int
	waiting     []*ticket
	// secsPerCost is an EWMA of generation seconds per unit of spec cost.
	secsPerCost float64
}

type ticket struct {
	cost  float64
	ready chan struct{} // closed when the ticket holds a slot
}

func newScheduler(concurrency, queueLimit int, secsPerCost float64) *scheduler {
	return &scheduler{concurrency: concurrency, queueLimit: queueLimit, secsPerCost: secsPerCost}
}

// admit takes a slot or a place in the queue for a job of the given cost.
// It returns the queue position (0: runs now) and the estimated wait, or an
// overload error carrying Retry-After when the queue is full.
func (s *scheduler) admit(cost float64) (*ticket, int, time.Duration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := &ticket{cost: cost, ready: make(chan struct{})}
	if s.running < s.concurrency && len(s.waiting) == 0 {
		s.running++
		close(t.ready)
		return t, 0, 0, nil
	}
	if len(s.waiting) >= s.queueLimit {
		return nil, 0, 0, &apierr.RetryAfterError{
			Err:   fmt.Errorf("queue full (%d waiting, %d running): %w", len(s.waiting), s.running, fractal.ErrOverloaded),
			After: s.waitLocked(len(s.waiting)),
		}
	}
	s.waiting = append(s.waiting, t)
	pos := len(s.waiting)
	return t, pos, s.waitLocked(pos - 1), nil
}

// wait blocks until t holds a slot. If ctx ends first the ticket leaves the
// queue (or gives its slot back) and ctx's error is returned.
func (s *scheduler) wait(ctx context.Context, t *ticket) error {
	select {
	case <-t.ready:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, w := range s.waiting {
		if w == t {
			s.waiting = append(s.waiting[:i], s.waiting[i+1:]...)
			return ctx.Err()
		}
	}
	// Granted while we were cancelled: hand the slot on.
	s.releaseLocked()
	return ctx.Err()
}

// done releases t's slot and folds the observed generation time into the
// estimate. elapsed <= 0 means the job did not finish (no sample).
func (s *scheduler) done(t *ticket, elapsed time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if elapsed > 0 && t.cost > 0 {
		sample := elapsed.Seconds() / t.cost
		s.secsPerCost = 0.8*s.secsPerCost + 0.2*sample
	}
	s.releaseLocked()
}

func (s *scheduler) releaseLocked() {
	if len(s.waiting) > 0 {
		next := s.waiting[0]
		s.waiting = s.waiting[1:]
		close(next.ready)
		return
	}
	s.running--
}

// waitLocked estimates how long a job with ahead jobs in front of it waits
// for a slot.
func (s *scheduler) waitLocked(ahead int) time.Duration {
	var cost float64
	for _, w := range s.waiting[:min(ahead, len(s.waiting))] {
		cost += w.cost
	}
	// Running jobs are assumed half done on average.
	cost += 0.5 * float64(s.running)
	secs := cost * s.secsPerCost / float64(s.concurrency)
	return time.Duration(secs * float64(time.Second))
}

// stats reports queue depth, running jobs and the ETA of a new default job.
func (s *scheduler) stats() (depth, running int, eta time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	own := time.Duration(s.secsPerCost * float64(time.Second))
	return len(s.waiting), s.running, s.waitLocked(len(s.waiting)) + own
}
