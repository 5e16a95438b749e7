package gateway

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/fractal-grid/fractal"
)

// safetyReadTicks: a watcher woken by the feed still reads the job itself
// every this many seconds, in case a change was missed while the store's
// watch was down.
const safetyReadTicks = 10

// feed wakes whoever waits on a job — Prefer: wait requests, event streams,
// the dispatcher watching for a cancel — when the job changes: at once for
// this replica's own writes, and through the store's job watch
// (fractal.JobWatcher) for every other replica's.
type feed struct {
	mu   sync.Mutex
	subs map[string]map[*subscription]struct{}
}

// subscription receives the latest version of one job not yet read.
type subscription struct {
	id string
	ch chan *fractal.Job // capacity 1: an unread older version is replaced
}

func (f *feed) subscribe(id string) *subscription {
	s := &subscription{id: id, ch: make(chan *fractal.Job, 1)}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.subs == nil {
		f.subs = map[string]map[*subscription]struct{}{}
	}
	if f.subs[id] == nil {
		f.subs[id] = map[*subscription]struct{}{}
	}
	f.subs[id][s] = struct{}{}
	return s
}

func (f *feed) unsubscribe(s *subscription) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.subs[s.id], s)
	if len(f.subs[s.id]) == 0 {
		delete(f.subs, s.id)
	}
}

// publish hands j to every subscriber of its id without blocking.
func (f *feed) publish(j *fractal.Job) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for s := range f.subs[j.ID] {
		select {
		case <-s.ch: // only publish sends, under mu: after this the send cannot block
		default:
		}
		s.ch <- j
	}
}

// subscribers counts the open subscriptions (for tests and metrics).
func (f *feed) subscribers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, m := range f.subs {
		n += len(m)
	}
	return n
}

// newer reports whether j is a later version than last (nil: none yet): a
// change seen through the store's watch may arrive after this replica
// already published a later one.
func newer(j, last *fractal.Job) bool {
	return last == nil || !j.Updated.Before(last.Updated)
}

// feedLoop publishes every job the store's watch reports, and releases the
// quota of each one that ended, watching again after the watch breaks (a
// store outage), until ctx ends. Without a
// JobWatcher only this replica's own writes are published.
func (g *Gateway) feedLoop(ctx context.Context) {
	w, ok := g.Jobs.(fractal.JobWatcher)
	if !ok {
		return
	}
	for ctx.Err() == nil {
		ch, err := w.WatchJobs(ctx)
		if err != nil {
			if ctx.Err() == nil {
				g.logger.Info("job watch failed; trying again", slog.Any(logKeyError, err))
			}
			sleepCtx(ctx, time.Second)
			continue
		}
		for j := range ch {
			g.feed.publish(j)
			if j.Status.Terminal() {
				g.active.done(j.Owner, j.ID) // frees the key's quota now, not at activeLoop's next pass
			}
		}
		sleepCtx(ctx, 100*time.Millisecond)
	}
}
