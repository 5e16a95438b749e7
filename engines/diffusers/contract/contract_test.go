package contract

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/enginetest"
	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/remote"
)

// The engine starts in a few seconds; a cold CPU with other work may take longer.
const startTimeout = 3 * time.Minute

// TestDiffusersEngine runs the contract suite against the Python engine's
// tiny Wan profile. A missing Python environment fails the test: run
// scripts/python-env, or set FRACTAL_PYTHON.
func TestDiffusersEngine(t *testing.T) {
	url := MustStartEngine(t)
	start := time.Now()
	enginetest.Run(t, func(t *testing.T) fractal.Engine {
		e, err := remote.New(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Open(t.Context()); err != nil {
			t.Fatal(err)
		}
		return &queued{Engine: e}
	})
	t.Logf("contract suite against the Python engine took %s", time.Since(start).Round(time.Millisecond))
}

// TestProfileExtras checks the optional fields the engine adds to its
// profile reply: its limits and execution class.
func TestProfileExtras(t *testing.T) {
	url := MustStartEngine(t)
	resp, err := http.Get(url + "/v1/profile")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var reply struct {
		ID             string         `json:"id"`
		Limits         map[string]any `json:"limits"`
		ExecutionClass map[string]any `json:"execution_class"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil {
		t.Fatal(err)
	}
	if got, want := reply.ID, "wan2.1-t2v-1.3b-tiny"; got != want {
		t.Errorf("profile id %q, want %q", got, want)
	}
	for _, k := range []string{"frames", "side", "fps", "steps"} {
		if reply.Limits[k] == nil {
			t.Errorf("limits lack %q: %v", k, reply.Limits)
		}
	}
	for _, k := range []string{"device", "torch", "diffusers"} {
		if reply.ExecutionClass[k] == nil {
			t.Errorf("execution_class lacks %q: %v", k, reply.ExecutionClass)
		}
	}
}

// queued waits and retries while the engine's one slot is busy, as a miner's
// queue does: the engine refuses a second call at once rather than queue it.
type queued struct {
	*remote.Engine
}

var _ fractal.FrameDecoder = (*queued)(nil)

func retry[T any](ctx context.Context, call func() (T, error)) (T, error) {
	for {
		v, err := call()
		if !errors.Is(err, fractal.ErrOverloaded) {
			return v, err
		}
		select {
		case <-ctx.Done():
			return v, err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (q *queued) Generate(ctx context.Context, spec fractal.Spec, opts fractal.GenerateOptions) (*fractal.Result, error) {
	return retry(ctx, func() (*fractal.Result, error) { return q.Engine.Generate(ctx, spec, opts) })
}

func (q *queued) Step(ctx context.Context, spec fractal.Spec, t int, prev fractal.State) (fractal.State, error) {
	return retry(ctx, func() (fractal.State, error) { return q.Engine.Step(ctx, spec, t, prev) })
}

func (q *queued) Decode(ctx context.Context, spec fractal.Spec, final fractal.State) (*fractal.Frames, error) {
	return retry(ctx, func() (*fractal.Frames, error) { return q.Engine.Decode(ctx, spec, final) })
}

func (q *queued) DecodeFrame(ctx context.Context, spec fractal.Spec, final fractal.State, i int) ([]byte, error) {
	return retry(ctx, func() ([]byte, error) { return q.Engine.DecodeFrame(ctx, spec, final, i) })
}

// Python returns the interpreter of the engine's virtual environment:
// $FRACTAL_PYTHON, else .cache/venv/bin/python at the repository root.
func Python(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("FRACTAL_PYTHON"); p != "" {
		return p
	}
	return filepath.Join(testenv.RepoRoot(tb), ".cache", "venv", "bin", "python")
}

// MustStartEngine starts `fractal-diffusers serve --tiny` on a free port,
// waits until it has loaded, and stops it when the test ends.
func MustStartEngine(tb testing.TB) string {
	tb.Helper()
	py := Python(tb)
	if _, err := os.Stat(py); err != nil {
		tb.Fatalf("python engine environment missing (%v): run scripts/python-env or set FRACTAL_PYTHON", err)
	}
	root := testenv.RepoRoot(tb)
	cmd := exec.Command(py, "-m", "fractal_diffusers", "--log-level", "warning", "serve",
		"--profile", "wan2.1-t2v-1.3b", "--tiny", "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(root, "engines", "diffusers", "src"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	logs := &lockedBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", py, err)
	}
	tb.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if tb.Failed() {
			tb.Logf("engine log:\n%s", logs.String())
		}
	})
	url, err := readURL(stdout)
	if err != nil {
		tb.Fatalf("engine did not start: %v\n%s", err, logs.String())
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	if err := waitReady(url, startTimeout); err != nil {
		tb.Fatalf("engine at %s: %v\n%s", url, err, logs.String())
	}
	return url
}

func readURL(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("read the listening line: %w", err)
	}
	_, url, ok := strings.Cut(strings.TrimSpace(line), "listening on ")
	if !ok {
		return "", fmt.Errorf("unexpected first line %q", line)
	}
	return url, nil
}

// waitReady polls the profile until the engine stops answering 503 unavailable.
func waitReady(url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(url + "/v1/profile")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			if resp.StatusCode != http.StatusServiceUnavailable || bytes.Contains(body, []byte("Error")) {
				return fmt.Errorf("profile: %s %s", resp.Status, body)
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %s (last error %v)", timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
