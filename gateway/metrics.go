package gateway

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the gateway's Prometheus series, on a registry passed in.
type metrics struct {
	reg  *prometheus.Registry
	jobs *prometheus.CounterVec
	// challenges are validators' challenges (pinned jobs), kept out of
	// jobs and latency, which are users'.
	challenges *prometheus.CounterVec
	attempts   *prometheus.CounterVec
	routing    *prometheus.CounterVec
	webhooks   *prometheus.CounterVec
	store      *prometheus.CounterVec
	latency    prometheus.Histogram
	swept      prometheus.Counter
}

func newMetrics(reg *prometheus.Registry) *metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &metrics{
		reg:  reg,
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fractal_gateway_jobs_total", Help: "Jobs by status reached."}, []string{"status"}),
		challenges: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fractal_gateway_challenges_total",
			Help: "Validators' challenges sent as jobs, by status reached; not counted in jobs_total."}, []string{"status"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fractal_gateway_attempts_total", Help: "Dispatch attempts by outcome."}, []string{"outcome"}),
		routing:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fractal_gateway_routing_decisions_total", Help: "Routing decisions by result."}, []string{"result"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fractal_gateway_webhooks_total", Help: "Webhook deliveries by result."}, []string{"result"}),
		store: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fractal_gateway_store_faults_total",
			Help: "Store calls on the dispatch path that found the store unavailable, by operation; waited out, never charged to a miner."}, []string{"op"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "fractal_gateway_job_seconds", Help: "Time from acceptance to completion.",
			Buckets: prometheus.ExponentialBuckets(0.1, 2, 12)}),
		swept: prometheus.NewCounter(prometheus.CounterOpts{Name: "fractal_gateway_swept_blobs_total",
			Help: "Blobs of expired, deleted or forgotten videos removed by the sweep."}),
	}
	reg.MustRegister(m.jobs, m.challenges, m.attempts, m.routing, m.webhooks, m.store, m.latency, m.swept)
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
