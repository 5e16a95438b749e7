package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/engineapi"
	"github.com/fractal-grid/fractal/ffmpeg"
	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/refengine"
)

// buildFractal compiles this command into a temporary directory.
func buildFractal(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "fractal")
	args := []string{"build", "-o", bin}
	if raceBuild {
		args = append(args, "-race")
	}
	cmd := exec.Command(testenv.Tool(t, "go"), append(args, ".")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// upProcess is a running 'fractal up'.
type upProcess struct {
	cmd     *exec.Cmd
	url     string
	key     string
	summary string // the first line printed: its time, miners and parts
	model   string // what the model line names
	took    time.Duration
	done    chan error
}

// startUp runs 'fractal up' with two miners on free loopback ports and waits
// until it prints its web URL and API key.
func startUp(t *testing.T, bin, data string) *upProcess {
	t.Helper()
	return startUpWith(t, bin, "--data", data, "--addr", "127.0.0.1:0", "--miners", "2", "--block-time", "200ms")
}

// startUpWith runs 'fractal up ARGS…' and waits until it prints its web URL
// and API key.
func startUpWith(t *testing.T, bin string, args ...string) *upProcess {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"up"}, args...)...)
	cmd.Stderr = upLogWriter{t}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &upProcess{cmd: cmd, done: make(chan error, 1)}
	t.Cleanup(func() { cmd.Process.Kill(); <-p.done })
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		p.done <- cmd.Wait()
	}()
	timeout := time.After(30 * time.Second)
	for p.url == "" || p.key == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("fractal up exited before it was ready")
			}
			t.Log(line)
			fields := strings.Fields(line)
			switch {
			case strings.HasPrefix(line, "fractal grid up"):
				p.summary = line
			case len(fields) >= 2 && fields[0] == "model":
				p.model = fields[1]
			case len(fields) >= 2 && fields[0] == "web":
				p.url = fields[1]
			case len(fields) >= 3 && fields[0] == "api" && fields[1] == "key":
				p.key = fields[2]
			}
		case <-timeout:
			t.Fatalf("fractal up printed no URL and key within 30s")
		}
	}
	p.took = time.Since(start)
	go func() {
		for range lines { // keep draining
		}
	}()
	return p
}

// stop interrupts the process as Ctrl-C does and expects a clean exit.
func (p *upProcess) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("fractal up after Ctrl-C: %v, want exit status 0", err)
		}
		p.done <- nil
	case <-time.After(20 * time.Second):
		t.Fatal("fractal up did not stop within 20s of Ctrl-C")
	}
}

type upLogWriter struct{ t *testing.T }

func (w upLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// request sends one API call with the key and returns the body, failing
// unless the status is want.
func request(t *testing.T, method, url, key, body string, want int) []byte {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: got status %d, want %d: %s", method, url, resp.StatusCode, want, b)
	}
	return b
}

// TestUpEndToEnd runs 'fractal up' as a user would: a job made with the
// printed key completes, its MP4 is a real H.264 video, Ctrl-C stops the
// grid cleanly, and a second run on the same data still lists the job.
func TestUpEndToEnd(t *testing.T) {
	testenv.Tool(t, "ffprobe")
	bin := buildFractal(t)
	data := t.TempDir()
	p := startUp(t, bin, data)
	t.Logf("ready after %s", p.took)
	saved, err := os.ReadFile(filepath.Join(data, "api-key"))
	if err != nil || strings.TrimSpace(string(saved)) != p.key {
		t.Fatalf("api-key file holds %q (%v), want the printed key %q", saved, err, p.key)
	}

	b := request(t, "POST", p.url+"v1/videos", p.key, `{"prompt":"a red ball bouncing over the ocean at night","seed":42,"size":"128x128","frames":8,"steps":10}`, http.StatusAccepted)
	var v struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Frames int    `json:"frames"`
		Error  string `json:"error"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	id := v.ID
	deadline := time.Now().Add(60 * time.Second)
	for v.Status != "completed" {
		if v.Status == "failed" || v.Status == "cancelled" || time.Now().After(deadline) {
			t.Fatalf("video %s: got status %q (%s), want completed", id, v.Status, v.Error)
		}
		time.Sleep(200 * time.Millisecond)
		json.Unmarshal(request(t, "GET", p.url+"v1/videos/"+id, p.key, "", http.StatusOK), &v)
	}
	mp4 := request(t, "GET", p.url+"v1/videos/"+id+"/content?variant=mp4", p.key, "", http.StatusOK)
	path := filepath.Join(t.TempDir(), "video.mp4")
	if err := os.WriteFile(path, mp4, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	info, err := ffmpeg.Probe(ctx, path)
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	if info.Codec != "h264" || info.Frames != 8 || info.Width != 128 || info.Height != 128 {
		t.Errorf("ffprobe: got %s %dx%d with %d frames, want h264 128x128 with 8 frames", info.Codec, info.Width, info.Height, info.Frames)
	}
	p.stop(t)

	p2 := startUp(t, bin, data)
	if p2.key != p.key {
		t.Errorf("second run printed key %q, want the saved %q", p2.key, p.key)
	}
	list := request(t, "GET", p2.url+"v1/videos", p2.key, "", http.StatusOK)
	if !bytes.Contains(list, []byte(`"id":"`+id+`"`)) || !bytes.Contains(list, []byte(`"status":"completed"`)) {
		t.Errorf("second run lists %s, want the completed video %s", list, id)
	}
	p2.stop(t)
}

// With --engine the grid runs one miner unless --miners asks for more: an
// engine server runs one generation at a time.
func TestUpEngineFlag(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		miners     int
		engine     string
		wantErrSub string
	}{
		{"default", nil, 4, "", ""},
		{"engine", []string{"--engine", "http://127.0.0.1:7070"}, 1, "http://127.0.0.1:7070", ""},
		{"engine and miners", []string{"--engine", "http://127.0.0.1:7070", "--miners", "3"}, 3, "http://127.0.0.1:7070", ""},
		{"not a URL", []string{"--engine", "127.0.0.1:7070"}, 0, "", "engine"},
		{"uneven", []string{"--engine", "http://127.0.0.1:7070", "--uneven"}, 0, "", "uneven"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewUpCommand()
			var stderr bytes.Buffer
			err := c.ParseFlags(tt.args, &stderr)
			if tt.wantErrSub != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErrSub) {
					t.Fatalf("got %v, want an error naming %s", err, tt.wantErrSub)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Grid.Config; got.Miners != tt.miners || got.Engine != tt.engine {
				t.Errorf("got %d miners on engine %q, want %d on %q", got.Miners, got.Engine, tt.miners, tt.engine)
			}
		})
	}
}

// TestUpOnEngineServer runs 'fractal up --engine URL' on an engine-protocol
// server with one slot: the grid runs one miner, serves the server's model
// only, and a user's job on it completes.
func TestUpOnEngineServer(t *testing.T) {
	lim := fractal.LegacyLimits()
	lim.Frames = fractal.Range{Min: 1, Max: 33, Step: 4}
	lim.Default.Frames = 5
	variant, err := refengine.NewVariant(refengine.Variant{Version: "5", Limits: lim})
	if err != nil {
		t.Fatal(err)
	}
	cfg := engineapi.DefaultConfig()
	cfg.Concurrency = 1
	srv, err := engineapi.NewServer(variant, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	bin := buildFractal(t)
	p := startUpWith(t, bin, "--data", t.TempDir(), "--addr", "127.0.0.1:0", "--block-time", "200ms", "--engine", ts.URL)
	want := variant.Profile().String()
	if p.model != want || !strings.Contains(p.summary, ": 1 miners,") {
		t.Errorf("fractal up printed %q and model %q, want 1 miner and model %s", p.summary, p.model, want)
	}
	models := request(t, "GET", p.url+"v1/models", p.key, "", http.StatusOK)
	var list struct {
		Data []struct{ ID string } `json:"data"`
	}
	if err := json.Unmarshal(models, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Data) != 1 || list.Data[0].ID != want {
		t.Errorf("GET /v1/models: %s, want only %s", models, want)
	}
	b := request(t, "POST", p.url+"v1/videos", p.key, `{"prompt":"a paper boat on a pond","seed":7,"size":"64x64","frames":5,"steps":4}`, http.StatusAccepted)
	var v struct{ ID, Status, Error string }
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for v.Status != "completed" {
		if v.Status == "failed" || v.Status == "cancelled" || time.Now().After(deadline) {
			t.Fatalf("video %s: got status %q (%s), want completed", v.ID, v.Status, v.Error)
		}
		time.Sleep(200 * time.Millisecond)
		json.Unmarshal(request(t, "GET", p.url+"v1/videos/"+v.ID, p.key, "", http.StatusOK), &v)
	}
	p.stop(t)
}
