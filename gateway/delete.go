package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/apierr"
)

// deletedKey marks a deleted video: the job store keeps records, so a
// deleted one is hidden by this mark and its blobs are removed.
func deletedKey(id string) string { return "deleted." + id }

func (g *Gateway) deleted(ctx context.Context, id string) (bool, error) {
	_, err := g.KV.Get(ctx, deletedKey(id))
	switch {
	case errors.Is(err, fractal.ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("video %s: %w", id, err)
	}
	return true, nil
}

// handleDelete cancels an unfinished video (its dispatcher stops the
// miner's work), removes its frames and encodings from the blob store and
// hides it.
func (g *Gateway) handleDelete(w http.ResponseWriter, r *http.Request, key Key) {
	j, err := g.ownJob(r, key)
	if err != nil {
		apierr.Write(w, err)
		return
	}
	ctx := r.Context()
	if !j.Status.Terminal() {
		if _, err := g.end(ctx, j.ID, fractal.JobCancelled, "deleted by its owner", nil); err != nil && !errors.Is(err, fractal.ErrConflict) {
			apierr.Write(w, err)
			return
		}
	}
	// The blobs go first: should that fail, the video is still listed and
	// the client's retry finds it.
	if err := g.removeBlobs(ctx, j); err != nil {
		apierr.Write(w, err)
		return
	}
	if _, err := g.KV.Put(ctx, deletedKey(j.ID), []byte("1")); err != nil {
		apierr.Write(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": j.ID, "object": "video.deleted", "deleted": true})
}

// removeBlobs deletes every blob a job may have: the frames of each
// delivery's attempt and every encoding made from them.
func (g *Gateway) removeBlobs(ctx context.Context, j *fractal.Job) error {
	keys := contentKeys(j.ID)
	for a := 0; a <= max(g.Config.MaxDeliveries, j.ResultAttempt); a++ {
		keys = append(keys, framesKey(j.ID, a))
	}
	for _, k := range keys {
		if err := g.Blobs.Delete(ctx, k); err != nil && !errors.Is(err, fractal.ErrNotFound) {
			return fmt.Errorf("delete video %s: %w", j.ID, err)
		}
	}
	return nil
}
