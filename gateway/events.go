package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/fractal-grid/fractal/apierr"
)

// handleEvents streams a job's status as server-sent events: an event
// "video" with the job each time its status or progress changes, until it
// ends (or 30 minutes pass).
func (g *Gateway) handleEvents(w http.ResponseWriter, r *http.Request, key Key) {
	j, err := g.ownJob(r, key)
	if err != nil {
		apierr.Write(w, err)
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		apierr.Write(w, fmt.Errorf("streaming unsupported"))
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	ctx := r.Context()
	send := func(v Video) bool {
		b, _ := json.Marshal(v)
		if _, err := fmt.Fprintf(w, "event: video\ndata: %s\n\n", b); err != nil {
			return false
		}
		flusher.Flush()
		return true
	}
	last := videoOf(j)
	if !send(last) || j.Status.Terminal() {
		return
	}
	poll := time.NewTicker(200 * time.Millisecond)
	defer poll.Stop()
	heartbeat := time.NewTicker(15 * time.Second)
	defer heartbeat.Stop()
	deadline := time.NewTimer(30 * time.Minute)
	defer deadline.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			return
		case <-heartbeat.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			flusher.Flush()
		case <-poll.C:
			j, err := g.Jobs.Get(ctx, j.ID)
			if err != nil {
				continue
			}
			v := videoOf(j)
			if v.Status != last.Status || v.Progress != last.Progress {
				last = v
				if !send(v) || j.Status.Terminal() {
					return
				}
			}
		}
	}
}
