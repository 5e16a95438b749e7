package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Run sends the load, follows the accepted jobs and returns the report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	client := cfg.Client
	if client == nil {
		client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: cfg.MaxInFlight, MaxConnsPerHost: 0}}
	}
	r := &runner{cfg: cfg, client: client, rep: &Report{Rate: cfg.Rate, OtherByStatus: map[string]int{}}}
	rss := startRSS(ctx, cfg.PID)
	defer rss.stop()
	start := time.Now()
	r.send(ctx)
	sent := time.Since(start)
	r.rep.DurationSec = sent.Seconds()
	r.rep.AcceptedPerSec = float64(r.rep.Accepted) / sent.Seconds()
	r.rep.Latency = percentiles(r.latencies)
	if err := r.follow(ctx); err != nil {
		return r.rep, err
	}
	r.rep.PeakRSSBytes = rss.stop()
	if len(r.rep.OtherByStatus) == 0 {
		r.rep.OtherByStatus = nil
	}
	return r.rep, ctx.Err()
}

type runner struct {
	cfg    Config
	client *http.Client
	rep    *Report

	mu        sync.Mutex
	latencies []time.Duration
	accepted  []string // job ids
}

// send issues requests on a fixed schedule (open loop): request i is due at
// start + i/rate, whatever happened to the ones before.
func (r *runner) send(ctx context.Context) {
	total := int(r.cfg.Rate * r.cfg.Duration.Seconds())
	interval := time.Duration(float64(time.Second) / r.cfg.Rate)
	sem := make(chan struct{}, r.cfg.MaxInFlight)
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < total && ctx.Err() == nil; i++ {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
		}
		select {
		case sem <- struct{}{}:
		default:
			r.mu.Lock()
			r.rep.Dropped++
			r.mu.Unlock()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r.post(ctx)
		}()
	}
	wg.Wait()
}

// post sends one create request and records the answer.
func (r *runner) post(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.cfg.Target+"/v1/videos", bytes.NewReader(r.cfg.Body))
	if err != nil {
		r.record(0, "", "", 0, err)
		return
	}
	req.Header.Set("Authorization", "Bearer "+r.cfg.Key)
	req.Header.Set("Content-Type", "application/json")
	t0 := time.Now()
	resp, err := r.client.Do(req)
	if err != nil {
		r.record(0, "", "", time.Since(t0), err)
		return
	}
	defer resp.Body.Close()
	var v struct {
		ID string `json:"id"`
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	took := time.Since(t0)
	if resp.StatusCode/100 == 2 {
		json.Unmarshal(body, &v)
	}
	r.record(resp.StatusCode, v.ID, resp.Header.Get("Retry-After"), took, nil)
}

func (r *runner) record(status int, id, retryAfter string, took time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rep.Sent++
	if took > 0 {
		r.latencies = append(r.latencies, took)
	}
	switch {
	case err != nil:
		r.rep.Other++
		r.rep.OtherByStatus["transport"]++
	case (status == http.StatusAccepted || status == http.StatusOK) && id != "":
		r.rep.Accepted++
		r.accepted = append(r.accepted, id)
	case status == http.StatusTooManyRequests:
		r.rep.Overloaded++
		if n, err := strconv.Atoi(retryAfter); err != nil || n < 1 {
			r.rep.MissingRetryAfter++
		}
	default:
		r.rep.Other++
		r.rep.OtherByStatus[strconv.Itoa(status)]++
	}
}

func percentiles(ds []time.Duration) Percentiles {
	if len(ds) == 0 {
		return Percentiles{}
	}
	slices.Sort(ds)
	at := func(q float64) float64 {
		i := min(int(q*float64(len(ds))), len(ds)-1)
		return float64(ds[i].Microseconds()) / 1000
	}
	return Percentiles{P50: at(0.50), P90: at(0.90), P99: at(0.99), Max: float64(ds[len(ds)-1].Microseconds()) / 1000}
}

// String prints the report for people.
func (r *Report) String() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "sent %d at %g/s for %.1fs: accepted %d (%.1f/s), 429 %d (without Retry-After %d), other %d %v, dropped %d\n",
		r.Sent, r.Rate, r.DurationSec, r.Accepted, r.AcceptedPerSec, r.Overloaded, r.MissingRetryAfter, r.Other, r.OtherByStatus, r.Dropped)
	fmt.Fprintf(&b, "POST latency ms: p50 %.1f  p90 %.1f  p99 %.1f  max %.1f\n", r.Latency.P50, r.Latency.P90, r.Latency.P99, r.Latency.Max)
	fmt.Fprintf(&b, "accepted jobs: completed %d, failed %d (without reason %d), cancelled %d, unfinished %d, lost %d; all ended %.1fs after the last request\n",
		r.Completed, r.Failed, r.FailedNoReason, r.Cancelled, r.Unfinished, r.Lost, r.DrainSec)
	for _, reason := range r.FailReasons {
		fmt.Fprintf(&b, "  failure: %s\n", reason)
	}
	if r.PeakRSSBytes > 0 {
		fmt.Fprintf(&b, "gateway peak RSS: %.1f MiB\n", float64(r.PeakRSSBytes)/(1<<20))
	}
	return b.String()
}
