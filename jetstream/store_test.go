package jetstream_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/jetstream"
	"github.com/fractal-grid/fractal/storetest"
)

// TestRestartKeepsEverything writes to every store, closes the embedded
// server and opens it again on the same directory: nothing is lost, and a
// job that was dequeued but never acknowledged is delivered again.
func TestRestartKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	ctx := storetest.Context(t, 60*time.Second)
	job := fractal.NewJob("job-1", "key-a", fractal.DefaultSpec("a red ball", 7), time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	blob := bytes.Repeat([]byte("frame"), 100_000)

	s1, err := jetstream.Open(ctx, testConfig(t, dir))
	mustDo(t, err)
	mustDo(t, s1.Jobs().Create(ctx, job))
	mustDo(t, s1.Queue().Enqueue(ctx, "job-1"))
	mustDo(t, s1.Queue().Enqueue(ctx, "job-2"))
	if d, err := s1.Queue().Dequeue(ctx); err != nil || d.JobID() != "job-1" {
		t.Fatalf("got %v, %v, want job-1", d, err)
	} // never acknowledged: the dispatcher dies with the server
	scores := mustKV(t, s1, "scores", 0)
	_, err = scores.Put(ctx, "miner.3", []byte(`{"score":0.9}`))
	mustDo(t, err)
	mustDo(t, s1.Blobs().Put(ctx, "videos/job-1.mp4", bytes.NewReader(blob)))
	_, err = s1.Audit().Append(ctx, "verify.3", map[string]string{"outcome": "pass"})
	mustDo(t, err)
	mustDo(t, s1.Close())

	s2 := mustOpen(t, testConfig(t, dir))
	got, err := s2.Jobs().Get(ctx, "job-1")
	mustDo(t, err)
	if got.ID != job.ID || got.Spec != job.Spec || !got.Created.Equal(job.Created) {
		t.Fatalf("got job %+v after restart, want %+v", got, job)
	}
	e, err := mustKV(t, s2, "scores", 0).Get(ctx, "miner.3")
	mustDo(t, err)
	if string(e.Value) != `{"score":0.9}` {
		t.Fatalf("got score %s after restart, want {\"score\":0.9}", e.Value)
	}
	rc, err := s2.Blobs().Get(ctx, "videos/job-1.mp4")
	mustDo(t, err)
	data, err := io.ReadAll(rc)
	rc.Close()
	mustDo(t, err)
	if !bytes.Equal(data, blob) {
		t.Fatalf("got a %d-byte blob after restart, want %d bytes", len(data), len(blob))
	}
	recs, err := s2.Audit().Read(ctx, "", 0, 10)
	mustDo(t, err)
	if len(recs) != 1 || recs[0].Subject != "verify.3" {
		t.Fatalf("got audit %+v after restart, want one verify.3 record", recs)
	}
	seen := map[string]int{}
	for range 2 {
		d, err := s2.Queue().Dequeue(ctx)
		mustDo(t, err)
		seen[d.JobID()] = d.Attempt()
		mustDo(t, d.Ack(ctx))
	}
	if seen["job-1"] != 2 || seen["job-2"] != 1 {
		t.Fatalf("got deliveries %v after restart, want job-1 on attempt 2 and job-2 on attempt 1", seen)
	}
}

func TestBlobTTL(t *testing.T) {
	dir := t.TempDir()
	ctx := storetest.Context(t, 30*time.Second)
	for _, ttl := range []time.Duration{2 * time.Hour, 3 * time.Hour} {
		cfg := testConfig(t, dir)
		cfg.BlobTTL = ttl
		s, err := jetstream.Open(ctx, cfg)
		mustDo(t, err)
		got, err := s.Blobs().TTL(ctx)
		mustDo(t, err)
		mustDo(t, s.Close())
		if got != ttl {
			t.Fatalf("got blob TTL %v, want %v (reopened with a new TTL)", got, ttl)
		}
	}

	cfg := testConfig(t, t.TempDir())
	cfg.BlobTTL = time.Second
	s := mustOpen(t, cfg)
	mustDo(t, s.Blobs().Put(ctx, "short-lived", strings.NewReader("video")))
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := s.Blobs().Stat(ctx, "short-lived")
		if errors.Is(err, fractal.ErrNotFound) {
			break
		}
		mustDo(t, err)
		if time.Now().After(deadline) {
			t.Fatal("got the blob still there 10s after a 1s TTL, want it expired")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestBlobChunks(t *testing.T) {
	s := openEmbedded(t)
	ctx := storetest.Context(t, 30*time.Second)
	const size = 9 << 20
	mustDo(t, s.Blobs().Put(ctx, "big", bytes.NewReader(make([]byte, size))))
	info, err := s.Blobs().Stat(ctx, "big")
	mustDo(t, err)
	if info.Size != size || info.Chunks != 3 {
		t.Fatalf("got %d bytes in %d chunks, want %d bytes in 3 chunks of 4 MiB", info.Size, info.Chunks, size)
	}
}

// TestBlobChangedWhileRead replaces, then deletes, a blob while a reader is
// part way through it: the reader does not wait for chunks that will never
// come, and does not end as if the blob were whole.
func TestBlobChangedWhileRead(t *testing.T) {
	s := openEmbedded(t)
	blobs := s.Blobs()
	blobs.SetChunkWait(50 * time.Millisecond)
	ctx := storetest.Context(t, 30*time.Second)
	const size = 24 << 20 // six chunks of 4 MiB
	for _, tc := range []struct {
		name   string
		change func() error
		want   string
	}{
		{"replaced", func() error { return blobs.Put(ctx, "big", bytes.NewReader([]byte("new"))) }, "replaced while reading"},
		{"deleted", func() error { return blobs.Delete(ctx, "big") }, "while reading"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mustDo(t, blobs.Put(ctx, "big", bytes.NewReader(make([]byte, size))))
			rc, err := blobs.Get(ctx, "big")
			mustDo(t, err)
			defer rc.Close()
			if _, err := io.ReadFull(rc, make([]byte, 1)); err != nil {
				t.Fatal(err)
			}
			mustDo(t, tc.change())
			n, err := io.Copy(io.Discard, rc)
			if !errors.Is(err, fractal.ErrNotFound) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("read on after the blob was %s: got error %v, want one saying %q that is fractal.ErrNotFound", tc.name, err, tc.want)
			}
			if n+1 >= size {
				t.Fatalf("read %d bytes of %d after the blob was %s, want fewer", n+1, size, tc.name)
			}
		})
	}
}

// TestReplicasShareOneServer opens two stores on one server at once, as two
// gateway replicas do: setup is idempotent and they see each other's jobs.
func TestReplicasShareOneServer(t *testing.T) {
	srvCfg := testConfig(t, t.TempDir())
	srvCfg.Listen = "127.0.0.1:0"
	srv := mustOpen(t, srvCfg)
	ctx := storetest.Context(t, 30*time.Second)

	stores := make([]*jetstream.Store, 2)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() {
			cfg := testConfig(t, "")
			cfg.URL = srv.ClientURL()
			stores[i] = mustOpen(t, cfg)
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	a, b := stores[0], stores[1]
	job := fractal.NewJob("job-1", "key-a", fractal.DefaultSpec("a cat", 1), time.Now())
	mustDo(t, a.Jobs().Create(ctx, job))
	mustDo(t, a.Queue().Enqueue(ctx, job.ID))
	d, err := b.Queue().Dequeue(ctx)
	mustDo(t, err)
	got, err := b.Jobs().Get(ctx, d.JobID())
	mustDo(t, err)
	if got.ID != job.ID {
		t.Fatalf("got job %s on the second replica, want %s", got.ID, job.ID)
	}
	mustDo(t, d.Ack(ctx))
}

// TestServerDown checks that calls to a server that went away fail with
// fractal.ErrUnavailable within the configured timeouts instead of hanging,
// and succeed again once a server is back on the same address and data.
func TestServerDown(t *testing.T) {
	dir := t.TempDir()
	ctx := storetest.Context(t, 60*time.Second)
	srvCfg := testConfig(t, dir)
	srvCfg.Listen = "127.0.0.1:0"
	srv, err := jetstream.Open(ctx, srvCfg)
	mustDo(t, err)
	cfg := testConfig(t, "")
	cfg.URL = srv.ClientURL()
	cfg.CallTimeout, cfg.Retries = 300*time.Millisecond, 1
	client := mustOpen(t, cfg)
	job := fractal.NewJob("job-1", "key-a", fractal.DefaultSpec("a dog", 1), time.Now())
	mustDo(t, client.Jobs().Create(ctx, job))
	mustDo(t, srv.Close())

	start := time.Now()
	_, err = client.Jobs().Get(ctx, "job-1")
	if el := time.Since(start); !errors.Is(err, fractal.ErrUnavailable) || el > 3*time.Second {
		t.Fatalf("got %v after %v with the server down, want %v within 3s", err, el, fractal.ErrUnavailable)
	}

	_, port, err := net.SplitHostPort(strings.TrimPrefix(cfg.URL, "nats://"))
	mustDo(t, err)
	srvCfg.Listen = "127.0.0.1:" + port
	mustOpen(t, srvCfg)
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := client.Jobs().Get(ctx, "job-1")
		if err == nil {
			if got.ID != "job-1" {
				t.Fatalf("got job %s, want job-1", got.ID)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %v 10s after the server came back, want the job", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestConfigValidate(t *testing.T) {
	base := jetstream.DefaultConfig("data")
	tests := []struct {
		name   string
		mutate func(*jetstream.Config)
		field  string // "" when valid
	}{
		{"default", func(c *jetstream.Config) {}, ""},
		{"external", func(c *jetstream.Config) { c.DataDir, c.URL = "", "nats://127.0.0.1:4222" }, ""},
		{"cluster", func(c *jetstream.Config) { c.URL, c.Replicas = "nats://a:4222,nats://b:4222", 3 }, ""},
		{"listening", func(c *jetstream.Config) { c.Listen = "127.0.0.1:0" }, ""},
		{"nowhere", func(c *jetstream.Config) { c.DataDir = "" }, "data_dir"},
		{"listen with url", func(c *jetstream.Config) { c.URL, c.Listen = "nats://x:1", ":4222" }, "listen"},
		{"bad listen", func(c *jetstream.Config) { c.Listen = "4222" }, "listen"},
		{"two replicas", func(c *jetstream.Config) { c.Replicas = 2 }, "replicas"},
		{"embedded R3", func(c *jetstream.Config) { c.Replicas = 3 }, "replicas"},
		{"no timeout", func(c *jetstream.Config) { c.CallTimeout = 0 }, "call_timeout"},
		{"tiny ack wait", func(c *jetstream.Config) { c.AckWait = time.Millisecond }, "ack_wait"},
		{"zero deliveries", func(c *jetstream.Config) { c.MaxDeliver = 0 }, "max_deliver"},
		{"no blob ttl", func(c *jetstream.Config) { c.BlobTTL = 0 }, "blob_ttl"},
		{"no logger", func(c *jetstream.Config) { c.Logger = nil }, "logger"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			tt.mutate(&cfg)
			err := cfg.Validate()
			var fe *fractal.FieldError
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("got %v, want valid", err)
			case tt.field != "" && (!errors.As(err, &fe) || fe.Field != tt.field):
				t.Fatalf("got %v, want a field error on %s", err, tt.field)
			}
		})
	}
}

func TestOpenInvalidConfig(t *testing.T) {
	_, err := jetstream.Open(storetest.Context(t, 5*time.Second), jetstream.Config{Replicas: 3, DataDir: t.TempDir()})
	if !errors.Is(err, fractal.ErrInvalid) {
		t.Fatalf("got %v, want %v", err, fractal.ErrInvalid)
	}
}

// TestToken checks that a listening server with a token refuses clients
// without it, accepts it as an option or in the URL, and never logs it.
func TestToken(t *testing.T) {
	const token = "s3cret-token-value"
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srvCfg := testConfig(t, t.TempDir())
	srvCfg.Listen, srvCfg.Token, srvCfg.Logger = "127.0.0.1:0", token, logger
	srv := mustOpen(t, srvCfg)
	hostPort := strings.TrimPrefix(srv.ClientURL(), "nats://")

	tests := []struct {
		name  string
		url   string
		token string
		want  error
	}{
		{"no token", "nats://" + hostPort, "", fractal.ErrUnauthorized},
		{"wrong token", "nats://" + hostPort, "guess", fractal.ErrUnauthorized},
		{"token option", "nats://" + hostPort, token, nil},
		{"token in url", "nats://" + token + "@" + hostPort, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t, "")
			cfg.URL, cfg.Token, cfg.Logger = tt.url, tt.token, logger
			cfg.Retries = -1
			s, err := jetstream.Open(storetest.Context(t, 10*time.Second), cfg)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if err != nil {
				if strings.Contains(err.Error(), token) {
					t.Fatalf("got the token in the error %q", err)
				}
				return
			}
			mustDo(t, s.Close())
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Contains(logs.String(), token) {
		t.Fatalf("got the token in the logs:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "store open") {
		t.Fatalf("got logs without the open message, want them captured:\n%s", logs.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestJobScan(t *testing.T) {
	for _, d := range deployments {
		t.Run(d.name, func(t *testing.T) {
			s := d.open(t)
			ctx := storetest.Context(t, 30*time.Second)
			want := map[string]bool{}
			for i, owner := range []string{"key-a", "key-b", "key-a"} {
				job := fractal.NewJob(fmt.Sprintf("job-%d", i), owner, fractal.DefaultSpec("a fox", uint64(i)), time.Now())
				mustDo(t, s.Jobs().Create(ctx, job))
				want[job.ID] = true
			}
			got := map[string]bool{}
			mustDo(t, s.Jobs().Scan(ctx, func(j *fractal.Job) error { got[j.ID] = true; return nil }))
			if len(got) != len(want) {
				t.Fatalf("got %v, want %v", got, want)
			}
			for id := range want {
				if !got[id] {
					t.Fatalf("got %v, want %s among them", got, id)
				}
			}
			errStop := errors.New("stop")
			calls := 0
			err := s.Jobs().Scan(ctx, func(*fractal.Job) error { calls++; return errStop })
			if !errors.Is(err, errStop) || calls != 1 {
				t.Fatalf("got %v after %d calls, want %v after 1", err, calls, errStop)
			}
			empty := d.open(t)
			mustDo(t, empty.Jobs().Scan(ctx, func(j *fractal.Job) error { return fmt.Errorf("got job %s in an empty store", j.ID) }))
		})
	}
}
