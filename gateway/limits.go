package gateway

import (
	"math"
	"sync"
	"time"
)

// bucket is a token bucket.
type bucket struct {
	tokens float64
	at     time.Time
}

// limiter keeps one token bucket per name (API key id or client address),
// bounded in memory: idle, full buckets are dropped.
type limiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	max     int
}

func newLimiter(max int) *limiter { return &limiter{buckets: map[string]*bucket{}, max: max} }

// take removes one token from name's bucket (rate per second, burst size)
// and returns 0, or how long until a token is available.
func (l *limiter) take(name string, rate float64, burst int, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[name]
	if !ok {
		if len(l.buckets) >= l.max {
			l.pruneLocked(now, rate, burst)
		}
		b = &bucket{tokens: float64(burst), at: now}
		l.buckets[name] = b
	}
	// Callers read the clock before they wait for the lock, so now may be
	// before the last take: that refills nothing, and must drain nothing.
	if now.After(b.at) {
		b.tokens = math.Min(float64(burst), b.tokens+now.Sub(b.at).Seconds()*rate)
		b.at = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return time.Duration((1 - b.tokens) / rate * float64(time.Second))
}

// pruneLocked drops buckets that have refilled (their owners are idle).
func (l *limiter) pruneLocked(now time.Time, rate float64, burst int) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*rate >= float64(burst) {
			delete(l.buckets, k)
		}
	}
}

// active counts unfinished jobs per API key accepted by this replica.
type active struct {
	mu   sync.Mutex
	jobs map[string]map[string]bool // owner → job ids
}

func newActive() *active { return &active{jobs: map[string]map[string]bool{}} }

// add records job for owner unless owner already has limit unfinished jobs.
func (a *active) add(owner, job string, limit int) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	m := a.jobs[owner]
	if len(m) >= limit {
		return false
	}
	if m == nil {
		m = map[string]bool{}
		a.jobs[owner] = m
	}
	m[job] = true
	return true
}

func (a *active) done(owner, job string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.jobs[owner], job)
	if len(a.jobs[owner]) == 0 {
		delete(a.jobs, owner)
	}
}

// all returns every tracked (owner, job) pair.
func (a *active) all() [][2]string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out [][2]string
	for owner, m := range a.jobs {
		for id := range m {
			out = append(out, [2]string{owner, id})
		}
	}
	return out
}

// peek returns how long until name's bucket holds a token, without taking
// one (0 when it holds one now or has none yet).
func (l *limiter) peek(name string, rate float64, burst int, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[name]
	if !ok {
		return 0
	}
	tokens := math.Min(float64(burst), b.tokens+max(now.Sub(b.at), 0).Seconds()*rate)
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) / rate * float64(time.Second))
}
