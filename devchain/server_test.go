package devchain_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/devchain"
	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/sr25519"
)

// roundTripFunc lets a test change requests on their way to the server.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// impostor claims another key's address but signs with its own key.
type impostor struct {
	claim string
	*sr25519.Keypair
}

func (i impostor) SS58() string { return i.claim }

func TestServerAuth(t *testing.T) {
	c := mustOpen(t, nil)
	alice, bob := testenv.Key(t, "//Alice"), testenv.Key(t, "//Bob")
	hot := testenv.Key(t, "//hot")
	if err := c.BurnedRegister(t.Context(), alice, 1, hot.SS58()); err != nil {
		t.Fatal(err)
	}
	srv := devchain.NewServer(c)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	client := func(rt func(http.RoundTripper) http.RoundTripper, now func() time.Time) *devchain.Client {
		cl := devchain.NewClient(ts.URL)
		if rt != nil {
			cl.HTTP = &http.Client{Transport: rt(http.DefaultTransport)}
		}
		if now != nil {
			cl.Now = now
		}
		t.Cleanup(func() { cl.Close() })
		return cl
	}
	replay := func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			body, _ := io.ReadAll(r.Body)
			first := r.Clone(r.Context())
			first.Body = io.NopCloser(bytes.NewReader(body))
			resp, err := next.RoundTrip(first)
			if err != nil {
				return nil, err
			}
			resp.Body.Close()
			r.Body = io.NopCloser(bytes.NewReader(body))
			return next.RoundTrip(r)
		})
	}
	tamper := func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			body, _ := io.ReadAll(r.Body)
			body = bytes.Replace(body, []byte(`"rao":1`), []byte(`"rao":9`), 1)
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
			return next.RoundTrip(r)
		})
	}
	unsigned := func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			r.Header.Del("X-Fractal-Signature")
			return next.RoundTrip(r)
		})
	}
	stale := func() time.Time { return time.Now().Add(-2 * time.Minute) }
	cases := []struct {
		name   string
		client *devchain.Client
		key    fractal.Signer
		want   error
	}{
		{"Valid", client(nil, nil), alice, nil},
		{"Replayed", client(replay, nil), alice, fractal.ErrUnauthorized},
		{"Tampered", client(tamper, nil), alice, fractal.ErrUnauthorized},
		{"Unsigned", client(unsigned, nil), alice, fractal.ErrUnauthorized},
		{"Stale", client(nil, stale), alice, fractal.ErrUnauthorized},
		{"Impostor", client(nil, nil), impostor{claim: alice.SS58(), Keypair: bob}, fractal.ErrUnauthorized},
		{"NotSudo", client(nil, nil), bob, fractal.ErrForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.client.AddStake(t.Context(), tc.key, 1, hot.SS58(), 1)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
	m, err := c.Metagraph(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	// Accepted: the valid call and the first copy of the replayed one.
	if got := m.Neurons[0].Stake; got != 2 {
		t.Errorf("stake after two accepted calls of 1 rao: got %d rao, want 2", got)
	}
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestClientUnreachable(t *testing.T) {
	cl := devchain.NewClient("http://" + freeAddr(t))
	defer cl.Close()
	alice := testenv.Key(t, "//Alice")
	ctx := t.Context()
	calls := map[string]func() error{
		"Block":          func() error { _, err := cl.Block(ctx); return err },
		"Metagraph":      func() error { _, err := cl.Metagraph(ctx, 1); return err },
		"BurnedRegister": func() error { return cl.BurnedRegister(ctx, alice, 1, alice.SS58()) },
		"AddStake":       func() error { return cl.AddStake(ctx, alice, 1, alice.SS58(), 1) },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call()
			if !errors.Is(err, fractal.ErrUnavailable) || !strings.Contains(err.Error(), "unreachable") {
				t.Errorf("got %v, want ErrUnavailable saying the devchain is unreachable", err)
			}
		})
	}
}

// TestWatchBlocksReconnect stops the server under a watching client and
// starts it again on the same address: the watch resumes with the next
// blocks and its channel stays open meanwhile.
func TestWatchBlocksReconnect(t *testing.T) {
	c := mustOpen(t, nil)
	addr := freeAddr(t)
	start := func() *httptest.Server {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewUnstartedServer(devchain.NewServer(c))
		ts.Listener.Close()
		ts.Listener = l
		ts.Start()
		return ts
	}
	ts := start()
	cl := devchain.NewClient(ts.URL)
	cl.PollWait, cl.MinBackoff, cl.MaxBackoff = time.Second, 10*time.Millisecond, 50*time.Millisecond
	cl.Logger = testLogger(t)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	ch, err := cl.WatchBlocks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	recv := func(want uint64) {
		t.Helper()
		select {
		case b, ok := <-ch:
			if !ok || b != want {
				t.Fatalf("got block %d (open %v), want %d", b, ok, want)
			}
		case <-ctx.Done():
			t.Fatalf("no block %d: %v", want, ctx.Err())
		}
	}
	recv(0)
	ts.CloseClientConnections()
	ts.Close()
	if _, err := cl.Block(ctx); !errors.Is(err, fractal.ErrUnavailable) {
		t.Fatalf("block while the server is down: got %v, want ErrUnavailable", err)
	}
	c.Advance(2)
	time.Sleep(100 * time.Millisecond) // let the watcher fail and back off
	ts = start()
	defer ts.Close()
	recv(1)
	recv(2)
	cancel()
	for range ch {
	}
}

// TestMetagraphCache checks that an unchanged metagraph is answered 304 and
// served from the client's cache, and that any change is seen at once.
func TestMetagraphCache(t *testing.T) {
	f := newFixture(t, 2, nil)
	ts := httptest.NewServer(devchain.NewServer(f.c))
	defer ts.Close()
	var statuses []int
	cl := devchain.NewClient(ts.URL)
	cl.HTTP = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err == nil {
			statuses = append(statuses, resp.StatusCode)
		}
		return resp, err
	})}
	defer cl.Close()
	read := func() *fractal.Metagraph {
		t.Helper()
		m, err := cl.Metagraph(t.Context(), f.netuid)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	first := read()
	first.Neurons[0].Stake = 12345 // a caller's change must not leak into the cache
	second := read()
	f.stake(t, 1, 7)
	third := read()
	if want := []int{200, 304, 200}; !slices.Equal(statuses, want) {
		t.Errorf("statuses: got %v, want %v", statuses, want)
	}
	if second.Neurons[0].Stake != 0 {
		t.Errorf("cached stake: got %d, want 0", second.Neurons[0].Stake)
	}
	if got := third.Neurons[1].Stake; got != 7*fractal.RaoPerTAO {
		t.Errorf("stake after a change: got %d, want %d", got, 7*fractal.RaoPerTAO)
	}
}
