package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	_ "embed"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/apierr"
	"github.com/fractal-grid/fractal/web"
)

//go:embed openapi.json
var openapiJSON []byte

// Handler returns the HTTP API.
func (g *Gateway) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/videos", g.authed(g.handleCreate))
	mux.HandleFunc("GET /v1/videos", g.authed(g.handleList))
	mux.HandleFunc("GET /v1/videos/{id}", g.authed(g.handleGet))
	mux.HandleFunc("GET /v1/videos/{id}/content", g.authed(g.handleContent))
	mux.HandleFunc("GET /v1/videos/{id}/events", g.authed(g.handleEvents))
	mux.HandleFunc("POST /v1/videos/{id}/cancel", g.authed(g.handleCancel))
	mux.HandleFunc("POST /v1/videos/{id}/remix", g.authed(g.handleRemix))
	mux.HandleFunc("DELETE /v1/videos/{id}", g.authed(g.handleDelete))
	mux.HandleFunc("GET /v1/grid", g.handleGrid)
	mux.HandleFunc("GET /v1/models", g.handleModels)
	mux.HandleFunc("GET /v1/models/{id}", g.handleModel)
	mux.HandleFunc("GET /v1/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(openapiJSON)
	})
	mux.HandleFunc("GET /healthz", g.handleHealth)
	mux.Handle("GET /metrics", g.metricsFor(g.metrics.handler()))
	mux.Handle(webPattern, web.Handler()) // the web page and its assets
	// Every request gets an id; an internal error answers with it and no
	// internal text, and its cause is logged under it. A request no route
	// takes is answered in the API's error shape too. What a refused
	// request left of its body is drained after the answer.
	return apierr.Middleware(g.logger, drainBodies(routed(mux)))
}

type keyCtx struct{}

// authed checks the Bearer API key and the key's rate limit. Failed
// attempts are limited per client address, so keys cannot be brute-forced.
func (g *Gateway) authed(h func(http.ResponseWriter, *http.Request, Key)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ip := clientIP(r)
		now := g.now()
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || token == "" {
			apierr.Write(w, fmt.Errorf("missing API key: send Authorization: Bearer <key>: %w", fractal.ErrUnauthorized))
			return
		}
		// A client that keeps failing is slowed before its key is looked up.
		if wait := g.authFail.peek(ip, float64(g.Config.AuthFailuresPerIP)/60, g.Config.AuthFailuresPerIP, now); wait > 0 {
			apierr.Write(w, &apierr.RetryAfterError{Err: fmt.Errorf("too many failed authentications from %s: %w", ip, fractal.ErrOverloaded), After: wait})
			return
		}
		key, err := g.keys.Authenticate(r.Context(), token)
		if err != nil {
			if errors.Is(err, fractal.ErrUnauthorized) {
				g.authFail.take(ip, float64(g.Config.AuthFailuresPerIP)/60, g.Config.AuthFailuresPerIP, now)
			}
			apierr.Write(w, err)
			return
		}
		if wait := g.rate.take(key.ID, key.Rate, key.Burst, now); wait > 0 {
			apierr.Write(w, &apierr.RetryAfterError{Err: fmt.Errorf("rate limit of %g requests/s for this key: %w", key.Rate, fractal.ErrOverloaded), After: wait})
			return
		}
		h(w, r, key)
	}
}

// metricsFor serves h only to callers Config.PublicMetrics allows.
func (g *Gateway) metricsFor(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ip, err := netip.ParseAddr(clientIP(r)); !g.Config.PublicMetrics && (err != nil || fractal.IsPublicIP(ip)) {
			apierr.Write(w, fmt.Errorf("metrics are served to loopback and private addresses only (the gateway's --public-metrics opens them): %w", fractal.ErrForbidden))
			return
		}
		h.ServeHTTP(w, r)
	})
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (g *Gateway) handleCreate(w http.ResponseWriter, r *http.Request, key Key) {
	req, err := decodeCreate(r, g.Config.MaxBodyBytes)
	if err != nil {
		apierr.Write(w, err)
		return
	}
	pins, block := g.pinsAndBlock()
	profile, err := pins.Resolve(req.Model, block)
	if err != nil {
		apierr.Write(w, err)
		return
	}
	spec, err := req.Spec(profile, randomSeed())
	if err != nil {
		apierr.Write(w, err)
		return
	}
	g.submit(w, r, key, spec, req.WebhookURL, "")
}

// submit stores and queues a job for spec and answers with it: a create,
// or a remix of the video remixOf. An Idempotency-Key answers a retry with
// the job the first request stored; Prefer: wait answers once it ended.
func (g *Gateway) submit(w http.ResponseWriter, r *http.Request, key Key, spec fractal.Spec, webhook, remixOf string) {
	if err := validateWebhook(webhook, g.Config.AllowPrivateHooks); err != nil {
		apierr.Write(w, err)
		return
	}
	wait, err := preferWait(r.Header.Get("Prefer"), g.Config.MaxWait)
	if err != nil {
		apierr.Write(w, err)
		return
	}
	now := g.now()
	job := fractal.NewJob(newJobID(now), key.ID, spec, now)
	job.WebhookURL, job.RemixedFrom = webhook, remixOf
	ctx := r.Context()
	if ik := r.Header.Get("Idempotency-Key"); ik != "" {
		existing, err := g.claimIdempotency(ctx, key.ID, ik, job.ID)
		if err != nil {
			apierr.Write(w, err)
			return
		}
		if existing != "" {
			prev, err := g.Jobs.Get(ctx, existing)
			if err == nil {
				g.requeue(ctx, w, prev)
				return
			}
			if !errors.Is(err, fractal.ErrNotFound) {
				apierr.Write(w, err)
				return
			}
			// The claim survived a crash before the job was stored: take it over.
		}
		job.IdempotencyKey = ik
	}
	if !g.active.add(key.ID, job.ID, key.ActiveJobs) {
		apierr.Write(w, &apierr.RetryAfterError{Err: fmt.Errorf("this key already has %d unfinished jobs: %w", key.ActiveJobs, fractal.ErrOverloaded), After: 5 * time.Second})
		return
	}
	// Persist before answering: the job and its queue entry are stored.
	if err := g.Jobs.Create(ctx, job); err != nil {
		g.active.done(key.ID, job.ID)
		apierr.Write(w, err)
		return
	}
	if err := g.Queue.Enqueue(ctx, job.ID); err != nil {
		g.active.done(key.ID, job.ID)
		g.end(context.WithoutCancel(ctx), job.ID, fractal.JobFailed, "could not be queued: "+err.Error(), nil)
		apierr.Write(w, err)
		return
	}
	g.metrics.jobs.WithLabelValues("accepted").Inc()
	g.logger.Info("job accepted", slog.String(logKeyJob, job.ID), slog.String("key", key.ID))
	if wait > 0 {
		if done, err := g.waitTerminal(ctx, job.ID, wait); err == nil && done.Status.Terminal() {
			writeJSON(w, http.StatusOK, g.videoOf(done))
			return
		}
	}
	writeJSON(w, http.StatusAccepted, g.videoOf(job))
}

// requeue answers a retried create with the job the first request stored.
// If that request's replica died between storing the job and queueing it,
// the job is queued with no queue entry and its client got no 202: while
// the queue still remembers ids enqueued then (fractal.EnqueueDedupe, less
// a margin for clocks), enqueue it again, which stores nothing when it was
// queued after all. An older queued job has been waiting longer than the
// window, so its entry exists, or its client never retried in time.
func (g *Gateway) requeue(ctx context.Context, w http.ResponseWriter, job *fractal.Job) {
	if job.Status == fractal.JobQueued && g.now().Sub(job.Created) < fractal.EnqueueDedupe-requeueMargin {
		if err := g.Queue.Enqueue(ctx, job.ID); err != nil {
			apierr.Write(w, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, g.videoOf(job))
}

// requeueMargin allows for clocks: the job's creation time is a gateway's,
// the queue's window the NATS server's.
const requeueMargin = 30 * time.Second

// claimIdempotency records that (owner, key) names jobID, or returns the job
// id an earlier request with the same key created.
func (g *Gateway) claimIdempotency(ctx context.Context, owner, ik, jobID string) (string, error) {
	if len(ik) > fractal.MaxIdempotencyKeyBytes {
		return "", fractal.Errorf("Idempotency-Key", "must be at most %d bytes", fractal.MaxIdempotencyKeyBytes)
	}
	sum := sha256.Sum256([]byte(ik))
	k := "idem." + owner + "." + hex.EncodeToString(sum[:16])
	if up, ok := g.KV.(fractal.KVUpdater); ok {
		_, err := up.Update(ctx, k, []byte(jobID), 0)
		if err == nil {
			return "", nil
		}
		if !errors.Is(err, fractal.ErrConflict) {
			return "", err
		}
	}
	e, err := g.KV.Get(ctx, k)
	if errors.Is(err, fractal.ErrNotFound) {
		_, err = g.KV.Put(ctx, k, []byte(jobID))
		return "", err
	}
	if err != nil {
		return "", err
	}
	return string(e.Value), nil
}

// preferWait reads "Prefer: wait=N" (RFC 7240).
func preferWait(h string, maxWait time.Duration) (time.Duration, error) {
	for part := range strings.SplitSeq(h, ",") {
		v, ok := strings.CutPrefix(strings.TrimSpace(part), "wait=")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, fractal.Errorf("Prefer", "wait must be a whole number of seconds, got %q", v)
		}
		return min(time.Duration(n)*time.Second, maxWait), nil
	}
	return 0, nil
}

// waitTerminal waits until a job ends or wait passes, woken by the job
// feed: at once when this replica ends it, through the store's watch when
// another replica does.
func (g *Gateway) waitTerminal(ctx context.Context, id string, wait time.Duration) (*fractal.Job, error) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	sub := g.feed.subscribe(id)
	defer g.feed.unsubscribe(sub)
	safety := time.NewTicker(safetyReadTicks * time.Second)
	defer safety.Stop()
	j, err := g.Jobs.Get(ctx, id) // after subscribing, so no change is missed
	for err == nil && !j.Status.Terminal() {
		select {
		case <-ctx.Done():
			return j, nil
		case next := <-sub.ch:
			if newer(next, j) {
				j = next
			}
		case <-safety.C:
			j, err = g.Jobs.Get(ctx, id)
		}
	}
	return j, err
}

// ownJob returns the caller's job, or not found for anyone else's and for
// a deleted one.
func (g *Gateway) ownJob(r *http.Request, key Key) (*fractal.Job, error) {
	id := r.PathValue("id")
	if fractal.ValidateToken("id", id) != nil {
		return nil, fmt.Errorf("video %q: %w", id, fractal.ErrNotFound)
	}
	j, err := g.Jobs.Get(r.Context(), id)
	if err != nil {
		return nil, fmt.Errorf("video %s: %w", id, err)
	}
	if j.Owner != key.ID {
		return nil, fmt.Errorf("video %s: %w", id, fractal.ErrNotFound)
	}
	deleted, err := g.deleted(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if deleted {
		return nil, fmt.Errorf("video %s was deleted: %w", id, fractal.ErrNotFound)
	}
	return j, nil
}

func (g *Gateway) handleGet(w http.ResponseWriter, r *http.Request, key Key) {
	j, err := g.ownJob(r, key)
	if err != nil {
		apierr.Write(w, err)
		return
	}
	writeJSON(w, http.StatusOK, g.videoOf(j))
}

func (g *Gateway) handleCancel(w http.ResponseWriter, r *http.Request, key Key) {
	j, err := g.ownJob(r, key)
	if err != nil {
		apierr.Write(w, err)
		return
	}
	updated, err := g.end(r.Context(), j.ID, fractal.JobCancelled, "", nil)
	if err != nil {
		apierr.Write(w, err)
		return
	}
	writeJSON(w, http.StatusOK, g.videoOf(updated))
}

func (g *Gateway) handleHealth(w http.ResponseWriter, r *http.Request) {
	views := g.grid.Views(nil)
	eligible := 0
	for _, v := range views {
		if v.Eligible {
			eligible++
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "miners": len(views), "eligible_miners": eligible, "replica": g.Config.Replica})
}

// listPage is the answer of GET /v1/videos, as the OpenAI SDKs page it.
type listPage struct {
	Object  string  `json:"object"`
	Data    []Video `json:"data"`
	FirstID *string `json:"first_id"`
	LastID  *string `json:"last_id"`
	HasMore bool    `json:"has_more"`
}

// maxAscending bounds the videos an order=asc listing reads: the store
// lists newest first, so an oldest-first page reads the key's whole list.
const maxAscending = 10000

func (g *Gateway) handleList(w http.ResponseWriter, r *http.Request, key Key) {
	q := r.URL.Query()
	limit := 20
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			apierr.Write(w, fractal.Errorf("limit", "must be between 1 and 100"))
			return
		}
		limit = n
	}
	after := q.Get("after")
	if after != "" && fractal.ValidateToken("after", after) != nil {
		apierr.Write(w, fractal.Errorf("after", "is not a video id"))
		return
	}
	var jobs []*fractal.Job
	var err error
	switch q.Get("order") {
	case "", "desc":
		jobs, err = g.walkJobs(r.Context(), key.ID, after, limit+1)
	case "asc":
		jobs, err = g.walkJobs(r.Context(), key.ID, "", maxAscending)
		slices.Reverse(jobs)
		n, _ := slices.BinarySearchFunc(jobs, after, func(j *fractal.Job, id string) int {
			return strings.Compare(j.ID, id)
		})
		for after != "" && n < len(jobs) && jobs[n].ID <= after {
			n++
		}
		jobs = jobs[n:min(n+limit+1, len(jobs))]
	default:
		err = fractal.Errorf("order", "must be asc or desc, got %q", q.Get("order"))
	}
	if err != nil {
		apierr.Write(w, err)
		return
	}
	page := listPage{Object: "list", Data: []Video{}, HasMore: len(jobs) > limit}
	for _, j := range jobs[:min(limit, len(jobs))] {
		page.Data = append(page.Data, g.videoOf(j))
	}
	if n := len(page.Data); n > 0 {
		page.FirstID, page.LastID = &page.Data[0].ID, &page.Data[n-1].ID
	}
	writeJSON(w, http.StatusOK, page)
}

// walkJobs returns up to n of owner's jobs after cursor, newest first,
// leaving out deleted ones.
func (g *Gateway) walkJobs(ctx context.Context, owner, cursor string, n int) ([]*fractal.Job, error) {
	var out []*fractal.Job
	for len(out) < n {
		jobs, next, err := g.Jobs.List(ctx, owner, cursor, min(n-len(out), 100))
		if err != nil {
			return nil, err
		}
		for _, j := range jobs {
			deleted, err := g.deleted(ctx, j.ID)
			if err != nil {
				return nil, err
			}
			if !deleted {
				out = append(out, j)
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	return out, nil
}
