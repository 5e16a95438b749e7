package miner

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/minerapi"
)

// syncBuffer is a bytes.Buffer safe for the pump and the test at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	err error
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return 0, b.err
	}
	return b.buf.Write(p)
}

// steps returns the steps of the progress events written so far.
func (b *syncBuffer) steps(t *testing.T) []int {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []int
	sc := bufio.NewScanner(bytes.NewReader(b.buf.Bytes()))
	for sc.Scan() {
		var e minerapi.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Type != minerapi.EventProgress {
			t.Fatalf("line %q: %v, want a progress event", sc.Bytes(), err)
		}
		out = append(out, e.Step)
	}
	return out
}

func TestProgressPumpCoalesces(t *testing.T) {
	// A fast engine: 200 steps reported back to back, far inside one
	// interval. Fewer events go out, in order, ending at the last step.
	var buf syncBuffer
	p := startProgress(minerapi.NewStreamWriter(&buf), time.Hour)
	for k := 1; k <= 200; k++ {
		p.report(fractal.Progress{Step: k, Steps: 200})
	}
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}
	got := buf.steps(t)
	if len(got) == 0 || len(got) > 2 || got[len(got)-1] != 200 || !slices.IsSorted(got) {
		t.Errorf("steps %v, want one or two events (the first report, then the last), ending at 200", got)
	}
}

func TestProgressPumpSendsEverySlowStep(t *testing.T) {
	// A slow engine: each report is written before the next comes.
	var buf syncBuffer
	p := startProgress(minerapi.NewStreamWriter(&buf), time.Millisecond)
	const steps = 5
	for k := 1; k <= steps; k++ {
		p.report(fractal.Progress{Step: k, Steps: steps})
		deadline := time.Now().Add(10 * time.Second)
		for got := buf.steps(t); len(got) < k; got = buf.steps(t) {
			if time.Now().After(deadline) {
				t.Fatalf("step %d not written after 10 s; written %v", k, got)
			}
			time.Sleep(time.Millisecond)
		}
	}
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}
	if got := buf.steps(t); !slices.Equal(got, []int{1, 2, 3, 4, 5}) {
		t.Errorf("steps %v, want every step once", got)
	}
}

func TestProgressPumpWriteError(t *testing.T) {
	// A caller gone: the first failed write is what stop returns, and
	// nothing more is tried.
	gone := errors.New("connection reset")
	buf := syncBuffer{err: gone}
	p := startProgress(minerapi.NewStreamWriter(&buf), time.Millisecond)
	p.report(fractal.Progress{Step: 1, Steps: 3})
	p.report(fractal.Progress{Step: 3, Steps: 3})
	if err := p.stop(); !errors.Is(err, gone) {
		t.Errorf("stop: %v, want the write error", err)
	}
}
