package gateway

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/gridmap"
)

// attemptsSubject is the feed subject on which replicas share their
// attempts.
const attemptsSubject = "grid.attempts"

// sharedAttempt is one replica's dispatch of an attempt to a miner (Cost >
// 0) or the end of one (Cost < 0), as replicas share them.
type sharedAttempt struct {
	Replica string    `json:"replica"`
	Miner   string    `json:"miner"`
	Cost    float64   `json:"cost"`
	At      time.Time `json:"at"`
	// Pace, in a message of cost 0, is the pace of one of the replica's
	// attempts at the miner (see gridmap.Map.Paced). A replica that does
	// not know the field ignores the message, as any of cost 0.
	Pace *gridmap.Pace `json:"pace,omitempty"`
}

// shareAttempts publishes every change of this replica's outstanding work
// on the store's feed, as it happens, and counts the other replicas' in the
// grid map until a miner's next answer counts them itself: without it,
// replicas learn of each other's load only from probes, and with answers
// late they all send to the miners that look idle. A store without a feed
// shares nothing. Its goroutines stop when ctx ends; wg waits for them.
func (g *Gateway) shareAttempts(ctx context.Context, wg *sync.WaitGroup) {
	feed, ok := g.KV.(fractal.Feed)
	if !ok {
		return
	}
	in, err := feed.Subscribe(ctx, attemptsSubject)
	if err != nil {
		g.logger.Warn("subscribing to other replicas' attempts failed; routing without them", slog.Any(logKeyError, err))
		return
	}
	out := make(chan sharedAttempt, 1024)
	replica := g.Config.Replica
	g.grid.Observe(func(id string, cost float64, at time.Time) {
		select {
		case out <- sharedAttempt{Replica: replica, Miner: id, Cost: cost, At: at}:
		default: // the next probe corrects what is lost
		}
	})
	g.grid.ObservePaces(func(id string, p gridmap.Pace) {
		select {
		case out <- sharedAttempt{Replica: replica, Miner: id, At: p.At, Pace: &p}:
		default: // the next step or the attempt's end tells as much
		}
	})
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer g.grid.Observe(nil)
		defer g.grid.ObservePaces(nil)
		g.publishAttempts(ctx, feed, out)
	}()
	go func() {
		defer wg.Done()
		for b := range in {
			var a sharedAttempt
			if json.Unmarshal(b, &a) != nil || a.Replica == replica {
				continue
			}
			if a.Pace != nil {
				g.grid.SharedPace(a.Replica, a.Miner, *a.Pace)
				continue
			}
			g.grid.Shared(a.Replica, a.Miner, a.Cost, a.At)
		}
	}()
}

// publishAttempts sends the attempts from out until ctx ends.
func (g *Gateway) publishAttempts(ctx context.Context, feed fractal.Feed, out <-chan sharedAttempt) {
	for {
		select {
		case <-ctx.Done():
			return
		case a := <-out:
			b, err := json.Marshal(a)
			if err == nil {
				err = feed.Publish(ctx, attemptsSubject, b)
			}
			if err != nil && ctx.Err() == nil {
				g.logger.Debug("sharing an attempt failed", slog.String(logKeyMiner, a.Miner), slog.Any(logKeyError, err))
			}
		}
	}
}
