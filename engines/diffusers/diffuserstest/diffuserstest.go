// Package diffuserstest starts the Python diffusers engine (engines/diffusers)
// for Go tests: its tiny random-weight profiles need no weights and no
// network. The engine runs from the virtual environment scripts/python-env
// makes ($FRACTAL_PYTHON, else .cache/venv); a missing one fails the test.
package diffuserstest

import (
	"bufio"
	"bytes"
	"context"
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
	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/remote"
)

// StartTimeout bounds the engine's start: a few seconds, longer on a cold
// CPU with other work.
const StartTimeout = 3 * time.Minute

// Python returns the interpreter of the engine's virtual environment:
// $FRACTAL_PYTHON, else .cache/venv/bin/python at the repository root.
func Python(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("FRACTAL_PYTHON"); p != "" {
		return p
	}
	return filepath.Join(testenv.RepoRoot(tb), ".cache", "venv", "bin", "python")
}

// Command returns `python ARGS…` with the engine's interpreter and the
// package's sources on the path, failing the test when the interpreter is
// missing.
func Command(tb testing.TB, args ...string) *exec.Cmd {
	tb.Helper()
	py := Python(tb)
	if _, err := os.Stat(py); err != nil {
		tb.Fatalf("python engine environment missing (%v): run scripts/python-env or set FRACTAL_PYTHON", err)
	}
	root := testenv.RepoRoot(tb)
	cmd := exec.Command(py, args...)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(root, "engines", "diffusers", "src"))
	return cmd
}

// CLI returns `fractal-diffusers ARGS…` run from the repository's sources.
func CLI(tb testing.TB, args ...string) *exec.Cmd {
	tb.Helper()
	return Command(tb, append([]string{"-m", "fractal_diffusers", "--log-level", "warning"}, args...)...)
}

// Script returns the path of a file under engines/diffusers/tests.
func Script(tb testing.TB, name string) string {
	tb.Helper()
	return filepath.Join(testenv.RepoRoot(tb), "engines", "diffusers", "tests", name)
}

// MustStartEngine starts `fractal-diffusers serve --tiny` of the Wan profile
// on a free port, waits until it has loaded, and stops it when the test ends.
func MustStartEngine(tb testing.TB) string {
	tb.Helper()
	return MustStart(tb, CLI(tb, "serve", "--profile", "wan2.1-t2v-1.3b", "--tiny", "--addr", "127.0.0.1:0"))
}

// MustStart starts cmd, an engine server that prints "… listening on URL"
// as its first line, waits until it answers its profile, and stops it when
// the test ends. It returns the URL.
func MustStart(tb testing.TB, cmd *exec.Cmd) string {
	tb.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	logs := &lockedBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", cmd.Path, err)
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
	if err := waitReady(url, StartTimeout); err != nil {
		tb.Fatalf("engine at %s: %v\n%s", url, err, logs.String())
	}
	return url
}

// MustOpen returns an opened client of the engine at url.
func MustOpen(tb testing.TB, url string) *remote.Engine {
	tb.Helper()
	e, err := remote.New(url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if err := e.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return e
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

// Queued waits and retries while the engine's one slot is busy, as a miner's
// queue does: the engine refuses a second call at once rather than queue it.
type Queued struct {
	*remote.Engine
}

var (
	_ fractal.Engine       = (*Queued)(nil)
	_ fractal.FrameDecoder = (*Queued)(nil)
)

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

// Generate retries while the engine is busy.
func (q *Queued) Generate(ctx context.Context, spec fractal.Spec, opts fractal.GenerateOptions) (*fractal.Result, error) {
	return retry(ctx, func() (*fractal.Result, error) { return q.Engine.Generate(ctx, spec, opts) })
}

// Step retries while the engine is busy.
func (q *Queued) Step(ctx context.Context, spec fractal.Spec, t int, prev fractal.State) (fractal.State, error) {
	return retry(ctx, func() (fractal.State, error) { return q.Engine.Step(ctx, spec, t, prev) })
}

// Decode retries while the engine is busy.
func (q *Queued) Decode(ctx context.Context, spec fractal.Spec, final fractal.State) (*fractal.Frames, error) {
	return retry(ctx, func() (*fractal.Frames, error) { return q.Engine.Decode(ctx, spec, final) })
}

// DecodeFrame retries while the engine is busy.
func (q *Queued) DecodeFrame(ctx context.Context, spec fractal.Spec, final fractal.State, i int) ([]byte, error) {
	return retry(ctx, func() ([]byte, error) { return q.Engine.DecodeFrame(ctx, spec, final, i) })
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
