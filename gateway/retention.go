package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/apierr"
)

// blobTTL is a blob store capability: how long the store itself keeps a
// blob after it was written.
type blobTTL interface {
	TTL(ctx context.Context) (time.Duration, error)
}

// openRetention sets how long content is kept: Config.Retention, or the
// blob store's own TTL when that is shorter, so that expires_at never
// promises content the store will have dropped.
func (g *Gateway) openRetention(ctx context.Context) {
	g.retention = g.Config.Retention
	s, ok := g.Blobs.(blobTTL)
	if !ok {
		return
	}
	ttl, err := s.TTL(ctx)
	switch {
	case err != nil:
		g.logger.Warn("could not read the blob store's TTL; content may go before its expires_at", slog.Any(logKeyError, err))
	case ttl > 0 && ttl < g.retention:
		g.logger.Warn("the blob store keeps blobs for less than the retention; content expires with the store's TTL",
			slog.Duration("retention", g.retention), slog.Duration("blob_ttl", ttl))
		g.retention = ttl
	}
}

// expiresAt returns when a completed video's content expires; false for a
// video that is not completed (it has no content).
func (g *Gateway) expiresAt(j *fractal.Job) (time.Time, bool) {
	if j.Status != fractal.JobCompleted || j.Finished.IsZero() {
		return time.Time{}, false
	}
	return j.Finished.Add(g.retention), true
}

// expired returns an error wrapping apierr.ErrGone once a video's content
// has expired, saying when and why.
func (g *Gateway) expired(j *fractal.Job, what string) error {
	at, ok := g.expiresAt(j)
	if !ok || g.now().Before(at) {
		return nil
	}
	return fmt.Errorf("video %s expired at %s: its content is kept for %s after it completed, so %s; its record remains: %w",
		j.ID, at.UTC().Format(time.RFC3339), g.retention, what, apierr.ErrGone)
}

// sweepLoop removes expired blobs every SweepInterval until ctx ends. Each
// replica sweeps; their deletes only repeat one another.
func (g *Gateway) sweepLoop(ctx context.Context) {
	if _, ok := g.Blobs.(fractal.BlobLister); !ok {
		g.logger.Warn("the blob store cannot list its keys; expired content stays until the store drops it")
		return
	}
	t := time.NewTicker(g.Config.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := g.Sweep(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			g.logger.Warn("sweep of expired content failed", slog.Int("removed", n), slog.Any(logKeyError, err))
		case n > 0:
			g.logger.Info("swept expired content", slog.Int("removed", n))
		}
	}
}

// blobPrefixes are the prefixes of every blob a video has: its frames
// (framesKey) and its encodings (encodedKey). Images are made on request.
var blobPrefixes = []string{"frames.", "video."}

// Sweep removes the blobs of videos whose content expired, and of videos
// deleted or no longer on record, SweepBatch keys at a time and checking
// for shutdown between batches. It returns how many blobs it removed. It is
// idempotent: a blob another replica removed first is skipped.
func (g *Gateway) Sweep(ctx context.Context) (int, error) {
	lister, ok := g.Blobs.(fractal.BlobLister)
	if !ok {
		return 0, fmt.Errorf("sweep: the blob store cannot list its keys: %w", fractal.ErrUnavailable)
	}
	now := g.now()
	gone := map[string]bool{} // video id → its blobs go, decided once per sweep
	removed := 0
	for _, prefix := range blobPrefixes {
		keys, err := lister.BlobKeys(ctx, prefix)
		if err != nil {
			return removed, fmt.Errorf("sweep: %w", err)
		}
		for len(keys) > 0 {
			batch := keys[:min(len(keys), g.Config.SweepBatch)]
			keys = keys[len(batch):]
			n, err := g.sweepBatch(ctx, batch, gone, now)
			removed += n
			if err != nil {
				return removed, err
			}
			if err := ctx.Err(); err != nil {
				return removed, err
			}
		}
	}
	g.metrics.swept.Add(float64(removed))
	return removed, nil
}

// sweepBatch removes the blobs among keys whose video's content is gone.
func (g *Gateway) sweepBatch(ctx context.Context, keys []string, gone map[string]bool, now time.Time) (int, error) {
	removed := 0
	for _, k := range keys {
		_, rest, _ := strings.Cut(k, ".")
		id, _, _ := strings.Cut(rest, ".")
		drop, seen := gone[id]
		if !seen {
			var err error
			if drop, err = g.contentGone(ctx, id, now); err != nil {
				return removed, fmt.Errorf("sweep: %w", err)
			}
			gone[id] = drop
		}
		if !drop {
			continue
		}
		err := g.Blobs.Delete(ctx, k)
		switch {
		case err == nil:
			removed++
		case !errors.Is(err, fractal.ErrNotFound):
			return removed, fmt.Errorf("sweep: %w", err)
		}
	}
	return removed, nil
}

// contentGone reports whether the blobs of video id may be removed: it
// expired, it was deleted, or its record is gone. A video created less
// than the retention ago cannot have expired, so its record is not read.
func (g *Gateway) contentGone(ctx context.Context, id string, now time.Time) (bool, error) {
	if created, ok := jobIDTime(id); ok && now.Before(created.Add(g.retention)) {
		return false, nil
	}
	j, err := g.Jobs.Get(ctx, id)
	switch {
	case errors.Is(err, fractal.ErrNotFound):
		return true, nil
	case err != nil:
		return false, err
	}
	if deleted, err := g.deleted(ctx, id); err != nil || deleted {
		return deleted, err
	}
	// A failed or cancelled video keeps no content; what an attempt left
	// goes once the retention has passed since it ended.
	return j.Status.Terminal() && !now.Before(j.Finished.Add(g.retention)), nil
}

// jobIDTime reads the creation time newJobID wrote into an id.
func jobIDTime(id string) (time.Time, bool) {
	hex, ok := strings.CutPrefix(id, "vid_")
	if !ok || len(hex) < 11 {
		return time.Time{}, false
	}
	ms, err := strconv.ParseInt(hex[:11], 16, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.UnixMilli(ms), true
}
