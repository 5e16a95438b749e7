package miner

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/apierr"
	"github.com/fractal-grid/fractal/framesfile"
	"github.com/fractal-grid/fractal/minerapi"
)

// decodeJSON reads a bounded JSON body strictly: unknown fields and trailing
// data are errors.
func decodeJSON(r *http.Request, limit int64, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	if int64(len(body)) > limit {
		return fmt.Errorf("body is over %d bytes: %w", limit, fractal.ErrTooLarge)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("body: %v: %w", err, fractal.ErrInvalid)
	}
	if dec.More() {
		return fmt.Errorf("body: data after the JSON object: %w", fractal.ErrInvalid)
	}
	return nil
}

func (m *Miner) handleGenerate(w http.ResponseWriter, r *http.Request) {
	caller := m.caller(r)
	var req minerapi.GenerateRequest
	if err := decodeJSON(r, m.Config.MaxBodyBytes, &req); err != nil {
		apierr.Miner.Write(w, err)
		return
	}
	if err := req.Validate(); err != nil {
		apierr.Miner.Write(w, err)
		return
	}
	eng, err := m.engineFor(req.Spec.Profile)
	if err == nil {
		err = eng.Profile().Check(req.Spec)
	}
	if err != nil {
		apierr.Miner.Write(w, err)
		return
	}
	key := caller + "/" + req.RequestID
	if m.retention.has(key) {
		apierr.Miner.Write(w, fmt.Errorf("job %s was already generated: %w", req.RequestID, fractal.ErrConflict))
		return
	}
	ticket, pos, eta, err := m.sched.admit(caller, eng.Profile().CostOf(req.Spec))
	if err != nil {
		m.metrics.job(outcomeRefused)
		m.logger.Info("job refused", slog.String(logKeyRequest, req.RequestID), slog.Any(logKeyError, err))
		apierr.Miner.Write(w, err)
		return
	}
	accepted := m.now()
	w.Header().Set("Content-Type", minerapi.ContentTypeStream)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	out := minerapi.NewStreamWriter(w)
	ctx := r.Context()
	if err := out.Event(minerapi.Event{Type: minerapi.EventAccepted, QueuePosition: pos, ETAMillis: eta.Milliseconds()}); err != nil {
		m.sched.done(ticket, 0)
		return
	}
	if err := m.sched.wait(ctx, ticket); err != nil {
		m.metrics.job(outcomeCancelled)
		m.logger.Info("job cancelled while queued", slog.String(logKeyRequest, req.RequestID))
		return
	}
	started := m.now()
	res, err := m.generate(ctx, eng, req, out)
	elapsed := m.now().Sub(started)
	if err != nil {
		m.sched.done(ticket, 0)
		m.metrics.job(outcomeFailed)
		m.logger.Info("job failed", slog.String(logKeyRequest, req.RequestID), slog.Any(logKeyError, err))
		if ctx.Err() == nil {
			body := apierr.Miner.Body(w, err)
			out.Event(minerapi.Event{Type: minerapi.EventError, Error: &body})
		}
		return
	}
	m.sched.done(ticket, elapsed)
	m.metrics.generated(elapsed)
	if err := m.finish(key, req, res, eng, started.Sub(accepted), elapsed, out); err != nil {
		m.metrics.job(outcomeFailed)
		m.logger.Info("job result not delivered", slog.String(logKeyRequest, req.RequestID), slog.Any(logKeyError, err))
		return
	}
	m.metrics.job(outcomeDone)
	m.logger.Info("job done", slog.String(logKeyRequest, req.RequestID), slog.String(logKeyCaller, caller), slog.Duration("took", elapsed))
}

// generate runs the engine, streaming progress.
func (m *Miner) generate(ctx context.Context, eng fractal.Engine, req minerapi.GenerateRequest, out *minerapi.StreamWriter) (*fractal.Result, error) {
	if err := out.Event(minerapi.Event{Type: minerapi.EventStarted}); err != nil {
		return nil, err
	}
	progress := startProgress(out, progressInterval)
	res, err := eng.Generate(ctx, req.Spec, fractal.GenerateOptions{KeepStates: true, Progress: progress.report})
	streamErr := progress.stop()
	if err != nil {
		return nil, err
	}
	if streamErr != nil {
		return nil, streamErr
	}
	return res, nil
}

// finish commits to eng's result, retains its states, signs the receipt
// (with the execution class eng computed in) and streams result and frames.
func (m *Miner) finish(key string, req minerapi.GenerateRequest, res *fractal.Result, eng fractal.Engine, queued, took time.Duration, out *minerapi.StreamWriter) error {
	// Compress the frames while they are hashed: neither needs the other
	// until the file's header takes the digest.
	type compressed struct {
		c   *framesfile.Compressed
		err error
	}
	done := make(chan compressed, 1)
	go func() {
		c, err := framesfile.Compress(res.Frames)
		done <- compressed{c, err}
	}()
	receipt := fractal.Receipt{
		RequestID:  req.RequestID,
		Profile:    res.Profile.String(),
		SpecHash:   req.Spec.Hash(),
		Commitment: res.Commit(),
		Class:      fractal.ClassOf(eng),
	}
	frames := <-done
	if frames.err != nil {
		return fmt.Errorf("encode frames: %w", frames.err)
	}
	var payload bytes.Buffer
	payload.Grow(frames.c.Len())
	if err := frames.c.Write(&payload, receipt.Commitment.FramesDigest); err != nil {
		return fmt.Errorf("encode frames: %w", err)
	}
	if err := receipt.Sign(m.Hotkey); err != nil {
		return err
	}
	m.retention.keep(key, res, eng)
	err := out.Event(minerapi.Event{Type: minerapi.EventResult, Result: &minerapi.ResultEvent{
		Profile:        res.Profile,
		Receipt:        receipt,
		QueueMillis:    queued.Milliseconds(),
		GenerateMillis: took.Milliseconds(),
	}})
	if err != nil {
		return err
	}
	return out.Frames(payload.Bytes())
}

func (m *Miner) handleOpen(w http.ResponseWriter, r *http.Request) {
	caller := m.caller(r)
	var req minerapi.OpenRequest
	if err := decodeJSON(r, m.Config.MaxBodyBytes, &req); err != nil {
		apierr.Miner.Write(w, err)
		return
	}
	if err := req.Validate(); err != nil {
		apierr.Miner.Write(w, err)
		return
	}
	job, err := m.retention.get(caller + "/" + req.RequestID)
	if err != nil {
		apierr.Miner.Write(w, err)
		return
	}
	openings, err := job.open(r.Context(), job.engine, req.Steps)
	if err != nil {
		apierr.Miner.Write(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(minerapi.OpenResponse{RequestID: req.RequestID, TrajectoryRoot: job.tree.Root(), Openings: openings})
}

func (m *Miner) handleHealth(w http.ResponseWriter, r *http.Request) {
	depth, running, eta := m.sched.stats()
	work, byCaller := m.sched.queued()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(minerapi.Health{
		Profile:     m.engines()[0].Profile(),
		Profiles:    m.profiles(),
		Hotkey:      m.Hotkey.SS58(),
		Version:     fractal.Version,
		QueueDepth:  depth,
		InFlight:    running,
		Concurrency: m.Config.Concurrency,
		QueueLimit:  m.Config.QueueLimit,
		ETAMillis:   eta.Milliseconds(),

		QueuedWork: work, WorkByCaller: byCaller, MeasuredAt: m.now(),
	})
}
