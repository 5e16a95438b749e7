package gridmap

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"
)

func TestSnapshotJSONRoundTrip(t *testing.T) {
	m, _ := MustNew(t, "a")
	m.Add("m1", Info{UID: 7, Addr: "10.0.0.1:8091"})
	m.SetStanding("m1", Standing{Verified: true, Tier: 2, Score: 0.75})
	m.Probed("m1", Probe{RTT: 40 * time.Millisecond, Queue: 2, Work: 3, Slots: 2, ETA: 9 * time.Second})
	m.Dispatched("m1", 1)
	m.Finished("m1", Outcome{Result: Succeeded, Service: 5 * time.Second, Cost: 1})
	m.Dispatched("m1", 2)
	s := m.Snapshot()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var back Snapshot
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	if !reflect.DeepEqual(back, s) {
		t.Errorf("round trip changed the snapshot:\ngot  %+v\nwant %+v", back, s)
	}
	got := s.Miners[0]
	if got.UID != 7 || got.Outstanding != 1 || got.Queue != 2 || got.Work != 3 || got.ServiceSeconds != 5 || got.Coord == nil || !got.Verified {
		t.Errorf("snapshot miner = %+v, want uid 7, 1 outstanding, queue 2, work 3, 5 s service, a coordinate, verified", got)
	}
}

func TestMerge(t *testing.T) {
	local, lc := MustNew(t, "local")
	remote, rc := MustNew(t, "remote")

	// Local has probed m1 and finished a job on it; remote learns newer
	// things about m1 and knows m2, which local has never seen.
	local.SetStanding("m1", Standing{Verified: false})
	local.Probed("m1", Probe{RTT: 10 * time.Millisecond, Queue: 1})
	local.Dispatched("m1", 1)
	local.Finished("m1", Outcome{Result: Succeeded, Service: 3 * time.Second, Cost: 1})
	local.Dispatched("m1", 1)
	rc.Advance(time.Minute)
	remote.SetStanding("m1", Standing{Verified: true, Tier: 4})
	remote.Probed("m1", Probe{RTT: 300 * time.Millisecond, Queue: 6, Work: 6, Slots: 2})
	remote.Dispatched("m1", 1)
	remote.Finished("m1", Outcome{Result: Succeeded, Service: 7 * time.Second, Cost: 1})
	for range DefaultConfig().BreakerFailures {
		remote.Dispatched("m1", 1)
		remote.Finished("m1", Outcome{Result: Failed})
	}
	remote.SetStanding("m2", Standing{Verified: true, Tier: 1})
	remote.Probed("m2", Probe{RTT: 80 * time.Millisecond, Queue: 3, Work: 4, Slots: 2})
	remote.Dispatched("m2", 2)
	remote.Finished("m2", Outcome{Result: Succeeded, Service: 10 * time.Second, Cost: 2})

	lc.Advance(time.Minute)
	service := mustView(t, local, "m1").Service
	local.Merge(remote.Snapshot())

	v1 := mustView(t, local, "m1")
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"standing (newer remote)", [2]any{v1.Verified, v1.Tier}, [2]any{true, 4}},
		{"breaker (newer remote)", v1.Breaker, Open},
		{"service (local kept)", v1.Service, service},
		{"outstanding (local)", v1.Outstanding, 1},
		{"RTT (local)", v1.RTT, 10 * time.Millisecond},
		{"slots and backlog (local probe kept: 1 of ours + 1 of others)", [2]any{v1.Slots, v1.Backlog}, [2]any{1, 2.0}},
	} {
		if c.got != c.want {
			t.Errorf("m1 %s = %v, want %v", c.what, c.got, c.want)
		}
	}
	if want := 1 - DefaultConfig().SuccessAlpha; v1.Success >= want {
		t.Errorf("m1 success = %g, want the newer remote's, below %g", v1.Success, want)
	}

	v2, ok := local.View("m2")
	if !ok {
		t.Fatal("m2 not added from the remote snapshot")
	}
	// Nothing local about m2: its standing, service time and probe come
	// from the remote; the remote's 4 units of queued work are others'.
	if !v2.Verified || v2.Tier != 1 || v2.Service != 5*time.Second || v2.Slots != 2 || math.Abs(v2.Backlog-4) > 1e-9 {
		t.Errorf("m2 = %+v; want verified, tier 1, 5s service, 2 slots, backlog 4 from the remote", v2)
	}
	if v2.RTT == DefaultConfig().DefaultRTT {
		t.Errorf("m2 RTT = the default %v, want an estimate from the remote's coordinates", v2.RTT)
	}

	// An older snapshot changes nothing; one from our own origin is ignored.
	before := local.Snapshot()
	stale := remote.Snapshot()
	lc.Advance(time.Minute)
	local.SetStanding("m1", Standing{Verified: false, Tier: 1})
	local.Merge(stale)
	if v := mustView(t, local, "m1"); v.Verified || v.Tier != 1 {
		t.Errorf("after merging a stale snapshot: verified %v tier %d, want local's newer false 1", v.Verified, v.Tier)
	}
	self := before
	self.Miners = append(self.Miners, MinerState{ID: "m9"})
	local.Merge(self)
	if _, ok := local.View("m9"); ok {
		t.Error("merging our own snapshot added a miner, want it ignored")
	}
}

func TestVivaldiCoordinates(t *testing.T) {
	m, _ := MustNew(t, "a")
	twin, _ := MustNew(t, "b")
	for i := range 60 {
		rtt := time.Duration(90+i%3*10) * time.Millisecond
		m.Probed("far", Probe{RTT: rtt})
		twin.Probed("far", Probe{RTT: rtt})
	}
	s := m.Snapshot()
	if !reflect.DeepEqual(s.Miners[0].Coord, twin.Snapshot().Miners[0].Coord) {
		t.Error("same probes gave different coordinates, want them deterministic")
	}
	if got := s.Coord.DistanceTo(s.Miners[0].Coord); got < 70*time.Millisecond || got > 130*time.Millisecond {
		t.Errorf("coordinate distance = %v, want about the 100ms probed", got)
	}

	// A replica that never probed the miner estimates its RTT from the
	// coordinates it merged.
	fresh, _ := MustNew(t, "c")
	fresh.Merge(s)
	if got := mustView(t, fresh, "far").RTT; got == DefaultConfig().DefaultRTT || got <= 0 {
		t.Errorf("RTT from merged coordinates = %v, want an estimate other than the default", got)
	}
}
