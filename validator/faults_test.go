package validator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/devchain"
	"github.com/fractal-grid/fractal/framesfile"
	"github.com/fractal-grid/fractal/internal/gridtest"
	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/miner"
	"github.com/fractal-grid/fractal/minerapi"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/sr25519"
	"github.com/fractal-grid/fractal/validator"
	"github.com/fractal-grid/fractal/verify"
)

// serveAxon registers hotkey (when new) and publishes addr as its axon.
func serveAxon(t *testing.T, g *gridtest.Grid, hot fractal.Signer, addr string, register bool) {
	t.Helper()
	ctx := context.Background()
	if register {
		if err := g.Chain.BurnedRegister(ctx, g.Sudo, gridtest.NetUID, hot.SS58()); err != nil {
			t.Fatal(err)
		}
	}
	ap := netip.MustParseAddrPort(addr)
	if err := g.Chain.ServeAxon(ctx, hot, gridtest.NetUID, fractal.Axon{IP: ap.Addr(), Port: ap.Port(), Protocol: 4, Version: 1}); err != nil {
		t.Fatal(err)
	}
}

// rawMiner serves h on loopback under a fresh registered hotkey.
func rawMiner(t *testing.T, g *gridtest.Grid, name string, h func(hot *sr25519.Keypair) http.Handler) *sr25519.Keypair {
	t.Helper()
	hot := testenv.Key(t, "//Alice//faulty-"+name)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h(hot), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	serveAxon(t, g, hot, ln.Addr().String(), true)
	return hot
}

// readRequest decodes a generate request; the raw miners ignore signatures.
func readRequest(r *http.Request) (minerapi.GenerateRequest, error) {
	var req minerapi.GenerateRequest
	err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req)
	return req, err
}

// stream writes the accepted event and then lets fn write the rest.
func stream(fn func(w http.ResponseWriter, sw *minerapi.StreamWriter, req minerapi.GenerateRequest)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := readRequest(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", minerapi.ContentTypeStream)
		sw := minerapi.NewStreamWriter(w)
		sw.Event(minerapi.Event{Type: minerapi.EventAccepted})
		fn(w, sw, req)
	})
}

// wrongShape answers with well-formed, correctly signed frames of half the
// asked width.
func wrongShape(hot *sr25519.Keypair) http.Handler {
	return stream(func(w http.ResponseWriter, sw *minerapi.StreamWriter, req minerapi.GenerateRequest) {
		s := req.Spec
		frames := fractal.NewFrames(s.Frames, s.Width/2, s.Height, s.FPS)
		rec := fractal.Receipt{RequestID: req.RequestID, Profile: refengine.New().Profile().String(), SpecHash: s.Hash(),
			Commitment: fractal.Commitment{FramesDigest: frames.Digest(), FramesRoot: frames.FrameTree().Root()}}
		if err := rec.Sign(hot); err != nil {
			return
		}
		sw.Event(minerapi.Event{Type: minerapi.EventResult, Result: &minerapi.ResultEvent{Profile: refengine.New().Profile(), Receipt: rec}})
		var payload bytes.Buffer
		if err := framesfile.Marshal(&payload, frames); err != nil {
			return
		}
		sw.Frames(payload.Bytes())
	})
}

// tamperOpen proxies to a real miner and lets tamper corrupt what it opens.
func tamperOpen(t *testing.T, target string, tamper func(*minerapi.OpenResponse)) http.Handler {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := httputil.NewSingleHostReverseProxy(u)
	p.FlushInterval = -1
	p.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.URL.Path != minerapi.PathOpen || resp.StatusCode != http.StatusOK {
			return nil
		}
		var open minerapi.OpenResponse
		if err := json.NewDecoder(resp.Body).Decode(&open); err != nil {
			return err
		}
		resp.Body.Close()
		tamper(&open)
		b, err := json.Marshal(open)
		if err != nil {
			return err
		}
		resp.Body = io.NopCloser(bytes.NewReader(b))
		resp.ContentLength = int64(len(b))
		resp.Header.Set("Content-Length", fmt.Sprint(len(b)))
		return nil
	}
	return p
}

func TestFaultyMinersFailWithReasons(t *testing.T) {
	g := gridtest.New(t)
	honest := g.AddMiner(t, refengine.New(), nil)
	// Two real miners whose hotkeys point at tampering proxies: one breaks
	// the proofs it opens, the other sends states that do not decode.
	proofMiner := g.AddMiner(t, refengine.New(), nil)
	blobMiner := g.AddMiner(t, refengine.New(), nil)
	for _, m := range []struct {
		miner  *miner.Miner
		tamper func(*minerapi.OpenResponse)
	}{
		{proofMiner, func(open *minerapi.OpenResponse) {
			for i := range open.Openings {
				if sib := open.Openings[i].Proof.Siblings; len(sib) > 0 {
					sib[0][0] ^= 0xff
				}
			}
		}},
		{blobMiner, func(open *minerapi.OpenResponse) {
			for i := range open.Openings {
				open.Openings[i].State.Data = open.Openings[i].State.Data[:3]
			}
		}},
	} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: tamperOpen(t, "http://"+m.miner.Addr(), m.tamper), ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		serveAxon(t, g, m.miner.Hotkey, ln.Addr().String(), false)
	}

	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	cases := map[string]struct {
		handler func(*sr25519.Keypair) http.Handler
		reason  string
		cheat   bool
	}{
		"garbage": {func(*sr25519.Keypair) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "\x00\x01 this is not a stream {{{\n")
			})
		}, validator.ReasonStream, false},
		"truncated": {func(*sr25519.Keypair) http.Handler {
			return stream(func(w http.ResponseWriter, sw *minerapi.StreamWriter, req minerapi.GenerateRequest) {
				sw.Event(minerapi.Event{Type: minerapi.EventProgress, Step: 1, Steps: req.Spec.Steps})
				io.WriteString(w, `{"type":"resu`)
			})
		}, validator.ReasonStream, false},
		"wrong-shape": {wrongShape, verify.ReasonFrames, true},
		"huge-line": {func(*sr25519.Keypair) http.Handler {
			return stream(func(w http.ResponseWriter, sw *minerapi.StreamWriter, req minerapi.GenerateRequest) {
				chunk := strings.Repeat("x", 32<<10)
				for range 64 { // 2 MiB without a newline
					if _, err := io.WriteString(w, chunk); err != nil {
						return
					}
				}
			})
		}, validator.ReasonStream, false},
		"huge-frames": {func(*sr25519.Keypair) http.Handler {
			return stream(func(w http.ResponseWriter, sw *minerapi.StreamWriter, req minerapi.GenerateRequest) {
				sw.Event(minerapi.Event{Type: minerapi.EventResult, Result: &minerapi.ResultEvent{Profile: refengine.New().Profile()}})
				sw.Event(minerapi.Event{Type: minerapi.EventFrames, Bytes: 1 << 40})
			})
		}, validator.ReasonStream, false},
		"silent": {func(*sr25519.Keypair) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select { // holds the request and says nothing
				case <-r.Context().Done():
				case <-release:
				}
			})
		}, validator.ReasonTimeout, false},
	}
	hotkeys := map[string]string{}
	for name, c := range cases {
		hotkeys[rawMiner(t, g, name, c.handler).SS58()] = name
	}
	st := openStore(t, t.TempDir())
	defer st.Close()
	v := newValidator(t, g, st)
	v.Config.PerRound = len(cases) + 3
	v.Config.Parallel = len(cases) + 3
	v.Config.ChallengeTimeout = 2 * time.Second
	v.Config.Policy = verify.Policy{OpenSteps: 2, DecodeProb: 1}
	start := time.Now()
	if n := v.Round(context.Background()); n != len(cases)+3 {
		t.Fatalf("round sent %d challenges, want %d", n, len(cases)+3)
	}
	if took := time.Since(start); took > 8*time.Second {
		t.Errorf("round took %s: a faulty miner held it up", took)
	}
	stats := map[string]validator.Stats{}
	for _, s := range v.Stats() {
		stats[s.Hotkey] = s
	}
	if s := stats[honest.Hotkey.SS58()]; s.Passed != 1 {
		t.Errorf("honest miner: %+v, want a pass", s)
	}
	if s := stats[proofMiner.Hotkey.SS58()]; s.Failed != 1 || s.LastReason != verify.ReasonProof || s.Cheats != 1 {
		t.Errorf("invalid proof: %+v, want a failed check for %q", s, verify.ReasonProof)
	}
	if s := stats[blobMiner.Hotkey.SS58()]; s.Failed != 1 || s.LastReason != verify.ReasonProof || s.Cheats != 1 {
		t.Errorf("states that do not decode: %+v, want a failed check for %q", s, verify.ReasonProof)
	}
	for hot, name := range hotkeys {
		c := cases[name]
		t.Run(name, func(t *testing.T) {
			s := stats[hot]
			if s.Failed != 1 || s.Passed != 0 || s.LastReason != c.reason {
				t.Errorf("got %d failed, %d passed, reason %q; want one failure for %q", s.Failed, s.Passed, s.LastReason, c.reason)
			}
			if got := s.Cheats == 1; got != c.cheat {
				t.Errorf("counted as a failed check: %v, want %v", got, c.cheat)
			}
		})
	}
	// Every verdict is in the audit log with its reason.
	recs, err := st.Audit().Read(context.Background(), "", 1, 100)
	if err != nil || len(recs) != len(cases)+3 {
		t.Fatalf("audit holds %d records (%v), want %d", len(recs), err, len(cases)+3)
	}
	for _, r := range recs {
		var rec validator.Record
		if err := json.Unmarshal(r.Data, &rec); err != nil {
			t.Fatal(err)
		}
		if !rec.OK && (rec.Reason == "" || rec.Detail == "") {
			t.Errorf("audit record %+v: a failure without reason or detail", rec)
		}
	}
}

// servedChain serves chain over HTTP on addr ("127.0.0.1:0" for any port)
// and returns the address and a stop function.
func servedChain(t *testing.T, chain *devchain.Chain, addr string) (string, func()) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	api := devchain.NewServer(chain)
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			api.Close()
			srv.Close()
		}
	}
	t.Cleanup(stop)
	return ln.Addr().String(), stop
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestChainOutage(t *testing.T) {
	g := gridtest.New(t)
	g.AddMiner(t, refengine.New(), nil)
	addr, stop := servedChain(t, g.Chain, "127.0.0.1:0")
	client := devchain.NewClient("http://" + addr)
	client.Timeout, client.MinBackoff, client.MaxBackoff, client.PollWait = 2*time.Second, 20*time.Millisecond, 100*time.Millisecond, time.Second
	defer client.Close()
	st := openStore(t, t.TempDir())
	defer st.Close()
	v := newValidator(t, g, st)
	v.Chain = client
	v.Config.Round = 50 * time.Millisecond
	v.Start()
	defer v.Close()
	challenges := func() int64 {
		var n int64
		for _, s := range v.Stats() {
			n += s.Challenges
		}
		return n
	}
	sets := func() int { n, _ := v.WeightsSet(); return n }
	waitFor(t, "a pass", 10*time.Second, func() bool { return challenges() > 0 })
	advance := func(n int) {
		if _, err := g.Chain.Advance(n); err != nil {
			t.Fatal(err)
		}
	}
	advance(1)
	waitFor(t, "the first weights", 10*time.Second, func() bool { return sets() == 1 })

	stop()
	before := challenges()
	advance(12) // a tempo passes while the validator cannot see the chain
	waitFor(t, "challenges while the chain is away", 10*time.Second, func() bool { return challenges() >= before+3 })
	if n := sets(); n != 1 {
		t.Fatalf("weights set %d times with the chain away, want 1", n)
	}

	servedChain(t, g.Chain, addr) // back on the same address
	advance(1)
	waitFor(t, "weights after the chain returned", 15*time.Second, func() bool { return sets() == 2 })
	// The block watch replays the blocks it missed, so the weights go in at
	// the first block a tempo after the last ones.
	if _, at := v.WeightsSet(); at < 11 {
		t.Errorf("weights set at block %d, want at least block 11 (tempo 10 after block 1)", at)
	}
}
