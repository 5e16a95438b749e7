package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/fractal-grid/fractal"
)

// end moves a job to a terminal status — completed, failed or cancelled —
// in one update (fill records the result beside it), then tells whoever
// waits: the metrics, the log, Prefer: wait requests and event streams, and
// the job's webhook. It returns errJobOver when the job had already ended.
func (g *Gateway) end(ctx context.Context, id string, status fractal.JobStatus, reason string, fill func(*fractal.Job)) (*fractal.Job, error) {
	now := g.now()
	j, err := g.Jobs.Update(ctx, id, func(j *fractal.Job) error {
		if j.Status.Terminal() {
			return fmt.Errorf("video %s is already %s: %w", id, j.Status, errJobOver)
		}
		if fill != nil {
			fill(j)
		}
		if reason != "" {
			j.Error = truncate(reason, 512)
		}
		return j.Transition(status, now)
	})
	if err != nil {
		return nil, err
	}
	g.feed.publish(j)
	if j.Pinned != nil {
		g.metrics.challenges.WithLabelValues(string(status)).Inc()
	} else {
		g.metrics.jobs.WithLabelValues(string(status)).Inc()
	}
	attrs := []any{slog.String(logKeyJob, id), slog.String("status", string(status))}
	if reason != "" {
		attrs = append(attrs, slog.String("reason", reason))
	}
	if j.Miner != nil && status == fractal.JobCompleted {
		attrs = append(attrs, slog.String(logKeyMiner, j.Miner.Hotkey), slog.Duration("total", j.Timings.Total))
	}
	g.logger.Info("job ended", attrs...)
	g.notify(j)
	return j, nil
}

// write updates a job once and wakes whoever waits on it.
func (g *Gateway) write(ctx context.Context, id string, fn func(*fractal.Job) error) (*fractal.Job, error) {
	j, err := g.Jobs.Update(ctx, id, fn)
	if err == nil {
		g.feed.publish(j)
	}
	return j, err
}

// update is write on the dispatch path, waiting out a store outage.
func (g *Gateway) update(ctx context.Context, d fractal.Delivery, what, id string, fn func(*fractal.Job) error) (*fractal.Job, error) {
	var j *fractal.Job
	err := g.persist(ctx, d, what, func(ctx context.Context) (err error) {
		j, err = g.write(ctx, id, fn)
		return err
	})
	return j, err
}

// persist runs one store call, waiting out a store outage: while the call
// fails with a store fault (unavailable, or a call's deadline) it is tried
// again with backoff, the delivery kept alive meanwhile, for up to
// Config.StoreOutage. Any other error returns at once.
func (g *Gateway) persist(ctx context.Context, d fractal.Delivery, what string, call func(context.Context) error) error {
	budget, cancel := context.WithTimeout(ctx, g.Config.StoreOutage)
	defer cancel()
	delay := 100 * time.Millisecond
	for try := 1; ; try++ {
		err := call(ctx)
		if err == nil || !storeFault(ctx, err) {
			return err
		}
		g.metrics.store.WithLabelValues(what).Inc()
		if try == 1 {
			g.logger.Warn("store unavailable; waiting for it", slog.String("op", what), slog.String(logKeyJob, d.JobID()), slog.Any(logKeyError, err))
		}
		d.InProgress(ctx)
		if !sleepCtx(budget, delay) {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("%s: the store stayed unavailable for %s: %w", what, g.Config.StoreOutage, err)
		}
		delay = min(2*delay, 2*time.Second)
	}
}

// storeFault reports an error of a store call that the store's recovery
// may cure: it is unavailable (a leader election, no responders) or the
// call ran out of time while the dispatcher itself still runs.
func storeFault(ctx context.Context, err error) bool {
	return ctx.Err() == nil && (errors.Is(err, fractal.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
