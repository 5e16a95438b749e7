package validator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/internal/gridtest"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/validator"
)

// The validator's standings say which miners passed, on which profile, and
// which cool down after a failed verification; what it publishes is what a
// gateway replica reads back from the KV.
func TestStandingsPublished(t *testing.T) {
	g := gridtest.New(t)
	honest := g.AddMiner(t, refengine.New(), nil)
	cheat := g.AddMiner(t, gridtest.Lazy{Engine: refengine.New()}, nil)
	st := openStore(t, t.TempDir())
	defer st.Close()
	ctx := context.Background()
	// Scores saved for a miner that has left the subnet since.
	kv, err := st.KV(ctx, "validator", 0)
	if err != nil {
		t.Fatal(err)
	}
	gone := validator.Stats{Hotkey: "5GoneGoneGone", UID: 9, Challenges: 3, Passed: 3, Success: 1, Tier: 1}
	if _, err := kv.Put(ctx, fmt.Sprintf("validator.%d.stats.%s", gridtest.NetUID, gone.Hotkey), []byte(jsonString(t, gone))); err != nil {
		t.Fatal(err)
	}
	v := newValidator(t, g, st)
	if len(v.Stats()) != 1 {
		t.Fatalf("stats %+v, want the saved ones loaded", v.Stats())
	}
	for range 2 {
		v.Round(ctx)
	}
	standings, err := v.Standings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	profile := refengine.New().Profile().String()
	h, c := standings[honest.Hotkey.SS58()], standings[cheat.Hotkey.SS58()]
	if !h.Verified(now) || h.Passed != 2 || !slices.Equal(h.Profiles, []string{profile}) || h.Updated.IsZero() {
		t.Errorf("honest miner: %+v, want verified after 2 passes on %s", h, profile)
	}
	if c.Verified(now) || c.Passed != 0 || len(c.Profiles) != 0 || !c.CooldownUntil.After(now) {
		t.Errorf("lazy miner: %+v, want cooling down with no pass", c)
	}
	if s, ok := standings[gone.Hotkey]; ok || len(standings) != 2 {
		t.Errorf("standings hold %d miners, the one that left %+v; want the 2 registered only", len(standings), s)
	}

	// Each round publishes what it concluded, without the publisher's loop.
	got, err := (&fractal.KVStandings{KV: v.KV, NetUID: v.Config.NetUID}).Standings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := jsonString(t, got), jsonString(t, standings); a != b {
		t.Errorf("read back %s, want what was published: %s", a, b)
	}
}

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
