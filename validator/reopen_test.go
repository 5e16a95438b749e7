package validator_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fractal-grid/fractal/internal/gridtest"
	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/miner"
	"github.com/fractal-grid/fractal/minerapi"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/validator"
	"github.com/fractal-grid/fractal/verify"
)

// refusingProxy serves m's hotkey through a proxy that answers 503 to the
// first refuse openings (all of them when refuse < 0) and counts them.
func refusingProxy(t *testing.T, g *gridtest.Grid, m *miner.Miner, refuse int64) *atomic.Int64 {
	t.Helper()
	u, err := url.Parse("http://" + m.Addr())
	if err != nil {
		t.Fatal(err)
	}
	p := httputil.NewSingleHostReverseProxy(u)
	p.FlushInterval = -1
	var opens atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == minerapi.PathOpen {
			if n := opens.Add(1); refuse < 0 || n <= refuse {
				w.Header().Set("Retry-After", "1")
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
		}
		p.ServeHTTP(w, r)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	serveAxon(t, g, m.Hotkey, ln.Addr().String(), false)
	return &opens
}

func TestLateOpeningsAreAskedAgain(t *testing.T) {
	g := gridtest.New(t)
	refuser := g.AddMiner(t, refengine.New(), nil)                          // never opens
	lateCheat := g.AddMiner(t, gridtest.Lazy{Engine: refengine.New()}, nil) // late once, then cannot open
	lateHonest := g.AddMiner(t, refengine.New(), nil)                       // late twice, then opens
	refusals := refusingProxy(t, g, refuser, -1)
	refusingProxy(t, g, lateCheat, 1)
	honestOpens := refusingProxy(t, g, lateHonest, 2)

	st := openStore(t, t.TempDir())
	defer st.Close()
	kv, err := st.KV(context.Background(), "validator", 0)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	v := validator.New()
	v.Config.NetUID, v.Config.AllowPrivateAxons, v.Config.SharedProb = gridtest.NetUID, true, 0
	v.Config.PerRound, v.Config.Parallel = 3, 3
	v.Config.Shapes = []validator.Shape{{Width: 64, Height: 64, Frames: 4, FPS: 8, Steps: 8}}
	v.Config.Policy = verify.Policy{OpenSteps: 8}
	v.Config.OpenRetries, v.Config.OpenRetryDelay = 3, 10*time.Millisecond
	v.Engine, v.Hotkey, v.Chain, v.KV, v.Audit = refengine.New(), g.Validator, g.Chain, kv, st.Audit()
	v.Words, v.Logger, v.Registry = refengine.Words(), gridtest.Logger(t), reg
	if err := v.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if n := v.Round(context.Background()); n != 3 {
		t.Fatalf("round sent %d challenges, want 3", n)
	}
	stats := func() map[string]validator.Stats {
		out := map[string]validator.Stats{}
		for _, s := range v.Stats() {
			out[s.Hotkey] = s
		}
		return out
	}
	for hot, s := range stats() {
		if s.Failed != 1 || s.Cheats != 0 || s.LastReason != verify.ReasonOpenLate {
			t.Fatalf("%s after the round: %+v, want one open_late failure and no cheat", hot, s)
		}
	}
	waitFor(t, "the retries to end", time.Minute, func() bool {
		s := stats()
		return s[refuser.Hotkey.SS58()].Cheats == 1 && s[lateCheat.Hotkey.SS58()].Cheats == 1 && reopenedCount(t, reg, "ok") == 1
	})
	v.Close() // waits for every retry
	s := stats()
	if got := s[refuser.Hotkey.SS58()]; got.LastReason != verify.ReasonOpenRefused || got.Challenges != 2 {
		t.Errorf("refuser: %+v, want open_refused recorded once more", got)
	}
	if n := refusals.Load(); n != 4 {
		t.Errorf("refuser was asked %d times, want 4 (the check and 3 retries)", n)
	}
	if got := s[lateCheat.Hotkey.SS58()]; !verify.IsCheck(got.LastReason) || got.LastReason == verify.ReasonOpenRefused {
		t.Errorf("late cheat: %+v, want the failed check its retry found", got)
	}
	if n := honestOpens.Load(); n != 3 {
		t.Errorf("late honest miner was asked %d times, want 3", n)
	}
	if got := s[lateHonest.Hotkey.SS58()]; got.Cheats != 0 || got.Challenges != 1 || got.LastReason != verify.ReasonOpenLate {
		t.Errorf("late honest miner: %+v, want its one late failure and nothing more", got)
	}
	for result, want := range map[string]float64{"ok": 1, verify.ReasonOpenRefused: 1} {
		if got := reopenedCount(t, reg, result); got != want {
			t.Errorf("reopened %s: %g, want %g", result, got, want)
		}
	}
}

// reopenedCount reads fractal_validator_reopened_total{result}.
func reopenedCount(t *testing.T, reg *prometheus.Registry, result string) float64 {
	t.Helper()
	return testenv.Counter(t, reg, "fractal_validator_reopened_total", map[string]string{"result": result})
}
