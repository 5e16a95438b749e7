package jetstream

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/fractal-grid/fractal"
)

// Config configures a Store: an embedded server under DataDir (the default),
// or an external server or cluster at URL.
type Config struct {
	// DataDir holds the embedded server's storage. Required unless URL is set.
	DataDir string
	// URL of an external NATS server (comma-separated for a cluster), e.g.
	// nats://127.0.0.1:4222. When set, no server is embedded.
	URL string
	// Listen makes the embedded server accept TCP clients on host:port too
	// (port 0 picks a free one), so other processes can share it. Empty:
	// in-process only, no port is opened.
	Listen string
	// Token, when set, is required from every client of the embedded server
	// and sent to an external one. Set it whenever Listen is not loopback.
	Token string
	// Replicas of every stream, bucket and consumer: 1, or 3 on a cluster.
	Replicas int

	// CallTimeout bounds each JetStream API call; calls that time out or
	// find no responder are retried up to Retries more times (0 takes the
	// default; negative: no retries).
	CallTimeout time.Duration
	Retries     int

	// AckWait is how long a dequeued job may go unacknowledged before it is
	// delivered again; MaxDeliver bounds deliveries per entry (-1: no bound).
	// An entry delivered MaxDeliver times is never delivered again, so a
	// dispatcher must fail and acknowledge a job before its Attempt reaches
	// MaxDeliver.
	AckWait    time.Duration
	MaxDeliver int

	// JobTTL is how long a job record is kept after its last update
	// (negative: for ever); BlobTTL how long a result blob is kept after it
	// was written.
	JobTTL  time.Duration
	BlobTTL time.Duration

	// AuditMaxAge and AuditMaxBytes bound the audit log; the oldest records
	// are dropped first.
	AuditMaxAge   time.Duration
	AuditMaxBytes int64

	// A write acknowledged by the embedded server is in the operating
	// system's cache: it survives a crash of this process (kill -9), and
	// reaches the disk within SyncInterval (0: the server's default, 2 min).
	// SyncAlways fsyncs every write before acknowledging it instead: it also
	// survives power loss, at a small fraction of the throughput.
	SyncInterval time.Duration
	SyncAlways   bool

	Logger *slog.Logger
}

// DefaultConfig returns the defaults for an embedded store under dataDir.
func DefaultConfig(dataDir string) Config {
	return Config{
		DataDir:       dataDir,
		Replicas:      1,
		CallTimeout:   3 * time.Second,
		Retries:       8, // backoff 50 ms doubling to 1 s: about 4.5 s, a leader election on a busy cluster
		AckWait:       30 * time.Second,
		MaxDeliver:    20,
		JobTTL:        30 * 24 * time.Hour,
		BlobTTL:       8 * 24 * time.Hour, // a backstop a day past the gateway's default retention, whose sweep removes blobs first
		AuditMaxAge:   30 * 24 * time.Hour,
		AuditMaxBytes: 1 << 30,
		Logger:        slog.New(slog.DiscardHandler),
	}
}

// withDefaults fills every zero field from DefaultConfig, so callers may set
// only what they care about.
func (c Config) withDefaults() Config {
	d := DefaultConfig(c.DataDir)
	setDefault(&c.Replicas, d.Replicas)
	setDefault(&c.CallTimeout, d.CallTimeout)
	setDefault(&c.AckWait, d.AckWait)
	setDefault(&c.MaxDeliver, d.MaxDeliver)
	setDefault(&c.JobTTL, d.JobTTL)
	setDefault(&c.BlobTTL, d.BlobTTL)
	setDefault(&c.AuditMaxAge, d.AuditMaxAge)
	setDefault(&c.AuditMaxBytes, d.AuditMaxBytes)
	if c.Retries == 0 {
		c.Retries = d.Retries
	}
	if c.Logger == nil {
		c.Logger = d.Logger
	}
	return c
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// Validate reports the first invalid setting as a *fractal.FieldError.
func (c Config) Validate() error {
	switch {
	case c.URL == "" && c.DataDir == "":
		return fractal.Errorf("data_dir", "must be set when no server URL is given")
	case c.URL != "" && c.Listen != "":
		return fractal.Errorf("listen", "only an embedded server listens; leave it empty with a server URL")
	case c.Replicas != 1 && c.Replicas != 3:
		return fractal.Errorf("replicas", "must be 1 or 3, got %d", c.Replicas)
	case c.Replicas == 3 && c.URL == "":
		return fractal.Errorf("replicas", "3 replicas need a cluster; set a server URL")
	case c.CallTimeout <= 0:
		return fractal.Errorf("call_timeout", "must be positive, got %v", c.CallTimeout)
	case c.AckWait < 100*time.Millisecond:
		return fractal.Errorf("ack_wait", "must be at least 100ms, got %v", c.AckWait)
	case c.MaxDeliver == 0 || c.MaxDeliver < -1:
		return fractal.Errorf("max_deliver", "must be positive or -1, got %d", c.MaxDeliver)
	case c.BlobTTL <= 0:
		return fractal.Errorf("blob_ttl", "must be positive, got %v", c.BlobTTL)
	case c.SyncInterval < 0:
		return fractal.Errorf("sync_interval", "must not be negative, got %v", c.SyncInterval)
	case c.AuditMaxAge <= 0 || c.AuditMaxBytes <= 0:
		return fractal.Errorf("audit", "max age and max bytes must be positive")
	case c.Logger == nil:
		return fractal.Errorf("logger", "must be set")
	}
	if c.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Listen); err != nil {
			return fractal.Errorf("listen", "must be host:port: %v", err)
		}
	}
	return nil
}

// String describes the store for logs, without credentials.
func (c Config) String() string {
	if c.URL != "" {
		return fmt.Sprintf("external %s R%d", redactURL(c.URL), c.Replicas)
	}
	if c.Listen != "" {
		return fmt.Sprintf("embedded %s listening on %s", c.DataDir, c.Listen)
	}
	return fmt.Sprintf("embedded %s", c.DataDir)
}

// redactURL drops user information (a token or password) from each of
// comma-separated server URLs.
func redactURL(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		if u, err := url.Parse(strings.TrimSpace(p)); err == nil && u.User != nil {
			u.User = nil
			parts[i] = u.String()
		} else if err != nil {
			parts[i] = "(unparsable url)"
		}
	}
	return strings.Join(parts, ",")
}
