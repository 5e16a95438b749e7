package jetstream_test

import (
	"context"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/jetstream"
	"github.com/fractal-grid/fractal/storetest"
)

// testAckWait keeps queue redelivery tests short.
const testAckWait = 500 * time.Millisecond

func testConfig(t *testing.T, dir string) jetstream.Config {
	cfg := jetstream.DefaultConfig(dir)
	cfg.AckWait = testAckWait
	cfg.Logger = storetest.Logger(t)
	return cfg
}

// mustOpen opens a store and closes it when the test ends.
func mustOpen(t *testing.T, cfg jetstream.Config) *jetstream.Store {
	t.Helper()
	s, err := jetstream.Open(storetest.Context(t, 30*time.Second), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

// openEmbedded opens a store on its own in-process server.
func openEmbedded(t *testing.T) *jetstream.Store {
	return mustOpen(t, testConfig(t, t.TempDir()))
}

// openExternal starts a server listening on 127.0.0.1 (a random port) and
// opens a store that reaches it over TCP by URL.
func openExternal(t *testing.T) *jetstream.Store {
	srvCfg := testConfig(t, t.TempDir())
	srvCfg.Listen = "127.0.0.1:0"
	srv := mustOpen(t, srvCfg)
	cfg := testConfig(t, "")
	cfg.URL = srv.ClientURL()
	return mustOpen(t, cfg)
}

var deployments = []struct {
	name string
	open func(t *testing.T) *jetstream.Store
}{
	{"embedded", openEmbedded},
	{"external", openExternal},
}

func TestContract(t *testing.T) {
	for _, d := range deployments {
		t.Run(d.name, func(t *testing.T) {
			t.Run("JobStore", func(t *testing.T) {
				storetest.JobStore(t, func(t *testing.T) fractal.JobStore { return d.open(t).Jobs() })
			})
			t.Run("JobQueue", func(t *testing.T) {
				storetest.JobQueue(t, testAckWait, func(t *testing.T) fractal.JobQueue { return d.open(t).Queue() })
			})
			t.Run("ChallengeQueue", func(t *testing.T) {
				storetest.JobQueue(t, testAckWait, func(t *testing.T) fractal.JobQueue { return d.open(t).Queue().Challenges() })
			})
			t.Run("BlobStore", func(t *testing.T) {
				storetest.BlobStore(t, func(t *testing.T) fractal.BlobStore { return d.open(t).Blobs() })
			})
			t.Run("KV", func(t *testing.T) {
				storetest.KV(t, func(t *testing.T) fractal.KV { return mustKV(t, d.open(t), "test", 0) })
			})
			t.Run("Log", func(t *testing.T) {
				storetest.AuditLog(t, func(t *testing.T) fractal.AuditLog { return d.open(t).Audit() })
			})
		})
	}
}

func mustKV(t *testing.T, s *jetstream.Store, name string, ttl time.Duration) *jetstream.KV {
	t.Helper()
	kv, err := s.KV(storetest.Context(t, 10*time.Second), name, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestChallengesApart: the challenges' queue and the users' are two: an id
// queued in one is dequeued from that one only.
func TestChallengesApart(t *testing.T) {
	st := openEmbedded(t)
	users, challenges := st.Queue(), st.Queue().Challenges()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := users.Enqueue(ctx, "job-1"); err != nil {
		t.Fatal(err)
	}
	if err := challenges.Enqueue(ctx, "challenge-1"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		q    fractal.JobQueue
		want string
	}{{challenges, "challenge-1"}, {users, "job-1"}} {
		d, err := c.q.Dequeue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if d.JobID() != c.want {
			t.Errorf("dequeued %s, want %s", d.JobID(), c.want)
		}
		if err := d.Ack(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := challenges.(fractal.ChallengeQueues).Challenges(); got != challenges {
		t.Errorf("the challenges' queue names another as its challenges' queue")
	}
}
