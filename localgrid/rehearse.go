package localgrid

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/fractal-grid/fractal"
)

// Rehearsal is what an upgrade rehearsal measured: jobs submitted at a steady
// rate from before the window opens until after it closes, by phase.
type Rehearsal struct {
	Miners int `json:"miners"`
	Jobs   int `json:"jobs"`
	Failed int `json:"failed"` // failed, cancelled, or refused at submission
	// P99 and Count by the phase a job was submitted in: before the window,
	// during it, after it.
	P99   [3]float64 `json:"p99_s"`
	Count [3]int     `json:"count"`
	// AllServeB is from the window opening to every switching miner serving
	// the new model; Closed to the old model's pin ending (every switching
	// miner then serves the new model only).
	AllServeB float64 `json:"all_serve_b_s"`
	Closed    float64 `json:"closed_s"`
}

// Phases of a rehearsal.
var phases = [3]string{"before", "during", "after"}

// Rehearse starts a grid with cfg (which must hold an Upgrade), submits a job
// every 1/rate seconds through the API until tail after the window closes,
// waits for every job to end and reports. The grid is closed before it returns.
func Rehearse(ctx context.Context, cfg Config, rate float64, tail time.Duration) (*Rehearsal, error) {
	if cfg.Upgrade == nil || rate <= 0 || rate > 50 {
		return nil, fractal.Errorf("rate", "needs an upgrade and a rate in (0, 50] per second, got %g", rate)
	}
	g := New()
	g.Config = cfg
	if err := g.Open(ctx); err != nil {
		return nil, err
	}
	defer g.Close()
	_, key, err := g.Gateway().Keys().Create(ctx, "rehearsal", 10_000, 10_000, 10_000)
	if err != nil {
		return nil, err
	}
	c := &benchClient{base: g.URL(), key: key, http: &http.Client{Timeout: time.Minute}}
	type outcome struct {
		at      time.Time
		latency float64
		ok      bool
	}
	var (
		mu   sync.Mutex
		outs []outcome
		wg   sync.WaitGroup
	)
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	var closedAt time.Time
	for i := 0; closedAt.IsZero() || time.Since(closedAt) < tail; i++ {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
		if st, _ := g.Upgrade(); st.Done > 0 && closedAt.IsZero() {
			closedAt = time.Now()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := outcome{at: time.Now()}
			o.latency, o.ok = c.await(ctx, map[string]any{"prompt": "a red ball bouncing over the ocean at night", "seed": i, "size": "64x64", "steps": 4})
			mu.Lock()
			outs = append(outs, o)
			mu.Unlock()
		}()
	}
	wg.Wait()
	st, _ := g.Upgrade()
	open, last := time.Duration(math.MaxInt64), time.Duration(0)
	for _, d := range st.Moved {
		open, last = min(open, d), max(last, d)
	}
	start := g.upgrade.start
	r := &Rehearsal{Miners: cfg.Miners, Jobs: len(outs), AllServeB: (last - open).Seconds(), Closed: (st.Done - open).Seconds()}
	var lat [3][]float64
	for _, o := range outs {
		p := 0
		switch since := o.at.Sub(start); {
		case since >= st.Done:
			p = 2
		case since >= open:
			p = 1
		}
		r.Count[p]++
		if !o.ok {
			r.Failed++
			continue
		}
		lat[p] = append(lat[p], o.latency)
	}
	for p := range lat {
		r.P99[p] = percentile(lat[p], 0.99)
	}
	return r, nil
}

// await submits a job and polls it until it ends: its seconds to completion,
// and whether it completed.
func (c *benchClient) await(ctx context.Context, body map[string]any) (float64, bool) {
	start := time.Now()
	var v struct{ ID, Status string }
	if err := c.do(ctx, "POST", "v1/videos", body, &v); err != nil {
		return 0, false
	}
	for {
		switch v.Status {
		case string(fractal.JobCompleted):
			return time.Since(start).Seconds(), true
		case string(fractal.JobFailed), string(fractal.JobCancelled):
			return 0, false
		}
		time.Sleep(50 * time.Millisecond)
		if err := c.do(ctx, "GET", "v1/videos/"+v.ID, nil, &v); err != nil {
			return 0, false
		}
	}
}

// percentile returns the q-quantile of xs by nearest rank (0 for none).
func percentile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[min(len(s)-1, int(math.Ceil(q*float64(len(s))))-1)]
}

// String prints the rehearsal as the bench command shows it.
func (r *Rehearsal) String() string {
	out := fmt.Sprintf("upgrade rehearsal: %d miners, %d jobs, %d failed\n", r.Miners, r.Jobs, r.Failed)
	for p, name := range phases {
		out += fmt.Sprintf("  %-6s  %3d jobs  p99 %6.2fs\n", name, r.Count[p], r.P99[p])
	}
	return out + fmt.Sprintf("  every miner serves the new model %.1fs after the window opened; the old pin ended at %.1fs\n", r.AllServeB, r.Closed)
}
