package miner

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Job outcomes counted by fractal_miner_jobs_total.
const (
	outcomeDone      = "done"
	outcomeFailed    = "failed"
	outcomeRefused   = "refused"   // the queue was full
	outcomeCancelled = "cancelled" // the caller went away while queued
)

// metrics are the miner's Prometheus series, on the registry passed in.
type metrics struct {
	reg        *prometheus.Registry
	jobs       *prometheus.CounterVec
	generation prometheus.Histogram
}

func newMetrics(reg *prometheus.Registry, s *scheduler) *metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &metrics{
		reg:  reg,
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fractal_miner_jobs_total", Help: "Generation requests by outcome."}, []string{"outcome"}),
		generation: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "fractal_miner_generation_seconds", Help: "Engine time of finished generations.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 12)}),
	}
	queue := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "fractal_miner_queue_depth", Help: "Admitted jobs waiting for a generation slot."},
		func() float64 { d, _, _ := s.stats(); return float64(d) })
	running := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "fractal_miner_running", Help: "Generations running now."},
		func() float64 { _, r, _ := s.stats(); return float64(r) })
	reg.MustRegister(m.jobs, m.generation, queue, running)
	for _, o := range []string{outcomeDone, outcomeFailed, outcomeRefused, outcomeCancelled} {
		m.jobs.WithLabelValues(o) // every series exists from the start
	}
	return m
}

func (m *metrics) job(outcome string)              { m.jobs.WithLabelValues(outcome).Inc() }
func (m *metrics) generated(elapsed time.Duration) { m.generation.Observe(elapsed.Seconds()) }
func (m *metrics) handler() http.Handler           { return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}) }
