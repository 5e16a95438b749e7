package security_test

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/fractal-grid/fractal/internal/gridtest"
	"github.com/fractal-grid/fractal/refengine"
)

// The gateway's and the miner's HTTP servers allow a request's headers
// headerTimeout and the whole request readTimeout.
const (
	headerTimeout = 5 * time.Second
	readTimeout   = 15 * time.Second
)

// TestSlowClientsCutOff sends a request's headers, or its body, one byte
// every 250ms, so it would take minutes: the gateway and the miner close
// the connection once their header or read timeout passes, holding no
// goroutine or slot for the slow client.
func TestSlowClientsCutOff(t *testing.T) {
	g := gridtest.New(t)
	m := g.AddMiner(t, refengine.New(), nil)
	gw, _ := startGateway(t, g, true)
	for _, tc := range []struct{ name, addr, path string }{
		{"gateway", gw.Addr(), "/v1/videos"},
		{"miner", m.Addr(), "/v1/generate"},
	} {
		t.Run(tc.name+" headers", func(t *testing.T) {
			t.Parallel()
			took, sent := trickle(t, tc.addr, "POST "+tc.path+" HTTP/1.1\r\nHost: x\r\nX-Slow: ", 240)
			t.Logf("connection closed after %v and %d header bytes", took.Round(time.Millisecond), sent)
			if took < headerTimeout-time.Second || took > headerTimeout+3*time.Second {
				t.Errorf("closed after %v, want about the %v header timeout", took, headerTimeout)
			}
			if sent >= 240 {
				t.Error("every header byte was accepted: the slow client was never cut off")
			}
		})
		t.Run(tc.name+" body", func(t *testing.T) {
			t.Parallel()
			head := "POST " + tc.path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer fk_x_y\r\nContent-Length: 1000\r\n\r\n"
			took, sent := trickle(t, tc.addr, head, 1000)
			t.Logf("connection closed after %v and %d body bytes", took.Round(time.Millisecond), sent)
			if took > readTimeout+3*time.Second || sent >= 1000 {
				t.Errorf("closed after %v and %d body bytes, want within the %v read timeout", took, sent, readTimeout)
			}
		})
	}
}

// trickle dials addr, sends head, then up to n more bytes one every 250ms.
// It returns when the server closes the connection (or answers and
// closes): how long that took and how many trickled bytes were sent.
func trickle(t *testing.T, addr, head string, n int) (time.Duration, int) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() {
		io.Copy(io.Discard, conn) // returns when the server closes
		close(closed)
	}()
	for i := 0; i < n; i++ {
		select {
		case <-closed:
			return time.Since(start), i
		case <-time.After(250 * time.Millisecond):
		}
		if _, err := io.WriteString(conn, "a"); err != nil {
			return time.Since(start), i
		}
	}
	return time.Since(start), n
}
