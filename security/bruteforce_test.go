package security_test

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fractal-grid/fractal/gateway"
	"github.com/fractal-grid/fractal/internal/gridtest"
)

// TestAPIKeyBruteForceLimited guesses API keys from one client address:
// after the allowed failures every request from that address gets 429 with
// Retry-After before any key is looked up, even the right key; another
// address is not affected; and the address may try again once the wait
// passed.
func TestAPIKeyBruteForceLimited(t *testing.T) {
	g := gridtest.New(t)
	gw, key := startGateway(t, g, true)
	allowed := gateway.DefaultConfig().AuthFailuresPerIP
	id := strings.Split(key, "_")[1]
	guesser := clientFrom(t, "127.0.0.1")
	for i := range allowed {
		guess := "fk_" + id + "_" + strconv.Itoa(i) // the right id, a wrong secret
		if status, _ := list(t, guesser, gw, guess); status != http.StatusUnauthorized {
			t.Fatalf("guess %d: status %d, want 401", i, status)
		}
	}
	status, retry := list(t, guesser, gw, "fk_"+id+"_next")
	if status != http.StatusTooManyRequests || retry < 1 {
		t.Fatalf("guess %d: status %d, Retry-After %d; want 429 with Retry-After", allowed, status, retry)
	}
	t.Logf("after %d failures: 429 with Retry-After %d", allowed, retry)
	if status, _ := list(t, guesser, gw, key); status != http.StatusTooManyRequests {
		t.Errorf("the right key from the guessing address: status %d, want 429", status)
	}
	if status, _ := list(t, clientFrom(t, "127.0.0.2"), gw, key); status != http.StatusOK {
		t.Errorf("the right key from another address: status %d, want 200", status)
	}
	time.Sleep(time.Duration(retry) * time.Second)
	if status, _ := list(t, guesser, gw, key); status != http.StatusOK {
		t.Errorf("the right key after Retry-After: status %d, want 200", status)
	}
}

// clientFrom returns an HTTP client whose connections come from ip (any
// 127.0.0.0/8 address is this machine).
func clientFrom(t *testing.T, ip string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
	}}
}

// list asks for the key's videos and returns the status and Retry-After.
func list(t *testing.T, c *http.Client, gw *gateway.Gateway, key string) (int, int) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+gw.Addr()+"/v1/videos", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	retry, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	return resp.StatusCode, retry
}
