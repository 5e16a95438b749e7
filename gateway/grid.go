package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/gridmap"
	"github.com/fractal-grid/fractal/minerapi"
	"github.com/fractal-grid/fractal/router"
)

// gridKey is where this replica shares its grid map snapshot.
func (g *Gateway) gridKey() string { return "grid." + g.Config.Replica }

// gridLoop keeps the grid map current: metagraph, health probes, the
// validator's standings, and the snapshots of other replicas (their
// attempts come as they happen: see shareAttempts).
func (g *Gateway) gridLoop(ctx context.Context) {
	t := time.NewTicker(g.Config.ProbeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		g.syncGrid(ctx)
	}
}

// syncGrid runs one update of the grid map.
func (g *Gateway) syncGrid(ctx context.Context) {
	if mg, err := g.Chain.Metagraph(ctx, g.Config.NetUID); err != nil {
		g.logger.Warn("metagraph sync failed; routing on the last one", slog.Any(logKeyError, err))
	} else {
		g.setGraph(mg)
	}
	g.probeAll(ctx)
	g.applyStandings(ctx)
	g.shareGrid(ctx)
}

func (g *Gateway) setGraph(mg *fractal.Metagraph) {
	g.mu.Lock()
	g.graph = mg
	g.mu.Unlock()
	present := map[string]bool{}
	for _, n := range mg.Neurons {
		if !n.Axon.Served() || (!g.Config.AllowPrivateAxons && !fractal.IsPublicIP(n.Axon.IP)) || n.Hotkey == g.Hotkey.SS58() {
			continue
		}
		present[n.Hotkey] = true
		g.grid.Add(n.Hotkey, gridmap.Info{UID: n.UID, Addr: n.Axon.AddrPort().String()})
	}
	for _, v := range g.grid.Views(nil) {
		if !present[v.ID] {
			g.grid.Remove(v.ID)
		}
	}
}

// neuron returns the metagraph entry of a miner the gateway may call: one
// whose axon is public, unless private axons are allowed. Every probe and
// dispatch goes through here, so a miner known to the grid map some other
// way (a standing, another replica's snapshot) that moved its axon to a
// private address is never called there.
func (g *Gateway) neuron(hotkey string) (fractal.Neuron, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.graph == nil {
		return fractal.Neuron{}, false
	}
	n, ok := g.graph.ByHotkey(hotkey)
	if !ok || !n.Axon.Served() || (!g.Config.AllowPrivateAxons && !fractal.IsPublicIP(n.Axon.IP)) {
		return fractal.Neuron{}, false
	}
	return n, true
}

// probeAll asks every miner for its health, in parallel, bounded.
func (g *Gateway) probeAll(ctx context.Context) {
	views := g.grid.Views(nil)
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for _, v := range views {
		n, ok := g.neuron(v.ID)
		if !ok {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			start := g.now()
			h, err := g.client.Health(pctx, minerapi.Target{URL: "http://" + n.Axon.AddrPort().String(), Hotkey: n.Hotkey})
			if err != nil || h.Hotkey != n.Hotkey {
				g.grid.ProbeFailed(n.Hotkey)
				return
			}
			g.grid.Probed(n.Hotkey, g.probeOf(h, start))
		}()
	}
	wg.Wait()
}

// probeOf turns a miner's health answer to a probe sent at start into what
// the grid map records. A miner that counts its queued work per caller
// says how much of it is this gateway's (every replica signs with its
// hotkey) and when it counted.
func (g *Gateway) probeOf(h *minerapi.Health, start time.Time) gridmap.Probe {
	p := gridmap.Probe{
		RTT: g.now().Sub(start), Queue: h.QueueDepth + h.InFlight, Slots: h.Concurrency,
		ETA: time.Duration(h.ETAMillis) * time.Millisecond, Sent: start, Profiles: h.Serves(),
	}
	if !h.MeasuredAt.IsZero() {
		p.Work, p.Ours, p.Measured = h.QueuedWork, h.WorkByCaller[g.Hotkey.SS58()], h.MeasuredAt
	}
	return p
}

// applyStandings marks miners verified by the validator, as the
// standings source says: the validator itself when the gateway runs in its
// process, else what it published to the shared KV. When the source fails
// the grid map keeps the standings it has.
func (g *Gateway) applyStandings(ctx context.Context) {
	st, err := g.standings.Standings(ctx)
	if err != nil {
		g.logger.Warn("reading the validator's standings failed; routing on the last ones", slog.Any(logKeyError, err))
		return
	}
	now := g.now()
	// Only miners the metagraph admitted (setGraph): a standing must not
	// bring back one that left or moved its axon where it may not be called.
	for _, v := range g.grid.Views(nil) {
		if s, ok := st[v.ID]; ok {
			g.grid.SetStanding(v.ID, routingStanding(s, now))
		}
	}
}

// routingStanding turns the validator's verdict on a miner into its
// standing in the grid map; the one place the gateway reads a Standing.
func routingStanding(s fractal.Standing, now time.Time) gridmap.Standing {
	return gridmap.Standing{Verified: s.Verified(now), Tier: s.Tier, Score: s.Success}
}

// shareGrid publishes this replica's snapshot and merges the others'.
func (g *Gateway) shareGrid(ctx context.Context) {
	if b, err := json.Marshal(g.grid.Snapshot()); err == nil {
		g.KV.Put(ctx, g.gridKey(), b)
	}
	keys, err := g.KV.Keys(ctx, "grid.")
	if err != nil {
		return
	}
	for _, k := range keys {
		if k == g.gridKey() {
			continue
		}
		e, err := g.KV.Get(ctx, k)
		if err != nil {
			continue
		}
		var s gridmap.Snapshot
		if json.Unmarshal(e.Value, &s) == nil && g.now().Sub(s.Taken) < time.Minute {
			g.grid.Merge(s)
		}
	}
}

// GridMiner is one miner as GET /v1/grid shows it.
type GridMiner struct {
	gridmap.MinerState
	Hotkey      string    `json:"hotkey"`
	Predicted   float64   `json:"predicted_s"` // predicted completion of a default job
	Eligible    bool      `json:"eligible"`
	Incentive   float64   `json:"incentive"`
	Stake       float64   `json:"stake_tao"`
	Coordinates []float64 `json:"xy,omitempty"` // a 2-D projection of the network coordinate
}

// handleGrid serves the grid map: every miner's state with the chain's view.
func (g *Gateway) handleGrid(w http.ResponseWriter, r *http.Request) {
	snap := g.grid.Snapshot()
	views := map[string]gridmap.View{}
	for _, v := range g.grid.Views(nil) {
		views[v.ID] = v
	}
	out := struct {
		Replica string      `json:"replica"`
		Taken   time.Time   `json:"taken"`
		Block   uint64      `json:"block"`
		Miners  []GridMiner `json:"miners"`
	}{Replica: snap.Origin, Taken: snap.Taken, Miners: []GridMiner{}}
	g.mu.Lock()
	graph := g.graph
	g.mu.Unlock()
	if graph != nil {
		out.Block = graph.Block
	}
	for _, m := range snap.Miners {
		gm := GridMiner{MinerState: m, Hotkey: m.ID, Eligible: views[m.ID].Eligible}
		if v, ok := views[m.ID]; ok {
			gm.Predicted = predictSeconds(v)
		}
		if graph != nil {
			if n, ok := graph.ByHotkey(m.ID); ok {
				gm.Incentive = float64(n.Incentive) / 65535
				gm.Stake = float64(n.Stake) / fractal.RaoPerTAO
			}
		}
		if m.Coord != nil && len(m.Coord.Vec) >= 2 {
			gm.Coordinates = []float64{m.Coord.Vec[0], m.Coord.Vec[1]}
		}
		out.Miners = append(out.Miners, gm)
	}
	writeJSON(w, http.StatusOK, out)
}

// activeLoop releases per-key job slots of jobs that ended, wherever they
// were dispatched.
func (g *Gateway) activeLoop(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, oj := range g.active.all() {
			j, err := g.Jobs.Get(ctx, oj[1])
			if err == nil && j.Status.Terminal() || errors.Is(err, fractal.ErrNotFound) {
				g.active.done(oj[0], oj[1])
			}
		}
	}
}

func predictSeconds(v gridmap.View) float64 { return router.Predict(v, 1).Seconds() }
