package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/apierr"
)

// handleEvents streams a job's status as server-sent events: an event
// "video" with the job each time its status or progress changes, until it
// ends (or 30 minutes pass). Changes wake the stream through the job feed;
// no store read is made per stream but one every safetyReadTicks seconds.
func (g *Gateway) handleEvents(w http.ResponseWriter, r *http.Request, key Key) {
	sub := g.feed.subscribe(r.PathValue("id")) // before the first read: no change is missed
	defer g.feed.unsubscribe(sub)
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
	last := g.videoOf(j)
	if !send(last) || j.Status.Terminal() {
		return
	}
	safety := time.NewTicker(safetyReadTicks * time.Second)
	defer safety.Stop()
	heartbeat := time.NewTicker(15 * time.Second)
	defer heartbeat.Stop()
	deadline := time.NewTimer(30 * time.Minute)
	defer deadline.Stop()
	for {
		var next *fractal.Job
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
			continue
		case next = <-sub.ch:
		case <-safety.C:
			if next, err = g.Jobs.Get(ctx, j.ID); err != nil {
				continue
			}
		}
		if !newer(next, j) {
			continue
		}
		j = next
		if v := g.videoOf(j); v.Status != last.Status || v.Progress != last.Progress {
			last = v
			if !send(v) || j.Status.Terminal() {
				return
			}
		}
	}
}
