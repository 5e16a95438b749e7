package localgrid_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/devchain"
	"github.com/fractal-grid/fractal/internal/gridtest"
	"github.com/fractal-grid/fractal/localgrid"
	"github.com/fractal-grid/fractal/validator"
)

// testConfig is a small, fast grid on free loopback ports under dir.
func testConfig(dir string, miners int) localgrid.Config {
	cfg := localgrid.DefaultConfig()
	cfg.DataDir = dir
	cfg.Addr = "127.0.0.1:0"
	cfg.Miners = miners
	cfg.BlockTime = 200 * time.Millisecond
	cfg.Round = time.Second
	cfg.Shapes = []validator.Shape{{Width: 64, Height: 64, Frames: 2, FPS: 8, Steps: 4}}
	return cfg
}

// startGrid opens a grid and closes it when the test ends.
func startGrid(tb testing.TB, cfg localgrid.Config) *localgrid.Grid {
	tb.Helper()
	g := localgrid.New()
	g.Config = cfg
	g.Logger = gridtest.Logger(tb)
	if err := g.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { g.Close() })
	return g
}

// video is the part of the API's Video the tests read.
type video struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Progress int    `json:"progress"`
	Error    string `json:"error"`
	Miner    *struct {
		UID    int    `json:"uid"`
		Hotkey string `json:"hotkey"`
	} `json:"miner"`
	Timings *struct {
		Generate int64 `json:"generate_ms"`
		Total    int64 `json:"total_ms"`
	} `json:"timings"`
}

// call sends one API request with the key and decodes a JSON answer into
// out (when not nil), failing the test on an unexpected status.
func call(tb testing.TB, method, url, key string, body any, want int, out any) []byte {
	tb.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		tb.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	if resp.StatusCode != want {
		tb.Fatalf("%s %s: got status %d, want %d: %s", method, url, resp.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			tb.Fatalf("%s %s: %v: %s", method, url, err, b)
		}
	}
	return b
}

// waitCompleted polls a job until it ends and fails unless it completed.
func waitCompleted(tb testing.TB, base, key, id string, limit time.Duration) video {
	tb.Helper()
	deadline := time.Now().Add(limit)
	for {
		var v video
		call(tb, "GET", base+"v1/videos/"+id, key, nil, http.StatusOK, &v)
		switch v.Status {
		case "completed":
			return v
		case "failed", "cancelled":
			tb.Fatalf("video %s: got status %s (%s), want completed", id, v.Status, v.Error)
		}
		if time.Now().After(deadline) {
			tb.Fatalf("video %s: still %s after %s, want completed", id, v.Status, limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestGridServesJobsAndResumes(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir, 2)
	g := startGrid(t, cfg)
	key, base := g.APIKey(), g.URL()
	spec := map[string]any{"prompt": "a green cube spinning in the desert", "seed": 3, "size": "64x64", "frames": 4, "steps": 6}
	var v video
	call(t, "POST", base+"v1/videos", key, spec, http.StatusAccepted, &v)
	done := waitCompleted(t, base, key, v.ID, 30*time.Second)
	if done.Miner == nil {
		t.Fatalf("completed video %s names no miner", v.ID)
	}
	mp4 := call(t, "GET", base+"v1/videos/"+v.ID+"/content?variant=mp4", key, nil, http.StatusOK, nil)
	if len(mp4) < 100 || !bytes.Contains(mp4[:64], []byte("ftyp")) {
		t.Errorf("content: got %d bytes without an MP4 header", len(mp4))
	}
	t.Run("metrics", func(t *testing.T) {
		scrapes := []struct{ url, series string }{
			{base + "metrics", "fractal_gateway_jobs_total{status=\"completed\"} 1"},
			{base + "metrics", "fractal_validator_challenges_total"},
			{base + "metrics", "fractal_validator_verifications_total{kind=\"challenge\",reason=\"ok\",result=\"pass\"}"},
		}
		for _, m := range g.Miners() {
			if m.Hotkey.SS58() == done.Miner.Hotkey {
				scrapes = append(scrapes, struct{ url, series string }{"http://" + m.Addr() + "/metrics", "fractal_miner_generation_seconds_count"})
			}
		}
		for _, s := range scrapes {
			page := string(call(t, "GET", s.url, "", nil, http.StatusOK, nil))
			if !strings.Contains(page, s.series) {
				t.Errorf("%s: got no series %s", s.url, s.series)
			}
		}
	})
	if err := g.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	g2 := startGrid(t, cfg)
	if g2.APIKey() != key {
		t.Errorf("after restart the key is %q, want the saved %q", g2.APIKey(), key)
	}
	var list struct {
		Data []video `json:"data"`
	}
	call(t, "GET", g2.URL()+"v1/videos", key, nil, http.StatusOK, &list)
	if len(list.Data) != 1 || list.Data[0].ID != v.ID || list.Data[0].Status != "completed" {
		t.Errorf("after restart the list is %+v, want the completed %s", list.Data, v.ID)
	}
	stats := g2.Validator().Stats()
	if len(stats) != 2 {
		t.Errorf("after restart the validator scores %d miners, want 2", len(stats))
	}
}

func TestDemoKeyOnlyForLoopback(t *testing.T) {
	g := startGrid(t, testConfig(t.TempDir(), 1))
	tests := []struct {
		name   string
		remote string
		host   string
		site   string
		want   int
	}{
		{"loopback", "127.0.0.1:5000", "127.0.0.1:8080", "", http.StatusOK},
		{"localhost", "[::1]:5000", "localhost:8080", "same-origin", http.StatusOK},
		{"remote client", "192.0.2.7:5000", "127.0.0.1:8080", "", http.StatusForbidden},
		{"rebound name", "127.0.0.1:5000", "evil.example:8080", "", http.StatusForbidden},
		{"cross-site fetch", "127.0.0.1:5000", "127.0.0.1:8080", "cross-site", http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest("GET", "/v1/local/key", nil)
			r.RemoteAddr, r.Host = tt.remote, tt.host
			if tt.site != "" {
				r.Header.Set("Sec-Fetch-Site", tt.site)
			}
			w := httptest.NewRecorder()
			g.Handler().ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Fatalf("got status %d, want %d", w.Code, tt.want)
			}
			if got := strings.Contains(w.Body.String(), g.APIKey()); got != (tt.want == http.StatusOK) {
				t.Errorf("key in the answer: got %v, want %v", got, tt.want == http.StatusOK)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name  string
		mod   func(*localgrid.Config)
		field string
	}{
		{"no data dir", func(c *localgrid.Config) { c.DataDir = "" }, "data"},
		{"no miners", func(c *localgrid.Config) { c.Miners = 0 }, "miners"},
		{"too many miners", func(c *localgrid.Config) { c.Miners = localgrid.MaxMiners + 1 }, "miners"},
		{"fast blocks", func(c *localgrid.Config) { c.BlockTime = time.Millisecond }, "block-time"},
		{"subtensor chain", func(c *localgrid.Config) { c.Chain = "ws://127.0.0.1:9944" }, "chain"},
		{"valid", func(c *localgrid.Config) {}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig("d", 1)
			tt.mod(&cfg)
			err := cfg.Validate()
			got := ""
			if err != nil {
				got = err.Error()
			}
			if (tt.field == "") != (err == nil) || !strings.Contains(got, tt.field) {
				t.Errorf("got %v, want an error naming %q", err, tt.field)
			}
		})
	}
}

// TestGridOnARunningDevchain joins a devchain served elsewhere (as
// 'fractal devchain' serves it) instead of embedding one.
func TestGridOnARunningDevchain(t *testing.T) {
	cfg := devchain.DefaultConfig()
	cfg.BlockTime = 200 * time.Millisecond
	chain := devchain.New(cfg)
	if err := chain.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer chain.Close()
	srv := httptest.NewServer(devchain.NewServer(chain))
	defer srv.Close()

	gcfg := testConfig(t.TempDir(), 2)
	gcfg.Chain = srv.URL
	g := startGrid(t, gcfg)
	if g.ChainURL() != srv.URL {
		t.Errorf("chain URL %s, want %s", g.ChainURL(), srv.URL)
	}
	mg, err := chain.Metagraph(context.Background(), gcfg.NetUID)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(mg.Neurons); got != 3 {
		t.Errorf("the devchain holds %d neurons, want a validator and 2 miners", got)
	}
	var v video
	call(t, "POST", g.URL()+"v1/videos", g.APIKey(), map[string]any{"prompt": "a boat at sunset", "size": "64x64", "frames": 2, "steps": 4}, http.StatusAccepted, &v)
	waitCompleted(t, g.URL(), g.APIKey(), v.ID, 30*time.Second)
}

func TestSecondGridOnOneDataDirectoryIsRefused(t *testing.T) {
	cfg := testConfig(t.TempDir(), 1)
	startGrid(t, cfg)
	g := localgrid.New()
	g.Config = cfg
	err := g.Open(context.Background())
	if !errors.Is(err, fractal.ErrConflict) {
		t.Fatalf("second grid on one data directory: got %v, want a conflict", err)
	}
}
