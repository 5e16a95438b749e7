package main

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestKeysOnReplicatedCluster creates an API key through the command line
// on a three-node cluster with --nats-replicas 3: every stream and bucket
// the store opens has three replicas, and listing the key (another process
// opening the same store) keeps them at three.
func TestKeysOnReplicatedCluster(t *testing.T) {
	url := startTestCluster(t)
	code, out, errOut := runBenchCLI(t, "gateway", "keys", "create", "--nats", url, "--nats-replicas", "3", "--name", "app")
	if code != 0 || !strings.Contains(out, "fk_") {
		t.Fatalf("keys create: exit %d, %q %q", code, out, errOut)
	}
	checkReplicas(t, url, 3)
	code, out, errOut = runBenchCLI(t, "gateway", "keys", "list", "--nats", url, "--nats-replicas", "3")
	if code != 0 || !strings.Contains(out, "app") {
		t.Fatalf("keys list: exit %d, %q %q", code, out, errOut)
	}
	checkReplicas(t, url, 3)
	if code, _, _ := runBenchCLI(t, "gateway", "keys", "list", "--nats-replicas", "3", "--data", t.TempDir()); code == 0 {
		t.Error("--nats-replicas 3 on an embedded store: exit 0, want a refusal")
	}
}

// checkReplicas fails unless every stream on the cluster has n replicas.
func checkReplicas(t *testing.T, url string, n int) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	streams := 0
	for info := range js.ListStreams(ctx).Info() {
		streams++
		if info.Config.Replicas != n {
			t.Errorf("stream %s has %d replicas, want %d", info.Config.Name, info.Config.Replicas, n)
		}
	}
	if streams < 5 {
		t.Errorf("found %d streams, want the jobs, queue, blobs, audit and KV streams", streams)
	}
}

// startTestCluster runs three JetStream servers routed on loopback and
// returns their client URLs.
func startTestCluster(t *testing.T) string {
	t.Helper()
	var lns []net.Listener
	var routes []string
	for range 3 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
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
			JetStream: true, StoreDir: t.TempDir(), NoSigs: true, NoLog: true,
			Cluster: server.ClusterOpts{Name: "fractal", Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port},
			Routes:  server.RoutesFromStr(strings.Join(routes, ",")),
		})
		if err != nil {
			t.Fatal(err)
		}
		ns.Start()
		t.Cleanup(ns.Shutdown)
		if !ns.ReadyForConnections(10 * time.Second) {
			t.Fatalf("server n%d not ready", i+1)
		}
		urls = append(urls, ns.ClientURL())
	}
	return strings.Join(urls, ",")
}
