package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/apierr"
	"github.com/fractal-grid/fractal/gridmap"
	"github.com/fractal-grid/fractal/minerapi"
	"github.com/fractal-grid/fractal/router"
	"github.com/fractal-grid/fractal/video"
)

// framesKey is where the canonical frames of a job's attempt are stored:
// one blob per attempt, so two runs of one job (a dispatcher cut off from
// NATS past AckWait, and the replica that took the job over) never write
// the same blob. Attempt 0 is the one key of records from before.
func framesKey(id string, attempt int) string {
	if attempt == 0 {
		return "frames." + id
	}
	return "frames." + id + "." + strconv.Itoa(attempt)
}

// dispatchLoop takes jobs off the queue until ctx ends.
func (g *Gateway) dispatchLoop(ctx context.Context) {
	for ctx.Err() == nil {
		d, err := g.Queue.Dequeue(ctx)
		if err != nil {
			if ctx.Err() == nil {
				g.logger.Warn("dequeue failed", slog.Any(logKeyError, err))
				sleepCtx(ctx, time.Second)
			}
			continue
		}
		g.dispatch(ctx, d)
	}
}

// dispatch runs one delivery: it tries miners until one delivers, then
// stores the result and completes the job. A delivery is acknowledged only
// once the job reached a terminal status, so a crash of this replica hands
// the job to another.
func (g *Gateway) dispatch(ctx context.Context, d fractal.Delivery) {
	job, err := g.Jobs.Get(ctx, d.JobID())
	if errors.Is(err, fractal.ErrNotFound) {
		d.Ack(ctx) // nothing to do: the record expired
		return
	}
	if err != nil {
		d.Nak(ctx, time.Second)
		return
	}
	if job.Status.Terminal() {
		d.Ack(ctx)
		return
	}
	var tried []string
	for attempt := 0; attempt < g.Config.MaxAttempts && ctx.Err() == nil; attempt++ {
		id, err := g.router.Pick(router.Request{Cost: job.Spec.Cost(), Exclude: tried})
		if errors.Is(err, router.ErrNoMiner) {
			if len(tried) > 0 || g.now().Sub(job.Created) > g.Config.MaxQueueTime || d.Attempt() >= g.Config.MaxDeliveries {
				break
			}
			// Nobody can take it now: back to the queue for a while,
			// waiting longer each time.
			g.metrics.routing.WithLabelValues("no_miner").Inc()
			d.Nak(ctx, min(time.Second<<min(d.Attempt()-1, 5), 30*time.Second))
			return
		}
		if err != nil {
			break
		}
		g.metrics.routing.WithLabelValues("picked").Inc()
		tried = append(tried, id)
		done, err := g.attempt(ctx, d, job, id)
		if done || ctx.Err() != nil {
			return
		}
		g.logger.Info("attempt failed; trying another miner", slog.String(logKeyJob, job.ID), slog.String(logKeyMiner, id), slog.Any(logKeyError, err))
	}
	if ctx.Err() != nil {
		return // shutting down: the delivery comes back to a live replica
	}
	reason := "no miner could generate it"
	if len(tried) > 0 {
		reason = fmt.Sprintf("%d miners failed to generate it", len(tried))
	}
	g.failJob(ctx, job.ID, reason)
	d.Ack(ctx)
}

// attempt runs the job on one miner. done means the job reached a terminal
// status (completed, or cancelled meanwhile) and the delivery was acked.
func (g *Gateway) attempt(ctx context.Context, d fractal.Delivery, job *fractal.Job, minerID string) (bool, error) {
	n, ok := g.neuron(minerID)
	if !ok {
		g.grid.Finished(minerID, gridmap.Outcome{Result: gridmap.Rejected, Cost: job.Spec.Cost()})
		return false, fmt.Errorf("miner %s left the metagraph", minerID)
	}
	started := g.now()
	job, err := g.Jobs.Update(ctx, job.ID, func(j *fractal.Job) error {
		if j.Status.Terminal() {
			return fmt.Errorf("job is %s: %w", j.Status, errJobOver)
		}
		j.Status, j.Attempts, j.Progress = fractal.JobInProgress, j.Attempts+1, 0
		j.Miner = &fractal.MinerRef{UID: n.UID, Hotkey: n.Hotkey}
		j.Started, j.Updated = started, started
		return nil
	})
	if err != nil {
		g.grid.Finished(minerID, gridmap.Outcome{Result: gridmap.Rejected, Cost: 1})
		if errors.Is(err, errJobOver) {
			d.Ack(ctx)
			return true, nil
		}
		return false, err
	}
	actx, cancel := context.WithTimeout(ctx, g.Config.AttemptTimeout+time.Duration(job.Spec.Cost()*float64(g.Config.SecsPerCost)))
	defer cancel()
	stop := g.watchJob(actx, cancel, d, job.ID)
	req := minerapi.GenerateRequest{JobID: minerapi.NewJobID(), Spec: job.Spec}
	target := minerapi.Target{URL: "http://" + n.Axon.AddrPort().String(), Hotkey: n.Hotkey}
	progress, stopProgress := g.progressWriter(actx, job.ID)
	out, err := g.client.Generate(actx, target, req, func(e minerapi.Event) {
		if e.Type == minerapi.EventProgress {
			progress(e.Step * 100 / max(e.Steps, 1))
		}
	})
	stopProgress()
	stop()
	if err != nil {
		return g.attemptFailed(ctx, d, job, minerID, err)
	}
	g.grid.Finished(minerID, gridmap.Outcome{Result: gridmap.Succeeded, Service: out.Total - out.Accepted, Cost: job.Spec.Cost()})
	if err := g.complete(ctx, job, out, started); err != nil {
		if errors.Is(err, errJobOver) {
			d.Ack(ctx)
			return true, nil
		}
		return false, err
	}
	d.Ack(ctx)
	if g.Organic != nil {
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			g.Organic(context.WithoutCancel(ctx), n, req, out)
		}()
	}
	return true, nil
}

var errJobOver = errors.New("job already ended")

// attemptFailed records a failed attempt on the grid map and puts the job
// back to queued for the next miner.
func (g *Gateway) attemptFailed(ctx context.Context, d fractal.Delivery, job *fractal.Job, minerID string, err error) (bool, error) {
	outcome := gridmap.Outcome{Result: gridmap.Failed, Cost: job.Spec.Cost()}
	var ra *apierr.RetryAfterError
	if errors.Is(err, fractal.ErrOverloaded) {
		outcome.Result = gridmap.Rejected
		if errors.As(err, &ra) {
			outcome.RetryAfter = ra.After
		}
	}
	if errors.Is(err, context.Canceled) && ctx.Err() == nil {
		// The job was cancelled by its owner while running.
		g.grid.Finished(minerID, gridmap.Outcome{Result: gridmap.Rejected, Cost: job.Spec.Cost()})
		d.Ack(ctx)
		return true, nil
	}
	g.grid.Finished(minerID, outcome)
	g.metrics.attempts.WithLabelValues("failed").Inc()
	_, uerr := g.Jobs.Update(ctx, job.ID, func(j *fractal.Job) error {
		if j.Status.Terminal() {
			return errJobOver
		}
		j.Status, j.Progress, j.Error, j.Updated = fractal.JobQueued, 0, truncate(err.Error(), 512), g.now()
		return nil
	})
	if errors.Is(uerr, errJobOver) {
		d.Ack(ctx)
		return true, nil
	}
	return false, err
}

// watchJob keeps the delivery alive while a miner works and cancels the
// attempt when the owner cancels the job. Call the returned stop when the
// attempt ends.
func (g *Gateway) watchJob(ctx context.Context, cancel context.CancelFunc, d fractal.Delivery, id string) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			d.InProgress(ctx)
			if j, err := g.Jobs.Get(ctx, id); err == nil && j.Status == fractal.JobCancelled {
				cancel()
				return
			}
		}
	}()
	return func() { close(done) }
}

// progressWriter stores a job's progress off the stream's path: report
// never blocks, and only the latest value (in 10% steps) is written.
func (g *Gateway) progressWriter(ctx context.Context, id string) (report func(int), stop func()) {
	latest := make(chan int, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for p := range latest {
			g.setProgress(ctx, id, min(p, 99))
		}
	}()
	last := -1
	report = func(p int) {
		if p/10 == last/10 {
			return
		}
		last = p
		select {
		case <-latest: // replace a value not yet written
		default:
		}
		latest <- p
	}
	return report, func() { close(latest); <-done }
}

func (g *Gateway) setProgress(ctx context.Context, id string, p int) {
	g.Jobs.Update(ctx, id, func(j *fractal.Job) error {
		if j.Status != fractal.JobInProgress || j.Progress >= p {
			return errJobOver
		}
		j.Progress, j.Updated = p, g.now()
		return nil
	})
}

// complete stores the frames and marks the job completed.
func (g *Gateway) complete(ctx context.Context, job *fractal.Job, out *minerapi.Outcome, started time.Time) error {
	file := out.FramesFile
	if file == nil {
		var buf bytes.Buffer
		if err := video.MarshalFrames(&buf, out.Frames); err != nil {
			return err
		}
		file = buf.Bytes()
	}
	key := framesKey(job.ID, job.Attempts)
	if err := g.Blobs.Put(ctx, key, bytes.NewReader(file)); err != nil {
		return fmt.Errorf("store frames: %w", err)
	}
	now := g.now()
	com := out.Result.Receipt.Commitment
	done, err := g.Jobs.Update(ctx, job.ID, func(j *fractal.Job) error {
		if j.Status.Terminal() {
			return errJobOver
		}
		j.Status, j.Progress, j.Error = fractal.JobCompleted, 100, ""
		j.ResultAttempt = job.Attempts
		j.Commitment = &com
		j.Finished, j.Updated = now, now
		j.Timings = fractal.Timings{
			Queue: started.Sub(j.Created), Accept: out.Accepted, FirstProgress: out.FirstProgress,
			Generate: out.Total, Total: now.Sub(j.Created),
		}
		return nil
	})
	if errors.Is(err, errJobOver) {
		// Another run finished it first, or it was cancelled: its frames
		// are not this attempt's. Retention would remove them later.
		if err := g.Blobs.Delete(context.WithoutCancel(ctx), key); err != nil && !errors.Is(err, fractal.ErrNotFound) {
			g.logger.Warn("could not remove a superseded attempt's frames", slog.String(logKeyJob, job.ID), slog.Any(logKeyError, err))
		}
	}
	if err != nil {
		return err
	}
	g.metrics.jobs.WithLabelValues(string(fractal.JobCompleted)).Inc()
	g.metrics.latency.Observe(done.Timings.Total.Seconds())
	g.logger.Info("job completed", slog.String(logKeyJob, job.ID), slog.String(logKeyMiner, done.Miner.Hotkey), slog.Duration("total", done.Timings.Total))
	g.finished(done)
	return nil
}

// failJob marks a job failed with a reason.
func (g *Gateway) failJob(ctx context.Context, id, reason string) {
	j, err := g.Jobs.Update(ctx, id, func(j *fractal.Job) error {
		if j.Status.Terminal() {
			return errJobOver
		}
		j.Status, j.Error = fractal.JobFailed, truncate(reason, 512)
		j.Finished, j.Updated = g.now(), g.now()
		return nil
	})
	if err != nil {
		return
	}
	g.metrics.jobs.WithLabelValues(string(fractal.JobFailed)).Inc()
	g.logger.Warn("job failed", slog.String(logKeyJob, id), slog.String("reason", reason))
	g.finished(j)
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
