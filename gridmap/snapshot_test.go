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

	// Local knows m1 from earlier; remote learns newer things about m1
	// and knows m2, which local has never seen.
	local.SetStanding("m1", Standing{Verified: false})
	local.Probed("m1", Probe{RTT: 10 * time.Millisecond, Queue: 1})
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

	lc.Advance(time.Minute)
	local.Merge(remote.Snapshot())

	v1 := mustView(t, local, "m1")
	if !v1.Verified || v1.Tier != 4 {
		t.Errorf("m1 standing: verified %v tier %d, want the newer remote true 4", v1.Verified, v1.Tier)
	}
	if v1.Breaker != Open {
		t.Errorf("m1 breaker = %s, want the newer remote open", v1.Breaker)
	}
	if v1.Service != 7*time.Second {
		t.Errorf("m1 service = %v, want the remote's 7s", v1.Service)
	}
	if v1.Outstanding != 1 {
		t.Errorf("m1 outstanding = %d, want local's 1 (outstanding stays local)", v1.Outstanding)
	}
	if want := 10 * time.Millisecond; v1.RTT != want {
		t.Errorf("m1 RTT = %v, want local's %v (RTT stays local)", v1.RTT, want)
	}
	// Remote's queue of 6 work units includes our 1 outstanding as of now.
	if v1.Slots != 2 || math.Abs(v1.Backlog-6) > 1e-9 {
		t.Errorf("m1 slots %d backlog %g, want the remote probe's 2 and 6", v1.Slots, v1.Backlog)
	}
	if want := 1 - DefaultConfig().SuccessAlpha; v1.Success >= want {
		t.Errorf("m1 success = %g, want the remote's, below %g", v1.Success, want)
	}
	if v2, ok := local.View("m2"); !ok || !v2.Verified || v2.Tier != 1 {
		t.Errorf("m2 = %+v, %v; want it added from the remote, verified, tier 1", v2, ok)
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
