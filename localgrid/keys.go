package localgrid

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/fractal-grid/fractal"
)

// KeyFile is the name of the file under DataDir holding the demo API key.
const KeyFile = "api-key"

// Limits of the demo key: generous for one person trying things out.
const (
	demoRate       = 20
	demoBurst      = 40
	demoActiveJobs = 16
)

// demoKey returns the API key saved by an earlier run when the store still
// accepts it, or creates one and saves it (readable by the owner only).
func (g *Grid) demoKey(ctx context.Context) (string, error) {
	path := filepath.Join(g.Config.DataDir, KeyFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		key := strings.TrimSpace(string(b))
		if _, err := g.gateway.Keys().Authenticate(ctx, key); err == nil {
			return key, nil
		} else if !errors.Is(err, fractal.ErrUnauthorized) {
			return "", fmt.Errorf("check the saved API key: %w", err)
		}
		g.logger.Warn("the saved API key is no longer valid; making a new one")
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("read the API key: %w", err)
	}
	_, key, err := g.gateway.Keys().Create(ctx, "demo", demoRate, demoBurst, demoActiveJobs)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("save the API key: %w", err)
	}
	return key, nil
}

// Handler serves the gateway (the API and the web page) and, to loopback
// clients, the demo key at GET /v1/local/key.
func (g *Grid) Handler() http.Handler {
	mux := http.NewServeMux()
	if g.Config.ServeKey {
		mux.HandleFunc("GET /v1/local/key", g.handleKey)
	}
	mux.Handle("/", g.gateway.Handler())
	return mux
}

// handleKey gives the demo key to a browser on this machine only: the
// connection must come from a loopback address and name a loopback host (a
// page on another site that resolves its name to 127.0.0.1 does not get
// it, and the same-origin policy keeps other pages from reading it).
func (g *Grid) handleKey(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if !loopbackRequest(r) || r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		http.Error(w, `{"error":{"code":"forbidden","message":"the demo key is only given to this machine; paste your API key"}}`, http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"key": g.apiKey})
}

// loopbackRequest reports whether r came from a loopback address to a
// loopback host name.
func loopbackRequest(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	remote, err := netip.ParseAddr(host)
	if err != nil || !remote.Unmap().IsLoopback() {
		return false
	}
	name := r.Host
	if h, _, err := net.SplitHostPort(r.Host); err == nil {
		name = h
	}
	if name == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(strings.Trim(name, "[]"))
	return err == nil && a.Unmap().IsLoopback()
}
