package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/apierr"
	"github.com/fractal-grid/fractal/framesfile"
	"github.com/fractal-grid/fractal/gridmap"
	"github.com/fractal-grid/fractal/minerapi"
	"github.com/fractal-grid/fractal/router"
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

// verdict is how one attempt ended, as the dispatcher acts on it. Only
// dispatch acknowledges or returns a delivery.
type verdict int

const (
	jobEnded     verdict = iota // completed, cancelled, or ended by another run: acknowledge
	minerFault                  // the miner failed it: try another miner
	storeDown                   // the store stayed unreachable: leave the job to a later delivery
	shuttingDown                // this replica stops: the delivery goes back unacknowledged
)

// errJobOver aborts a job update because the job already ended.
var errJobOver = fmt.Errorf("job already ended: %w", fractal.ErrConflict)

// errUnchanged aborts a job update that has nothing to write.
var errUnchanged = errors.New("nothing to change")

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

// challengeLoop takes validators' challenges off their own queue until ctx
// ends, each sent at once off this loop (dispatchChallenge), at most
// maxChallengesInFlight at a time.
func (g *Gateway) challengeLoop(ctx context.Context, q fractal.JobQueue) {
	for ctx.Err() == nil {
		select {
		case g.challengeSlots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		d, err := q.Dequeue(ctx)
		if err != nil {
			<-g.challengeSlots
			if ctx.Err() == nil {
				g.logger.Warn("dequeue of challenges failed", slog.Any(logKeyError, err))
				sleepCtx(ctx, time.Second)
			}
			continue
		}
		g.wg.Add(1) // while this loop's own count holds Close's wait open
		go func() {
			defer g.wg.Done()
			defer func() { <-g.challengeSlots }()
			g.dispatchJob(ctx, d, true)
		}()
	}
}

// dispatch runs one delivery: it tries miners until one delivers and the
// result is stored, or until MaxAttempts attempts failed by the miners'
// doing. A store outage is waited out and never fails the job; when it
// lasts too long the delivery is returned for later. A delivery is
// acknowledged only once the job reached a terminal status, so a crash of
// this replica hands the job to another.
func (g *Gateway) dispatch(ctx context.Context, d fractal.Delivery) { g.dispatchJob(ctx, d, false) }

// dispatchJob is dispatch; inline runs a challenge on this goroutine,
// which holds a challenge's slot already.
func (g *Gateway) dispatchJob(ctx context.Context, d fractal.Delivery, inline bool) {
	var job *fractal.Job
	err := g.persist(ctx, d, "read job", func(ctx context.Context) (err error) {
		job, err = g.Jobs.Get(ctx, d.JobID())
		return err
	})
	switch {
	case errors.Is(err, fractal.ErrNotFound):
		d.Ack(ctx) // nothing to do: the record expired
		return
	case err != nil:
		g.later(ctx, d, err)
		return
	case job.Status.Terminal():
		d.Ack(ctx)
		return
	case job.Pinned != nil && inline:
		g.dispatchPinned(ctx, d, job)
		return
	case job.Pinned != nil:
		g.dispatchChallenge(ctx, d, job)
		return
	}
	var gone []string // miners that left the metagraph since the map was synced
	for ctx.Err() == nil && len(job.Attempts) < fractal.MaxJobAttempts {
		faulty, faults := job.Attempts.MinerFaults()
		if faults >= g.Config.MaxAttempts {
			break
		}
		lease, err := g.router.Pick(router.Request{Profile: job.Spec.Profile, Cost: g.costOf(job.Spec), Exclude: append(faulty, gone...)})
		if errors.Is(err, router.ErrNoMiner) {
			if len(faulty)+len(gone) > 0 || g.now().Sub(job.Created) > g.Config.MaxQueueTime || d.Attempt() >= g.Config.MaxDeliveries {
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
		v, next, err := g.attempt(ctx, d, job, leased(lease))
		switch v {
		case jobEnded:
			d.Ack(ctx)
			return
		case storeDown:
			g.later(ctx, d, err)
			return
		case shuttingDown:
			return // the delivery comes back to a live replica
		}
		if next == nil {
			gone = append(gone, lease.Miner)
			continue
		}
		job = next
	}
	if ctx.Err() != nil {
		return
	}
	g.failAll(ctx, d, job, len(gone))
}

// failAll fails a job that no miner could generate.
func (g *Gateway) failAll(ctx context.Context, d fractal.Delivery, job *fractal.Job, gone int) {
	faulty, _ := job.Attempts.MinerFaults()
	reason := "no miner could generate it"
	if n := len(faulty) + gone; n > 0 {
		reason = fmt.Sprintf("%d miners failed to generate it", n)
	}
	g.fail(ctx, d, job, reason)
}

// fail ends a job as failed with reason and acknowledges its delivery; a
// store that cannot take it gets the delivery back for later.
func (g *Gateway) fail(ctx context.Context, d fractal.Delivery, job *fractal.Job, reason string) {
	err := g.persist(ctx, d, "fail job", func(ctx context.Context) error {
		_, err := g.end(ctx, job.ID, fractal.JobFailed, reason, nil)
		return err
	})
	if err != nil && !errors.Is(err, errJobOver) {
		g.later(ctx, d, err)
		return
	}
	d.Ack(ctx)
}

// attempt runs the job on the booked miner and ends the booking. It
// returns the job as stored after a miner fault (nil when the miner was not
// even tried), and the cause of anything but a completed job.
func (g *Gateway) attempt(ctx context.Context, d fractal.Delivery, job *fractal.Job, lease booking) (verdict, *fractal.Job, error) {
	n, ok := g.neuron(lease.Miner)
	if !ok {
		lease.Done(gridmap.Outcome{Result: gridmap.Released})
		return minerFault, nil, fmt.Errorf("miner %s left the metagraph", lease.Miner)
	}
	reqID := minerapi.NewRequestID()
	started := g.now()
	claimed, err := g.update(ctx, d, "start attempt", job.ID, func(j *fractal.Job) error {
		if j.Status.Terminal() {
			return errJobOver
		}
		_, err := j.StartAttempt(reqID, fractal.MinerRef{UID: n.UID, Hotkey: n.Hotkey}, started)
		return err
	})
	if err != nil {
		lease.Done(gridmap.Outcome{Result: gridmap.Released})
		return verdictOf(ctx, err), nil, err
	}
	actx, cancel := context.WithTimeout(ctx, g.attemptTimeout(job))
	defer cancel()
	var cancelled atomic.Bool
	stop := g.watchJob(actx, d, job.ID, func() { cancelled.Store(true); cancel() })
	req := minerapi.GenerateRequest{RequestID: reqID, Spec: job.Spec}
	target := minerapi.Target{URL: "http://" + n.Axon.AddrPort().String(), Hotkey: n.Hotkey}
	progress, stopProgress := g.progressWriter(actx, job.ID)
	sent := g.now()
	pace := g.newPace(job.Spec, lease.Cost)
	out, err := g.client.Generate(actx, target, req, func(e minerapi.Event) {
		switch e.Type {
		case minerapi.EventStarted:
			pace.Started = g.now()
			pace.At = pace.Started
		case minerapi.EventProgress:
			progress(e.Step * 100 / max(e.Steps, 1))
			g.paced(lease.Miner, &pace, e)
		}
	})
	stopProgress()
	stop()
	var file []byte
	if err == nil {
		file, err = framesFile(out) // a result that cannot be encoded is the miner's fault
	}
	switch {
	case cancelled.Load():
		lease.Done(gridmap.Outcome{Result: gridmap.Released})
		g.endAttempt(ctx, job.ID, reqID, fractal.AttemptCancelled, "")
		return jobEnded, nil, nil
	case ctx.Err() != nil:
		lease.Done(gridmap.Outcome{Result: gridmap.Released})
		return shuttingDown, nil, ctx.Err()
	case err != nil && job.Pinned != nil:
		g.shareChallengeFailure(ctx, n, job, reqID, sent, err)
		return g.minerFailed(ctx, d, claimed, lease, reqID, err)
	case err != nil:
		g.shareFailure(ctx, n, job.Spec, reqID, err)
		return g.minerFailed(ctx, d, claimed, lease, reqID, err)
	}
	lease.Done(gridmap.Outcome{Result: gridmap.Succeeded, Service: generation(out)})
	v, err := g.complete(ctx, d, claimed, reqID, out, file)
	switch {
	case v != jobEnded || err != nil:
	case job.Pinned != nil:
		g.shareChallenge(ctx, n, claimed, req, out, sent)
	default:
		g.sample(ctx, n, req, out)
		g.shareSample(ctx, n, claimed, req, out)
	}
	return v, nil, err
}

// framesFile returns the canonical frames file of a miner's result.
func framesFile(out *minerapi.Outcome) ([]byte, error) {
	if out.FramesFile != nil {
		return out.FramesFile, nil
	}
	var buf bytes.Buffer
	if err := framesfile.Marshal(&buf, out.Frames); err != nil {
		return nil, fmt.Errorf("encode the miner's frames: %w", err)
	}
	return buf.Bytes(), nil
}

// minerFailed ends the lease as the miner's failure (or refusal), records
// the attempt and puts the job back to queued for the next miner.
func (g *Gateway) minerFailed(ctx context.Context, d fractal.Delivery, job *fractal.Job, lease booking, reqID string, cause error) (verdict, *fractal.Job, error) {
	o := gridmap.Outcome{Result: gridmap.Failed}
	if errors.Is(cause, fractal.ErrOverloaded) {
		o.Result = gridmap.Rejected
		var ra *apierr.RetryAfterError
		if errors.As(cause, &ra) {
			o.RetryAfter = ra.After
		}
	}
	lease.Done(o)
	g.metrics.attempts.WithLabelValues(string(fractal.AttemptMinerFault)).Inc()
	reason := truncate(cause.Error(), 512)
	now := g.now()
	next, err := g.update(ctx, d, "record failed attempt", job.ID, func(j *fractal.Job) error {
		if j.Status.Terminal() {
			return errJobOver
		}
		if err := j.EndAttempt(reqID, fractal.AttemptMinerFault, reason, now); err != nil {
			return err
		}
		j.Error = reason
		if last := j.Attempts[len(j.Attempts)-1]; last.RequestID != reqID {
			return nil // another run of the job took over meanwhile; it owns the status
		}
		return j.Transition(fractal.JobQueued, now)
	})
	if err != nil {
		return verdictOf(ctx, err), nil, err
	}
	msg := "attempt failed; trying another miner"
	if job.Pinned != nil {
		msg = "challenge failed on its miner"
	}
	g.logger.Info(msg, slog.String(logKeyJob, job.ID), slog.String(logKeyRequest, reqID),
		slog.String(logKeyMiner, lease.Miner), slog.Any(logKeyError, cause))
	return minerFault, next, cause
}

// complete stores the frames and marks the job completed. The miner's
// result is held here while the store is down, for up to StoreOutage.
func (g *Gateway) complete(ctx context.Context, d fractal.Delivery, job *fractal.Job, reqID string, out *minerapi.Outcome, file []byte) (verdict, error) {
	a := job.Attempts.Find(reqID)
	if a == nil {
		return storeDown, fmt.Errorf("job %s has no attempt %s", job.ID, reqID)
	}
	n, miner, started := a.N, a.Miner, a.Started
	key := framesKey(job.ID, n)
	if err := g.persist(ctx, d, "store frames", func(ctx context.Context) error {
		return g.Blobs.Put(ctx, key, bytes.NewReader(file))
	}); err != nil {
		return verdictOf(ctx, err), fmt.Errorf("store frames: %w", err)
	}
	com := out.Result.Receipt.Commitment
	var done *fractal.Job
	err := g.persist(ctx, d, "complete job", func(ctx context.Context) (err error) {
		now := g.now()
		done, err = g.end(ctx, job.ID, fractal.JobCompleted, "", func(j *fractal.Job) {
			j.EndAttempt(reqID, fractal.AttemptCompleted, "", now)
			j.Error, j.ResultAttempt, j.Commitment, j.Miner = "", n, &com, &miner
			j.Timings = fractal.Timings{
				Queue: started.Sub(j.Created), Accept: out.Accepted, FirstProgress: out.FirstProgress,
				Generate: out.Total, Total: now.Sub(j.Created),
			}
		})
		return err
	})
	if errors.Is(err, errJobOver) {
		return g.superseded(ctx, job.ID, reqID, n, key)
	}
	if err != nil {
		return verdictOf(ctx, err), err
	}
	g.metrics.attempts.WithLabelValues(string(fractal.AttemptCompleted)).Inc()
	if done.Pinned == nil {
		g.metrics.latency.Observe(done.Timings.Total.Seconds())
	}
	return jobEnded, nil
}

// superseded handles a result that arrived after the job ended: by our own
// earlier write whose reply was lost (then the job is ours after all), by
// another run that finished first, or by a cancel. Only in the latter cases
// are the frames removed; retention would remove them later anyway.
func (g *Gateway) superseded(ctx context.Context, id, reqID string, n int, key string) (verdict, error) {
	if j, err := g.Jobs.Get(ctx, id); err == nil && j.Status == fractal.JobCompleted && j.ResultAttempt == n {
		g.feed.publish(j)
		return jobEnded, nil
	}
	g.endAttempt(ctx, id, reqID, fractal.AttemptOver, "")
	if err := g.Blobs.Delete(context.WithoutCancel(ctx), key); err != nil && !errors.Is(err, fractal.ErrNotFound) {
		g.logger.Warn("could not remove a superseded attempt's frames", slog.String(logKeyJob, id), slog.Any(logKeyError, err))
	}
	return jobEnded, errJobOver
}

// endAttempt records an attempt's outcome on a job that may have ended; it
// is bookkeeping, so a failure is logged and nothing else.
func (g *Gateway) endAttempt(ctx context.Context, id, reqID string, o fractal.AttemptOutcome, reason string) {
	now := g.now()
	_, err := g.write(context.WithoutCancel(ctx), id, func(j *fractal.Job) error {
		return j.EndAttempt(reqID, o, reason, now)
	})
	if err != nil {
		g.logger.Info("could not record an attempt's outcome", slog.String(logKeyJob, id), slog.String(logKeyRequest, reqID), slog.Any(logKeyError, err))
	}
}

// verdictOf classifies an error of a store call on the dispatch path.
func verdictOf(ctx context.Context, err error) verdict {
	switch {
	case errors.Is(err, errJobOver):
		return jobEnded
	case ctx.Err() != nil:
		return shuttingDown
	}
	return storeDown
}

// later returns a delivery whose job could not be read or written because
// the store stayed unreachable: the job is neither failed nor charged to a
// miner, and runs again from a later delivery.
func (g *Gateway) later(ctx context.Context, d fractal.Delivery, err error) {
	if ctx.Err() != nil {
		return
	}
	g.logger.Warn("store unavailable; the job waits for a later delivery", slog.String(logKeyJob, d.JobID()), slog.Any(logKeyError, err))
	d.Nak(ctx, 5*time.Second) // fails too while the store is down: then AckWait redelivers it
}

// watchJob keeps the delivery alive while a miner works and calls
// cancelled when the owner cancels the job: woken by the job feed, and
// checking the store itself every few seconds in case the feed missed it.
// Call the returned stop when the attempt ends.
func (g *Gateway) watchJob(ctx context.Context, d fractal.Delivery, id string, cancelled func()) (stop func()) {
	sub := g.feed.subscribe(id)
	done := make(chan struct{})
	go func() {
		defer g.feed.unsubscribe(sub)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for tick := 1; ; tick++ {
			var j *fractal.Job
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case j = <-sub.ch:
			case <-t.C:
				d.InProgress(ctx)
				if tick%safetyReadTicks == 0 {
					j, _ = g.Jobs.Get(ctx, id)
				}
			}
			if j != nil && j.Status == fractal.JobCancelled {
				cancelled()
				return
			}
		}
	}()
	return func() { close(done) }
}

// paced tells the grid map how fast the miner runs the attempt, from one
// of its progress events: the pace of the steps done since the last
// event (a miner sends at most one event every so often, with the latest
// step), so that a miner that slows down (throttling, a co-tenant on the
// GPU) is seen within a step or two. p holds the attempt's cost, when its
// engine began and the last step reported; a miner that sent no started
// event, or a step that goes back, tells nothing.
func (g *Gateway) paced(miner string, p *gridmap.Pace, e minerapi.Event) {
	if p.Started.IsZero() || e.Step <= p.Step || e.Steps < e.Step {
		return
	}
	now := g.now()
	p.PrevStep, p.Prev = p.Step, p.At
	p.Step, p.Steps, p.At = e.Step, e.Steps, now
	g.grid.Paced(miner, *p)
}

// generation is how long the miner spent on the job: from its started
// event to the last byte, or from the accepted one for a miner that sends
// none. The time waiting in the miner's queue is not the miner's speed.
func generation(out *minerapi.Outcome) time.Duration {
	if out.Started > 0 {
		return out.Total - out.Started
	}
	return out.Total - out.Accepted
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
	now := g.now()
	g.write(ctx, id, func(j *fractal.Job) error {
		if j.Status != fractal.JobInProgress || j.Progress >= p {
			return errUnchanged
		}
		j.Progress = p
		return j.Transition(fractal.JobInProgress, now)
	})
}

// costOf returns a spec's cost under its pinned profile's cost model; a spec
// that names no pinned profile (a job from before profiles were named) costs
// what the legacy model says.
func (g *Gateway) costOf(spec fractal.Spec) float64 { return g.costModel(spec).Of(spec) }

// costModel returns the cost model of a spec's pinned profile, or the
// legacy one for a spec that names no pinned profile.
func (g *Gateway) costModel(spec fractal.Spec) fractal.CostModel {
	if p, ok := g.Config.Pins.Lookup(spec.Profile); ok {
		return p.Cost
	}
	return fractal.LegacyCost()
}

// newPace starts the pace of an attempt at a spec of the given cost (see
// paced): the part of the cost that its steps take comes from the
// profile's cost model, so that a spec of few steps and a long decode is
// not read as a miner running fast.
func (g *Gateway) newPace(spec fractal.Spec, cost float64) gridmap.Pace {
	return gridmap.Pace{Cost: cost, Share: g.costModel(spec).StepsShare(spec)}
}
