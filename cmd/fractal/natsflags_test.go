package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/fractal-grid/fractal/internal/natstest"
)

// TestKeysOnReplicatedCluster creates an API key through the command line
// on a three-node cluster with --nats-replicas 3: every stream and bucket
// the store opens has three replicas, and listing the key (another process
// opening the same store) keeps them at three.
func TestKeysOnReplicatedCluster(t *testing.T) {
	url := natstest.StartCluster(t)
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
