package security_test

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/fractal-grid/fractal/internal/gridtest"
	"github.com/fractal-grid/fractal/refengine"
)

// headerTimeout is the ReadHeaderTimeout of the gateway's and the miner's
// HTTP servers.
const headerTimeout = 5 * time.Second

// TestSlowHeadersCutOff sends a request's headers one byte every 250ms, so
// they would take a minute: the gateway and the miner close the
// connection once their header timeout passes, holding no goroutine or
// slot for the slow client.
func TestSlowHeadersCutOff(t *testing.T) {
	g := gridtest.New(t)
	m := g.AddMiner(t, refengine.New(), nil)
	gw, _ := startGateway(t, g, true)
	for _, tc := range []struct{ name, addr, path string }{
		{"gateway", gw.Addr(), "/v1/videos"},
		{"miner", m.Addr(), "/v1/generate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			took, sent := slowHeaders(t, tc.addr, tc.path, 240)
			t.Logf("connection closed after %v and %d header bytes", took.Round(time.Millisecond), sent)
			if took < headerTimeout-time.Second || took > headerTimeout+3*time.Second {
				t.Errorf("closed after %v, want about the %v header timeout", took, headerTimeout)
			}
			if sent >= 240 {
				t.Error("every header byte was accepted: the slow client was never cut off")
			}
		})
	}
}

// slowHeaders dials addr and trickles a request's header, one byte every
// 250ms, up to n bytes. It returns when the server closes the connection:
// how long that took and how many header bytes were sent.
func slowHeaders(t *testing.T, addr, path string, n int) (time.Duration, int) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := io.WriteString(conn, "POST "+path+" HTTP/1.1\r\nHost: x\r\nX-Slow: "); err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() {
		io.Copy(io.Discard, conn) // returns when the server closes
		close(closed)
	}()
	header := strings.Repeat("a", n)
	for i := 0; i < n; i++ {
		select {
		case <-closed:
			return time.Since(start), i
		case <-time.After(250 * time.Millisecond):
		}
		if _, err := io.WriteString(conn, header[i:i+1]); err != nil {
			return time.Since(start), i
		}
	}
	return time.Since(start), n
}
