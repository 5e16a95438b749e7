package adversary

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/apierr"
	"github.com/fractal-grid/fractal/minerapi"
)

// front serves a hiding cheat's miner API on an address of its own, the
// one its miner announces. It sees what the cheat's own process sees: the
// generations asked of it and not yet answered (queued or running), and
// which steps an opening asks for. It answers 503 to an opening the cheat
// refuses, as a loaded miner would.
type front struct {
	next  http.Handler
	cheat *Hiding

	mu       sync.Mutex
	inFlight int
	arrived  map[uint64]bool // by spec seed: another job was in flight when it arrived

	ln  net.Listener
	srv *http.Server
	wg  sync.WaitGroup
}

var _ loadProbe = (*front)(nil)

// maxFrontBody bounds the request bodies the front reads.
const maxFrontBody = 1 << 20

// serveFront starts a front for cheat before next on 127.0.0.1.
func serveFront(next http.Handler, cheat *Hiding) (*front, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f := &front{next: next, cheat: cheat, arrived: map[uint64]bool{}, ln: ln}
	f.srv = &http.Server{Handler: f, ReadHeaderTimeout: 5 * time.Second}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		f.srv.Serve(ln)
	}()
	return f, nil
}

// port is the port the front listens on.
func (f *front) port() uint16 { return uint16(f.ln.Addr().(*net.TCPAddr).Port) }

func (f *front) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := f.srv.Shutdown(ctx)
	f.wg.Wait()
	return err
}

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || (r.URL.Path != minerapi.PathGenerate && r.URL.Path != minerapi.PathOpen) {
		f.next.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxFrontBody))
	if err != nil {
		apierr.Miner.Write(w, fmt.Errorf("read the request: %w", fractal.ErrInvalid))
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if r.URL.Path == minerapi.PathOpen {
		var req minerapi.OpenRequest
		if json.Unmarshal(body, &req) == nil && f.cheat.refuses(req.Steps) {
			apierr.Miner.Write(w, fmt.Errorf("busy: %w", fractal.ErrUnavailable))
			return
		}
		f.next.ServeHTTP(w, r)
		return
	}
	var req minerapi.GenerateRequest
	known := json.Unmarshal(body, &req) == nil
	f.mu.Lock()
	if known {
		f.arrived[req.Spec.Seed] = f.inFlight > 0
	}
	f.inFlight++
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight--
		if known {
			delete(f.arrived, req.Spec.Seed)
		}
		f.mu.Unlock()
	}()
	f.next.ServeHTTP(w, r)
}

// loaded reports whether another job was queued or running when spec's job
// arrived, or is now as it starts.
func (f *front) loaded(spec fractal.Spec) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.arrived[spec.Seed] || f.inFlight > 1
}
