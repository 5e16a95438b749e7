package validator

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the validator's Prometheus series, on the registry passed in
// (the gateway running inside the validator serves them at /metrics).
type metrics struct {
	challenges    prometheus.Counter
	verifications *prometheus.CounterVec
	reopened      *prometheus.CounterVec
	weightsSet    prometheus.Counter
	chainBlock    prometheus.Gauge
	graphBlock    prometheus.Gauge

	mu       sync.Mutex
	syncedAt time.Time
}

func newMetrics(reg *prometheus.Registry, now func() time.Time) *metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &metrics{
		challenges: prometheus.NewCounter(prometheus.CounterOpts{Name: "fractal_validator_challenges_total", Help: "Challenges sent to miners."}),
		verifications: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fractal_validator_verifications_total",
			Help: "Verdicts on miners' work by kind (challenge, organic), result (pass, fail) and reason."}, []string{"kind", "result", "reason"}),
		reopened: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fractal_validator_reopened_total",
			Help: "Late openings asked again, by how it ended: ok, open_refused, or the failed check's reason."}, []string{"result"}),
		weightsSet: prometheus.NewCounter(prometheus.CounterOpts{Name: "fractal_validator_weights_set_total", Help: "Successful set_weights calls."}),
		chainBlock: prometheus.NewGauge(prometheus.GaugeOpts{Name: "fractal_validator_chain_block", Help: "The newest block the chain announced."}),
		graphBlock: prometheus.NewGauge(prometheus.GaugeOpts{Name: "fractal_validator_metagraph_block", Help: "The block of the last metagraph synced."}),
	}
	age := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "fractal_validator_metagraph_age_seconds", Help: "Time since the last successful metagraph sync (-1: none yet)."},
		func() float64 {
			m.mu.Lock()
			defer m.mu.Unlock()
			if m.syncedAt.IsZero() {
				return -1
			}
			return now().Sub(m.syncedAt).Seconds()
		})
	reg.MustRegister(m.challenges, m.verifications, m.reopened, m.weightsSet, m.chainBlock, m.graphBlock, age)
	return m
}

// synced records a successful metagraph sync at block.
func (m *metrics) synced(block uint64, at time.Time) {
	m.graphBlock.Set(float64(block))
	m.mu.Lock()
	m.syncedAt = at
	m.mu.Unlock()
}

// verdict counts one recorded verification.
func (m *metrics) verdict(rec Record) {
	kind, result := "challenge", "fail"
	if rec.Organic {
		kind = "organic"
	}
	if rec.OK {
		result = "pass"
	}
	m.verifications.WithLabelValues(kind, result, rec.Reason).Inc()
}
