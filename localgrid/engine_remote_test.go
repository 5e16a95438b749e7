package localgrid_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/engineapi"
	"github.com/fractal-grid/fractal/localgrid"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/remote"
)

// serveEngine serves e over the engine protocol on loopback with one slot,
// as a GPU engine server does: a second call while one runs is refused with
// 503 overloaded.
func serveEngine(tb testing.TB, e fractal.Engine) string {
	tb.Helper()
	cfg := engineapi.DefaultConfig()
	cfg.Concurrency = 1
	srv, err := engineapi.NewServer(e, cfg, nil)
	if err != nil {
		tb.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	tb.Cleanup(ts.Close)
	return ts.URL
}

// A grid on an engine server: every miner and the validator share its one
// slot, so users' jobs sent at once all complete instead of being refused,
// every miner is verified on the engine's model, and the gateway offers that
// model only.
func TestGridOnEngineServer(t *testing.T) {
	variant, err := refengine.NewVariant(nextVersion())
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t.TempDir(), 3)
	cfg.Engine = serveEngine(t, variant)
	g := startGrid(t, cfg)
	want := variant.Profile()
	if got := g.Engine().Profile(); got.String() != want.String() || got.Digest != want.Digest {
		t.Fatalf("grid engine profile %s, want %s", got, want)
	}

	var models struct {
		Data []struct {
			ID      string `json:"id"`
			Default bool   `json:"default"`
		} `json:"data"`
	}
	call(t, "GET", g.URL()+"v1/models", g.APIKey(), nil, http.StatusOK, &models)
	if len(models.Data) != 1 || models.Data[0].ID != want.String() || !models.Data[0].Default {
		t.Errorf("GET /v1/models: got %+v, want only %s as the default", models.Data, want)
	}

	const jobs = 4
	ids := make([]string, jobs)
	for i := range ids {
		var v video
		body := map[string]any{"prompt": "a paper boat on a pond", "seed": i, "size": "64x64", "frames": 5, "steps": 4}
		call(t, "POST", g.URL()+"v1/videos", g.APIKey(), body, http.StatusAccepted, &v)
		ids[i] = v.ID
	}
	for _, id := range ids {
		waitCompleted(t, g.URL(), g.APIKey(), id, time.Minute)
	}
	stats := g.Validator().Stats()
	if len(stats) != 3 {
		t.Fatalf("validator scores %d miners, want 3", len(stats))
	}
	for _, s := range stats {
		if s.Passed < 1 || s.Cheats != 0 || !slices.Contains(s.Profiles, want.String()) {
			t.Errorf("miner %s: passed %d, cheats %d, profiles %v; want a pass on %s and no cheat", s.Hotkey, s.Passed, s.Cheats, s.Profiles, want)
		}
	}
}

// Two shared engines on one server (two grids, or a grid and a validator
// of its own) still take turns: a refusal for load from the server is
// retried, not returned.
func TestSharedEngineRetriesABusyServer(t *testing.T) {
	url := serveEngine(t, refengine.New())
	spec := refengine.New().Profile().DefaultSpec("a lighthouse in a storm", 1)
	spec.Steps = 12
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		e, err := remote.New(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		shared := localgrid.NewSharedEngine(e)
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := spec
			s.Seed = uint64(i)
			_, errs[i] = shared.Generate(context.Background(), s, fractal.GenerateOptions{})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("generation %d: %v", i, err)
		}
	}
}

func TestEngineConfigValidate(t *testing.T) {
	tests := []struct {
		name  string
		mod   func(*localgrid.Config)
		field string
	}{
		{"not a URL", func(c *localgrid.Config) { c.Engine = "127.0.0.1:7070" }, "engine"},
		{"no wait", func(c *localgrid.Config) { c.EngineWait = 0 }, "engine-wait"},
		{"uneven", func(c *localgrid.Config) { c.Uneven = true }, "uneven"},
		{"rehearsal", func(c *localgrid.Config) {
			c.Upgrade = &localgrid.Upgrade{To: nextVersion(), From: 5, Until: 50, Every: 1}
		}, "engine"},
		{"valid", func(c *localgrid.Config) {}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig("d", 1)
			cfg.Engine = "http://127.0.0.1:7070"
			tt.mod(&cfg)
			err := cfg.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			var fe *fractal.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Errorf("got %v, want an error on field %q", err, tt.field)
			}
		})
	}
}
