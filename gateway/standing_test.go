package gateway_test

import (
	"context"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/gateway"
	"github.com/fractal-grid/fractal/gridmap"
	"github.com/fractal-grid/fractal/refengine"
)

// TestStandingsFromKV runs a gateway replica with no standings source of
// its own: it routes by what the validator publishes to the shared KV,
// follows each new publication, and keeps the last good one when the
// record is broken.
func TestStandingsFromKV(t *testing.T) {
	ctx := context.Background()
	var pub *fractal.KVStandings
	e := startHook(t, func(gw *gateway.Gateway) {
		gw.Standings = nil
		pub = &fractal.KVStandings{KV: gw.KV, NetUID: gw.Config.NetUID}
	}, refengine.New(), refengine.New())
	a, b := e.grid.Miners[0].Hotkey.SS58(), e.grid.Miners[1].Hotkey.SS58()
	now := time.Now()
	publish := func(st ...fractal.Standing) {
		t.Helper()
		m := map[string]fractal.Standing{}
		for _, s := range st {
			m[s.Hotkey] = s
		}
		if err := pub.Publish(ctx, m, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	publish(
		fractal.Standing{Hotkey: a, Passed: 5, Success: 1, Tier: 2},
		fractal.Standing{Hotkey: b, Passed: 5, Success: 0, Tier: 0, CooldownUntil: now.Add(time.Hour)},
	)
	waitVerified(t, e.gw, map[string]bool{a: true, b: false})
	if tier := viewOf(t, e.gw, a).Tier; tier != 2 {
		t.Errorf("tier of %s: got %d, want the published 2", a, tier)
	}

	// The cooldown of b ends; a fails a verification.
	publish(
		fractal.Standing{Hotkey: a, Passed: 5, Success: 0, CooldownUntil: now.Add(time.Hour)},
		fractal.Standing{Hotkey: b, Passed: 6, Success: 0.5, Tier: 1, CooldownUntil: now.Add(-time.Minute)},
	)
	waitVerified(t, e.gw, map[string]bool{a: false, b: true})

	// A record that does not decode changes nothing.
	if _, err := e.gw.KV.Put(ctx, fractal.StandingsKey(e.gw.Config.NetUID), []byte("{")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * testProbeInterval)
	for hotkey, want := range map[string]bool{a: false, b: true} {
		if got := viewOf(t, e.gw, hotkey).Verified; got != want {
			t.Errorf("after a broken record %s verified: got %v, want %v (the last good publication)", hotkey, got, want)
		}
	}
	// Users' jobs go to the miner the validator verified.
	v := e.create(t, `{"prompt": "a kite over the dunes", `+small+`}`)
	if done := e.wait(t, v.ID); done.Status != "completed" || done.Miner == nil || done.Miner.Hotkey != b {
		t.Errorf("job finished %+v, want completed on %s", done, b)
	}
}

// waitVerified waits until the gateway's grid map marks each miner
// verified or not as want says.
func waitVerified(t *testing.T, gw *gateway.Gateway, want map[string]bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := map[string]bool{}
		for _, v := range gw.Grid().Views(nil) {
			if _, ok := want[v.ID]; ok {
				got[v.ID] = v.Verified
			}
		}
		same := len(got) == len(want)
		for id, w := range want {
			same = same && got[id] == w
		}
		if same {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("verified: got %v, want %v", got, want)
		}
		time.Sleep(testProbeInterval / 2)
	}
}

// viewOf returns the grid map's view of a miner.
func viewOf(t *testing.T, gw *gateway.Gateway, hotkey string) gridmap.View {
	t.Helper()
	for _, v := range gw.Grid().Views(nil) {
		if v.ID == hotkey {
			return v
		}
	}
	t.Fatalf("%s is not in the grid map", hotkey)
	return gridmap.View{}
}
