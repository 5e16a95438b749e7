// Package natstest runs real NATS JetStream servers for tests.
package natstest

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// StartCluster runs three JetStream servers routed on loopback, stopped at
// cleanup, and returns their client URLs joined by commas.
func StartCluster(tb testing.TB) string {
	tb.Helper()
	var lns []net.Listener
	var routes []string
	for range 3 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		lns = append(lns, ln)
		routes = append(routes, fmt.Sprintf("nats-route://%s", ln.Addr()))
	}
	for _, ln := range lns {
		ln.Close()
	}
	var urls []string
	for i, ln := range lns {
		ns, err := server.NewServer(&server.Options{
			ServerName: fmt.Sprintf("n%d", i+1), Host: "127.0.0.1", Port: server.RANDOM_PORT,
			JetStream: true, StoreDir: tb.TempDir(), MaxPayload: 8 << 20, NoSigs: true, NoLog: true,
			Cluster: server.ClusterOpts{Name: "fractal", Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port},
			Routes:  server.RoutesFromStr(strings.Join(routes, ",")),
		})
		if err != nil {
			tb.Fatal(err)
		}
		ns.Start()
		tb.Cleanup(ns.Shutdown)
		if !ns.ReadyForConnections(10 * time.Second) {
			tb.Fatalf("server n%d not ready", i+1)
		}
		urls = append(urls, ns.ClientURL())
	}
	return strings.Join(urls, ",")
}
