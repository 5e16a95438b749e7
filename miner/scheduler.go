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
	// work is the spec cost of the admitted jobs (waiting and running) per
	// caller, so that a gateway can tell its own queued work from others'.
	work  map[string]float64
	total float64
}

type ticket struct {
	caller string
	cost   float64
	ready  chan struct{} // closed when the ticket holds a slot
	left   bool          // its cost was taken off the tally
}

func newScheduler(concurrency, queueLimit int, secsPerCost float64) *scheduler {
	return &scheduler{concurrency: concurrency, queueLimit: queueLimit, secsPerCost: secsPerCost, work: map[string]float64{}}
}

// admit takes a slot or a place in the queue for a caller's job of the
// given cost. It returns the queue position (0: runs now) and the
// estimated wait, or an overload error carrying Retry-After when the queue
// is full.
func (s *scheduler) admit(caller string, cost float64) (*ticket, int, time.Duration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := &ticket{caller: caller, cost: cost, ready: make(chan struct{})}
	if s.running < s.concurrency && len(s.waiting) == 0 {
		s.running++
		close(t.ready)
		s.tally(t)
		return t, 0, 0, nil
	}
	if len(s.waiting) >= s.queueLimit {
		return nil, 0, 0, &apierr.RetryAfterError{
			Err:   fmt.Errorf("queue full (%d waiting, %d running): %w", len(s.waiting), s.running, fractal.ErrOverloaded),
			After: s.waitLocked(len(s.waiting)),
		}
	}
	s.waiting = append(s.waiting, t)
	s.tally(t)
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
			s.untally(t)
			return ctx.Err()
		}
	}
	// Granted while we were cancelled: hand the slot on.
	s.untally(t)
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
	s.untally(t)
	for i, w := range s.waiting {
		if w == t { // never granted (the caller went away first): no slot to release
			s.waiting = append(s.waiting[:i], s.waiting[i+1:]...)
			return
		}
	}
	s.releaseLocked()
}

// tally adds an admitted ticket's cost to its caller's work. The caller
// holds mu.
func (s *scheduler) tally(t *ticket) {
	s.work[t.caller] += t.cost
	s.total += t.cost
}

// untally takes a ticket's cost off its caller's work, once. The caller
// holds mu.
func (s *scheduler) untally(t *ticket) {
	if t.left {
		return
	}
	t.left = true
	s.total -= t.cost
	if w := s.work[t.caller] - t.cost; w > 1e-9 {
		s.work[t.caller] = w
	} else {
		delete(s.work, t.caller)
	}
	if len(s.work) == 0 {
		s.total = 0 // no rounding drift
	}
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

// queued reports the spec cost of the admitted jobs, waiting and running:
// in total and per caller (a copy).
func (s *scheduler) queued() (total float64, byCaller map[string]float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	byCaller = make(map[string]float64, len(s.work))
	for k, v := range s.work {
		byCaller[k] = v
	}
	return max(s.total, 0), byCaller
}
