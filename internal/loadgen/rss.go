package loadgen

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// rssSampler follows a process's resident memory: the kernel's high-water
// mark (VmHWM) where it is kept, and the largest VmRSS sampled.
type rssSampler struct {
	pid      int
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	stopOnce sync.Once
	mu       sync.Mutex
	peak     int64
}

func startRSS(ctx context.Context, pid int) *rssSampler {
	s := &rssSampler{pid: pid}
	if pid <= 0 {
		return s
	}
	ctx, s.cancel = context.WithCancel(ctx)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			s.sample()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *rssSampler) sample() {
	hwm, rss, err := ReadRSS(s.pid)
	if err != nil {
		return
	}
	s.mu.Lock()
	s.peak = max(s.peak, hwm, rss)
	s.mu.Unlock()
}

// stop ends the sampling and returns the peak in bytes (0 without a pid).
// Calling it again returns the same peak.
func (s *rssSampler) stop() int64 {
	if s.cancel == nil {
		return 0
	}
	s.stopOnce.Do(func() {
		s.sample()
		s.cancel()
		s.wg.Wait()
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

// ReadRSS returns a process's peak (VmHWM) and current (VmRSS) resident
// memory in bytes, from /proc/PID/status.
func ReadRSS(pid int) (hwm, rss int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("read memory of process %d: %w", pid, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (name != "VmHWM" && name != "VmRSS") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("process %d: %s %q: %w", pid, name, v, err)
		}
		if name == "VmHWM" {
			hwm = kb << 10
		} else {
			rss = kb << 10
		}
	}
	return hwm, rss, sc.Err()
}
