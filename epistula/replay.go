package epistula

import (
	"container/heap"
	"fmt"
	"sync"

	"github.com/fractal-grid/fractal"
)

// replayCache remembers the (signer, UUID) pairs of accepted requests until
// their timestamps leave the window, so a captured request cannot be sent
// again. It never forgets an unexpired entry: that would reopen the replay.
// Instead it is bounded twice: at most max entries in all, and at most
// perSigner for one signer, so one busy or hostile signer fills only its own
// share. A request that would pass either bound is refused with
// fractal.ErrOverloaded (HTTP 503) until entries expire, at most two windows
// later. Expired entries are dropped in expiry order from a min-heap.
type replayCache struct {
	mu        sync.Mutex
	max       int
	perSigner int
	seen      map[replayKey]struct{}
	bySigner  map[string]int
	expiries  expiryHeap
}

type replayKey struct{ signer, id string }

type replayEntry struct {
	key    replayKey
	expiry int64 // unix ms after which the request is stale anyway
}

func newReplayCache(max, perSigner int) *replayCache {
	return &replayCache{
		max:       max,
		perSigner: perSigner,
		seen:      make(map[replayKey]struct{}),
		bySigner:  make(map[string]int),
	}
}

// add records (signer, id) with its expiry, refusing a pair already seen.
func (c *replayCache) add(signer, id string, expiry, nowMs int64) error {
	key := replayKey{signer, id}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expire(nowMs)
	if _, dup := c.seen[key]; dup {
		return refuse(ErrReplay, "%s %s was already used by %.64s", HeaderUUID, id, signer)
	}
	if len(c.seen) >= c.max {
		return fmt.Errorf("epistula: replay cache is full (%d requests in the window); retry shortly: %w", c.max, fractal.ErrOverloaded)
	}
	if c.bySigner[signer] >= c.perSigner {
		return fmt.Errorf("epistula: %.64s has %d requests in the window, the most one signer may have; retry shortly: %w", signer, c.perSigner, fractal.ErrOverloaded)
	}
	c.seen[key] = struct{}{}
	c.bySigner[signer]++
	heap.Push(&c.expiries, replayEntry{key: key, expiry: expiry})
	return nil
}

// expire drops every entry whose expiry is before nowMs.
func (c *replayCache) expire(nowMs int64) {
	for len(c.expiries) > 0 && c.expiries[0].expiry < nowMs {
		e := heap.Pop(&c.expiries).(replayEntry)
		delete(c.seen, e.key)
		if n := c.bySigner[e.key.signer]; n <= 1 {
			delete(c.bySigner, e.key.signer)
		} else {
			c.bySigner[e.key.signer] = n - 1
		}
	}
}

func (c *replayCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}

// expiryHeap is a min-heap of entries by expiry.
type expiryHeap []replayEntry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].expiry < h[j].expiry }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(replayEntry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
