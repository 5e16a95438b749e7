package miner

import (
	"sync"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/minerapi"
)

// progressInterval is the least time between two progress events after
// the first. The reference engine's steps are milliseconds apart: an event
// per step cost a default job about 20 ms of writes and wake-ups, more
// than a step. A GPU engine's steps, a second or so apart, each get one.
const progressInterval = 50 * time.Millisecond

// progressPump streams progress events from a goroutine of its own, so the
// engine never waits on the network between steps. It sends the first
// report at once, then at most one per interval (the latest step), and the
// last report before it stops.
type progressPump struct {
	out      *minerapi.StreamWriter
	interval time.Duration
	wake     chan struct{}
	quit     chan struct{}
	done     chan struct{}

	mu     sync.Mutex
	latest fractal.Progress
	sent   int // step of the last event written
	err    error
}

func startProgress(out *minerapi.StreamWriter, interval time.Duration) *progressPump {
	p := &progressPump{out: out, interval: interval, wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go p.run()
	return p
}

// report records the engine's progress; it never blocks.
func (p *progressPump) report(pr fractal.Progress) {
	p.mu.Lock()
	p.latest = pr
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// stop sends the last report if it is not out yet and returns the first
// error writing to the stream. The stream is the caller's again after it.
func (p *progressPump) stop() error {
	close(p.quit)
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

func (p *progressPump) run() {
	defer close(p.done)
	var last time.Time
	for {
		select {
		case <-p.wake:
		case <-p.quit:
			p.send()
			return
		}
		if wait := p.interval - time.Since(last); !last.IsZero() && wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-p.quit:
				t.Stop()
				p.send()
				return
			}
		}
		p.send()
		last = time.Now()
	}
}

// send writes the latest report unless it was written already.
func (p *progressPump) send() {
	p.mu.Lock()
	pr, skip := p.latest, p.latest.Step <= p.sent || p.err != nil
	p.mu.Unlock()
	if skip {
		return
	}
	err := p.out.Event(minerapi.Event{Type: minerapi.EventProgress, Step: pr.Step, Steps: pr.Steps})
	p.mu.Lock()
	p.sent, p.err = pr.Step, err
	p.mu.Unlock()
}
