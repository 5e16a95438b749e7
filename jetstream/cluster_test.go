package jetstream_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/jetstream"
	"github.com/fractal-grid/fractal/storetest"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"
)

// cluster is three JetStream servers routed together on 127.0.0.1.
type cluster struct {
	servers []*server.Server
	url     string // every client URL, comma-separated
}

// startCluster starts the servers and waits until JetStream has a meta
// leader that sees every peer, and every server is current. Each of set
// changes every server's options.
func startCluster(t *testing.T, set ...func(*server.Options)) *cluster {
	t.Helper()
	c := startServers(t, set...)
	deadline := time.Now().Add(15 * time.Second)
	for !c.healthy() {
		if time.Now().After(deadline) {
			t.Fatal("JetStream cluster not healthy after 15s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return c
}

func (c *cluster) healthy() bool {
	l := c.leader()
	if l == nil || len(l.JetStreamClusterPeers()) != len(c.servers) {
		return false
	}
	for _, s := range c.servers {
		if !s.JetStreamIsCurrent() {
			return false
		}
	}
	return true
}

// startServers starts the three servers without waiting for JetStream.
func startServers(t *testing.T, set ...func(*server.Options)) *cluster {
	t.Helper()
	ports := freePorts(t, 3)
	var routes []string
	for _, p := range ports {
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", p))
	}
	c := &cluster{}
	var urls []string
	for i, p := range ports {
		opts := &server.Options{
			ServerName: fmt.Sprintf("n%d", i+1), Host: "127.0.0.1", Port: server.RANDOM_PORT,
			JetStream: true, StoreDir: t.TempDir(), MaxPayload: 8 << 20, NoSigs: true, NoLog: true,
			Cluster: server.ClusterOpts{Name: "fractal", Host: "127.0.0.1", Port: p},
			Routes:  server.RoutesFromStr(strings.Join(routes, ",")),
		}
		for _, f := range set {
			f(opts)
		}
		ns, err := server.NewServer(opts)
		if err != nil {
			t.Fatal(err)
		}
		ns.Start()
		t.Cleanup(ns.Shutdown)
		if !ns.ReadyForConnections(10 * time.Second) {
			t.Fatalf("server n%d not ready", i+1)
		}
		c.servers = append(c.servers, ns)
		urls = append(urls, ns.ClientURL())
	}
	c.url = strings.Join(urls, ",")
	return c
}

func (c *cluster) leader() *server.Server {
	for _, s := range c.servers {
		if s.JetStreamIsLeader() {
			return s
		}
	}
	return nil
}

// freePorts reserves n ports for cluster routes, which every server must
// know before it starts.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
		defer l.Close()
	}
	return ports
}

// open returns a store with three replicas on the cluster after purging
// every stream, so each subtest starts empty.
func (c *cluster) open(t *testing.T) *jetstream.Store {
	t.Helper()
	ctx := storetest.Context(t, 30*time.Second)
	nc, err := nats.Connect(c.url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := njs.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	for info := range js.ListStreams(ctx).Info() {
		if info.Config.Replicas != 3 || info.Config.AllowDirect {
			t.Fatalf("got stream %s with %d replicas and direct gets %v, want 3 and no direct gets (they may read stale followers)",
				info.Config.Name, info.Config.Replicas, info.Config.AllowDirect)
		}
		st, err := js.Stream(ctx, info.Config.Name)
		if err == nil {
			err = st.Purge(ctx)
		}
		if err != nil {
			t.Fatalf("purge stream %s: %v", info.Config.Name, err)
		}
	}
	cfg := testConfig(t, "")
	cfg.URL, cfg.Replicas = c.url, 3
	return mustOpen(t, cfg)
}

// TestClusterContract runs the contract suites on three replicas, where
// compare-and-swap conflicts carry a different error code than on one. The
// first store opens the moment the servers accept connections, before
// JetStream has elected a meta leader: the short readiness probes and the
// per-call timeouts and retries carry Open through the election.
func TestClusterContract(t *testing.T) {
	c := startServers(t)
	t.Run("OpenBeforeLeader", func(t *testing.T) {
		cfg := testConfig(t, "")
		cfg.URL, cfg.Replicas = c.url, 3
		start := time.Now()
		s := mustOpen(t, cfg)
		t.Logf("open took %v", time.Since(start))
		ctx := storetest.Context(t, 30*time.Second)
		job := fractal.NewJob("job-1", "key-a", fractal.DefaultSpec("a red ball", 1), time.Now())
		mustDo(t, s.Jobs().Create(ctx, job))
		_, err := s.Jobs().Get(ctx, job.ID)
		mustDo(t, err)
	})
	if t.Failed() {
		return
	}
	t.Run("JobStore", func(t *testing.T) {
		storetest.JobStore(t, func(t *testing.T) fractal.JobStore { return c.open(t).Jobs() })
	})
	t.Run("JobQueue", func(t *testing.T) {
		storetest.JobQueue(t, testAckWait, func(t *testing.T) fractal.JobQueue { return c.open(t).Queue() })
	})
	t.Run("BlobStore", func(t *testing.T) {
		storetest.BlobStore(t, func(t *testing.T) fractal.BlobStore { return c.open(t).Blobs() })
	})
	t.Run("KV", func(t *testing.T) {
		storetest.KV(t, func(t *testing.T) fractal.KV { return mustKV(t, c.open(t), "test", 0) })
	})
	t.Run("Log", func(t *testing.T) {
		storetest.AuditLog(t, func(t *testing.T) fractal.AuditLog { return c.open(t).Audit() })
	})
}

// TestClusterNodeLoss kills the server leading the jobs bucket and the
// queue: every accepted job is still there, and new ones are accepted once
// a new leader is elected, the per-call timeouts and retries riding it out.
func TestClusterNodeLoss(t *testing.T) {
	c := startCluster(t)
	s := c.open(t)
	ctx := storetest.Context(t, 60*time.Second)
	now := time.Now()
	const before, after = 20, 5
	accept := func(i int) error {
		job := fractal.NewJob(fmt.Sprintf("job-%03d", i), "key-a", fractal.DefaultSpec("a red ball", uint64(i)), now)
		if err := s.Jobs().Create(ctx, job); err != nil {
			return err
		}
		return s.Queue().Enqueue(ctx, job.ID)
	}
	for i := range before {
		mustDo(t, accept(i))
	}
	var victim *server.Server
	for _, ns := range c.servers {
		if ns.JetStreamIsStreamLeader(server.DEFAULT_GLOBAL_ACCOUNT, "KV_fractal_jobs") {
			victim = ns
		}
	}
	if victim == nil {
		t.Fatal("no leader for the jobs bucket")
	}
	victim.Shutdown()
	start := time.Now()
	for i := before; i < before+after; i++ {
		mustDo(t, accept(i))
	}
	t.Logf("accepted %d jobs %v after losing %s", after, time.Since(start), victim.Name())
	seen := map[string]bool{}
	for len(seen) < before+after {
		d, err := s.Queue().Dequeue(ctx)
		mustDo(t, err)
		if _, err := s.Jobs().Get(ctx, d.JobID()); err != nil {
			t.Fatalf("job %s dequeued but not readable: %v", d.JobID(), err)
		}
		seen[d.JobID()] = true
		mustDo(t, d.Ack(ctx))
	}
	jobs, _, err := s.Jobs().List(ctx, "key-a", "", 100)
	mustDo(t, err)
	if len(jobs) != before+after {
		t.Fatalf("got %d jobs listed, want %d", len(jobs), before+after)
	}
}

// TestClusterReadsOwnWrites lists right after each write, on three
// replicas: a job's owner finds it in the list the moment Create returns,
// and a KV key is listed the moment Put returns and no longer listed once
// Delete returns. The consumer behind a KeyValue's key lister may sit on a
// replica that has not yet stored what the leader acknowledged, so a list
// read from it misses the latest write now and then.
func TestClusterReadsOwnWrites(t *testing.T) {
	c := startCluster(t)
	s := c.open(t)
	kv := mustKV(t, s, "own", 0)
	ctx := storetest.Context(t, 60*time.Second)
	const rounds = 150
	now := time.Now()
	for i := range rounds {
		job := fractal.NewJob(fmt.Sprintf("job-%06d", i), "key-a", fractal.DefaultSpec("a red ball", uint64(i)), now)
		mustDo(t, s.Jobs().Create(ctx, job))
		jobs, _, err := s.Jobs().List(ctx, "key-a", "", 1)
		mustDo(t, err)
		if len(jobs) != 1 || jobs[0].ID != job.ID {
			t.Fatalf("round %d: the newest job listed is %v, want %s just created", i, ids(jobs), job.ID)
		}
		key := fmt.Sprintf("k.%06d", i)
		_, err = kv.Put(ctx, key, []byte("v"))
		mustDo(t, err)
		keys, err := kv.Keys(ctx, "k.")
		mustDo(t, err)
		if len(keys) != 1 || keys[0] != key {
			t.Fatalf("round %d: listed keys %v after a put, want only %s", i, keys, key)
		}
		mustDo(t, kv.Delete(ctx, key))
		keys, err = kv.Keys(ctx, "k.")
		mustDo(t, err)
		if len(keys) != 0 {
			t.Fatalf("round %d: listed keys %v after deleting %s, want none", i, keys, key)
		}
	}
}

// TestClusterReadsOwnBlobs reads each blob back the moment Put returns,
// on three replicas with a small max payload, so that a blob spans many
// chunks: every byte comes back, and BlobKeys lists the blob at once and
// leaves it out once Delete returns. The object store's own reader stops
// when its consumer's replica has nothing more, which on a replica behind
// the leader is before the last chunks.
func TestClusterReadsOwnBlobs(t *testing.T) {
	c := startCluster(t, func(o *server.Options) { o.MaxPayload = 1 << 20 })
	blobs := c.open(t).Blobs()
	ctx := storetest.Context(t, 60*time.Second)
	const rounds, size = 30, 4 << 20
	data := make([]byte, size)
	rand.NewChaCha8([32]byte{1}).Read(data)
	for i := range rounds {
		binary.BigEndian.PutUint64(data[size-8:], uint64(i)) // each round's last chunk differs
		key := fmt.Sprintf("video.%03d", i)
		mustDo(t, blobs.Put(ctx, key, bytes.NewReader(data)))
		rc, err := blobs.Get(ctx, key)
		mustDo(t, err)
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("round %d: read %d of %d bytes back (equal: %v), error %v", i, len(got), size, bytes.Equal(got, data), err)
		}
		keys, err := blobs.BlobKeys(ctx, "video.")
		mustDo(t, err)
		if len(keys) != 1 || keys[0] != key {
			t.Fatalf("round %d: listed blobs %v after a put, want only %s", i, keys, key)
		}
		mustDo(t, blobs.Delete(ctx, key))
		keys, err = blobs.BlobKeys(ctx, "video.")
		mustDo(t, err)
		if len(keys) != 0 {
			t.Fatalf("round %d: listed blobs %v after deleting %s, want none", i, keys, key)
		}
	}
}

func ids(jobs []*fractal.Job) []string {
	var out []string
	for _, j := range jobs {
		out = append(out, j.ID)
	}
	return out
}
