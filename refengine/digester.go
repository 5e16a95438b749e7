package refengine

import (
	"sync"

	"github.com/fractal-grid/fractal"
)

// digester hashes states on a goroutine of its own, so that hashing state t
// overlaps computing state t+1. Each digest lands at its own index, so the
// result does not depend on scheduling.
type digester struct {
	out  []fractal.Digest
	in   chan digestJob
	wg   sync.WaitGroup
	once sync.Once
}

// digestQueue bounds how many states wait for their digest, and so the
// memory a large generation holds.
const digestQueue = 2

type digestJob struct {
	t int
	s fractal.State
}

func newDigester(out []fractal.Digest) *digester {
	d := &digester{out: out, in: make(chan digestJob, digestQueue)}
	d.wg.Go(func() {
		for j := range d.in {
			d.out[j.t] = j.s.Digest()
		}
	})
	return d
}

func (d *digester) add(t int, s fractal.State) { d.in <- digestJob{t, s} }

// close waits for every queued digest; it is safe to call twice.
func (d *digester) close() {
	d.once.Do(func() { close(d.in) })
	d.wg.Wait()
}
