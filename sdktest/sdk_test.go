package sdktest

import (
	"bytes"
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fractal-grid/fractal/internal/gridtest"
	"github.com/fractal-grid/fractal/localgrid"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/validator"
)

// scriptTimeout bounds one SDK script's whole run.
const scriptTimeout = 4 * time.Minute

// sdk is one official SDK: how to run its script against a grid.
type sdk struct {
	name string
	// command returns the command that runs the script with args, after
	// staging what it needs in dir.
	command func(t *testing.T, ctx context.Context, dir string, args ...string) *exec.Cmd
}

// TestOpenAISDKs runs each official SDK's script against one local grid,
// each with an API key of its own, and checks what it reports and what the
// store behind the gateway holds afterwards.
func TestOpenAISDKs(t *testing.T) {
	ffprobe := mustLookPath(t, "ffprobe")
	g := startGrid(t)
	model := refengine.New().Profile().String()
	sdks := []sdk{
		{name: "node", command: nodeCommand},
		{name: "python", command: pythonCommand},
	}
	for _, s := range sdks {
		t.Run(s.name, func(t *testing.T) {
			key := mustCreateKey(t, g, "sdk-"+s.name)
			rec := &recorder{}
			front := httptest.NewServer(rec.wrap(proxyTo(t, g.URL())))
			defer front.Close()
			dir := t.TempDir()
			out := filepath.Join(dir, "out")
			if err := os.Mkdir(out, 0o755); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
			defer cancel()
			cmd := s.command(t, ctx, dir, front.URL+"/v1", key, model, out)
			rep := runScript(t, cmd)
			t.Logf("%s ran %d requests", rep.SDK, len(rec.all()))
			c := checker{t: t, g: g, model: model, out: out, ffprobe: ffprobe}
			c.check(rep)
			checkMultipartCreates(t, rec.all())
		})
	}
}

// startGrid opens a small, fast grid on loopback ports; it is closed when
// the test ends.
func startGrid(t *testing.T) *localgrid.Grid {
	t.Helper()
	cfg := localgrid.DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.Addr = "127.0.0.1:0"
	cfg.Miners = 2
	cfg.BlockTime = 200 * time.Millisecond
	cfg.Round = 2 * time.Second
	cfg.Shapes = []validator.Shape{{Width: 64, Height: 64, Frames: 2, FPS: 8, Steps: 4}}
	g := localgrid.New()
	g.Config = cfg
	g.Logger = gridtest.Logger(t)
	if err := g.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

// mustCreateKey makes an API key whose limits leave room for a script's
// 30-odd creates and hundreds of polls.
func mustCreateKey(t *testing.T, g *localgrid.Grid, name string) string {
	t.Helper()
	_, key, err := g.Gateway().Keys().Create(context.Background(), name, 200, 400, 64)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func mustLookPath(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is missing (%v): the SDK tests need it; scripts/test installs it", name, err)
	}
	return path
}

// nodeCommand runs testdata/sdk.mjs with the openai npm package that
// scripts/test installs: $FRACTAL_OPENAI_NODE, else
// .cache/openai-node/node_modules.
func nodeCommand(t *testing.T, ctx context.Context, dir string, args ...string) *exec.Cmd {
	t.Helper()
	node := mustLookPath(t, "node")
	modules := mustSDKPath(t, "FRACTAL_OPENAI_NODE", filepath.Join("..", ".cache", "openai-node", "node_modules"), filepath.Join("openai", "package.json"))
	// Node resolves imports beside the script: stage both in dir.
	script := filepath.Join(dir, "sdk.mjs")
	copyFile(t, filepath.Join("testdata", "sdk.mjs"), script)
	if err := os.Symlink(modules, filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	return exec.CommandContext(ctx, node, append([]string{script}, args...)...)
}

// pythonCommand runs testdata/sdk.py with the interpreter of the virtual
// environment that scripts/test installs the openai package into:
// $FRACTAL_OPENAI_PYTHON, else .cache/openai-py/bin/python.
func pythonCommand(t *testing.T, ctx context.Context, dir string, args ...string) *exec.Cmd {
	t.Helper()
	python := mustSDKPath(t, "FRACTAL_OPENAI_PYTHON", filepath.Join("..", ".cache", "openai-py", "bin", "python"), "")
	script, err := filepath.Abs(filepath.Join("testdata", "sdk.py"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, python, append([]string{script}, args...)...)
	cmd.Dir = dir
	return cmd
}

// mustSDKPath returns the absolute path in the environment variable env,
// else fallback, failing the test unless path/probe exists.
func mustSDKPath(t *testing.T, env, fallback, probe string) string {
	t.Helper()
	path := os.Getenv(env)
	if path == "" {
		path = fallback
	}
	path, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(path, probe)); err != nil {
		t.Fatalf("the OpenAI SDK is missing (%v): run scripts/test, which installs it and sets %s", err, env)
	}
	return path
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// runScript runs an SDK script and decodes the report it prints.
func runScript(t *testing.T, cmd *exec.Cmd) report {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s failed: %v\nstderr:\n%s\nstdout:\n%s", filepath.Base(cmd.Args[1]), err, stderr.Bytes(), stdout.Bytes())
	}
	var rep report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("%s printed no report: %v\n%s", filepath.Base(cmd.Args[1]), err, stdout.Bytes())
	}
	if stderr.Len() > 0 {
		t.Logf("stderr: %s", stderr.Bytes())
	}
	return rep
}

// proxyTo forwards every request to the grid's own listener.
func proxyTo(t *testing.T, base string) http.Handler {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	return httputil.NewSingleHostReverseProxy(u)
}

// recorder notes the method, path and media type of every request, to see
// how an SDK encodes what it sends.
type recorder struct {
	mu   sync.Mutex
	reqs []request
}

type request struct {
	Method, Path, MediaType string
}

func (rec *recorder) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, request{r.Method, r.URL.Path, mt})
		rec.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

func (rec *recorder) all() []request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]request(nil), rec.reqs...)
}

// checkMultipartCreates checks that the SDK sent every create as a form
// (both official SDKs do), so the gateway was tested with what they send.
func checkMultipartCreates(t *testing.T, reqs []request) {
	t.Helper()
	creates := 0
	for _, r := range reqs {
		if r.Method != http.MethodPost || r.Path != "/v1/videos" {
			continue
		}
		creates++
		if r.MediaType != "multipart/form-data" {
			t.Errorf("a create was sent as %q, want multipart/form-data", r.MediaType)
		}
	}
	// The video, 25 for the listing and two refused ones.
	if want := 28; creates != want {
		t.Errorf("got %d creates, want %d", creates, want)
	}
}
