// Package jetstream implements Fractal's stores on NATS JetStream: jobs and
// small records in KV buckets (history 1, compare-and-swap updates), the job
// queue in a work-queue stream with a durable pull consumer, result blobs in
// an object store with a retention TTL, and an audit log stream with limits.
//
// By default the server is embedded in the process (no port opened, data
// under one directory); with Config.URL it connects to an external server or
// cluster instead, so several gateways and a validator share one store.
package jetstream

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Names of the streams and buckets on the server.
const (
	jobsBucket     = "fractal_jobs"
	queueStream    = "FRACTAL_QUEUE"
	queueSubject   = "fractal.queue.jobs"
	queueConsumer  = "dispatch"
	blobsBucket    = "fractal_blobs"
	auditStream    = "FRACTAL_AUDIT"
	auditSubjects  = "fractal.audit."
	kvBucketPrefix = "fractal_kv_"

	// Validators' challenges wait in a queue of their own, which every
	// replica drains beside its dispatchers (fractal.ChallengeQueues).
	challengeStream  = "FRACTAL_CHALLENGES"
	challengeSubject = "fractal.queue.challenges"
)

// Log keys.
const (
	logKeyComponent = "component"
	logKeyOp        = "op"
	logKeyTry       = "try"
	logKeyErr       = "err"
	logKeyStream    = "stream"
)

// Store is an open connection to JetStream with every stream and bucket
// that Fractal uses.
type Store struct {
	cfg Config
	log *slog.Logger
	ns  *server.Server // nil with an external server
	nc  *nats.Conn
	js  jetstream.JetStream

	// Now is the clock used to stamp job updates.
	Now func() time.Time

	jobs  *JobStore
	queue *Queue
	blobs *BlobStore
	audit *AuditLog
}

// Open starts the embedded server (or connects to cfg.URL) and creates the
// streams, buckets and consumer idempotently. Zero fields of cfg take their
// DefaultConfig values.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("jetstream config: %w", err)
	}
	s := &Store{cfg: cfg, log: cfg.Logger.With(logKeyComponent, "jetstream"), Now: time.Now}
	if err := s.connect(); err != nil {
		return nil, err
	}
	if err := s.setup(ctx); err != nil {
		s.Close()
		return nil, err
	}
	s.log.Info("store open", "store", cfg.String())
	return s, nil
}

func (s *Store) connect() error {
	opts := []nats.Option{nats.Name("fractal"), nats.MaxReconnects(-1), nats.ReconnectWait(250 * time.Millisecond)}
	if s.cfg.Token != "" {
		opts = append(opts, nats.Token(s.cfg.Token))
	}
	url := s.cfg.URL
	if url == "" {
		ns, err := startServer(s.cfg)
		if err != nil {
			return err
		}
		s.ns, url = ns, ns.ClientURL()
		opts = append(opts, nats.InProcessServer(ns))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		if s.ns != nil {
			s.ns.Shutdown()
		}
		kind := fractal.ErrUnavailable
		if errors.Is(err, nats.ErrAuthorization) {
			kind = fractal.ErrUnauthorized
		}
		return fmt.Errorf("connect to nats %s: %v: %w", redactURL(url), err, kind)
	}
	js, err := jetstream.New(nc, jetstream.WithDefaultTimeout(s.cfg.CallTimeout), jetstream.WithPublishAsyncTimeout(s.cfg.CallTimeout))
	if err != nil {
		nc.Close()
		return fmt.Errorf("jetstream: %w", err)
	}
	s.nc, s.js = nc, js
	return nil
}

// readyPoll bounds each probe while waiting for JetStream to answer.
const readyPoll = 250 * time.Millisecond

// waitReady polls JetStream with short probes until it answers: a new
// cluster has no meta leader for a moment, and a call sent then may hang
// for its whole timeout.
func (s *Store) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(s.cfg.CallTimeout * time.Duration(max(s.cfg.Retries, 0)+1))
	for {
		pctx, cancel := context.WithTimeout(ctx, readyPoll)
		_, err := s.js.AccountInfo(pctx)
		cancel()
		if err == nil || !retryable(err) {
			return err
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("jetstream not ready: %w", mapError(err))
		}
		if err := sleep(ctx, readyPoll/5); err != nil {
			return err
		}
	}
}

func (s *Store) setup(ctx context.Context) error {
	if err := s.waitReady(ctx); err != nil {
		return err
	}
	var err error
	if s.jobs, err = openJobStore(ctx, s); err != nil {
		return err
	}
	if s.queue, err = openQueue(ctx, s); err != nil {
		return err
	}
	if s.blobs, err = openBlobStore(ctx, s); err != nil {
		return err
	}
	s.audit, err = openLog(ctx, s)
	return err
}

// Close drains the connection and shuts the embedded server down.
func (s *Store) Close() error {
	var err error
	if s.nc != nil {
		if s.nc.IsConnected() {
			// A server that went away between the check and the drain leaves
			// a reconnecting connection: nothing to drain, as when closed.
			if derr := s.nc.Drain(); derr != nil && !errors.Is(derr, nats.ErrConnectionClosed) && !errors.Is(derr, nats.ErrConnectionReconnecting) {
				err = fmt.Errorf("drain nats connection: %w", derr)
			}
			for i := 0; i < 100 && !s.nc.IsClosed(); i++ {
				time.Sleep(10 * time.Millisecond)
			}
		}
		s.nc.Close() // a connection that lost its server has nothing to drain
	}
	if s.ns != nil {
		s.ns.Shutdown()
		s.ns.WaitForShutdown()
	}
	return err
}

// ClientURL returns the URL other processes use to reach the embedded
// server when it listens, or the configured URL of an external one.
func (s *Store) ClientURL() string {
	if s.ns != nil {
		return s.ns.ClientURL()
	}
	return s.cfg.URL
}

// Jobs returns the job store.
func (s *Store) Jobs() *JobStore { return s.jobs }

// Queue returns the job queue.
func (s *Store) Queue() *Queue { return s.queue }

// Blobs returns the result blob store.
func (s *Store) Blobs() *BlobStore { return s.blobs }

// Audit returns the audit log.
func (s *Store) Audit() *AuditLog { return s.audit }

// do runs one JetStream call with a CallTimeout deadline, retrying calls
// that timed out or found the service unavailable, with backoff.
func (s *Store) do(ctx context.Context, op string, f func(ctx context.Context) error) error {
	var err error
	for try := 0; ; try++ {
		cctx, cancel := context.WithTimeout(ctx, s.cfg.CallTimeout)
		err = f(cctx)
		cancel()
		if err == nil || !retryable(err) || try >= max(s.cfg.Retries, 0) || ctx.Err() != nil {
			break
		}
		s.log.Warn("jetstream call failed; retrying", logKeyOp, op, logKeyTry, try+1, logKeyErr, err)
		if serr := sleep(ctx, backoff(try)); serr != nil {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", op, mapError(err))
	}
	return nil
}

func backoff(try int) time.Duration {
	return min(50*time.Millisecond<<try, time.Second)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// errCodeClusterNoPeers is the server's JSClusterNoPeersErr.
const errCodeClusterNoPeers jetstream.ErrorCode = 10005

// retryable reports errors after which the same call may succeed: timeouts,
// missing responders (a leader election) and a busy JetStream.
func retryable(err error) bool {
	var apiErr *jetstream.APIError
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout),
		errors.Is(err, nats.ErrNoResponders), errors.Is(err, jetstream.ErrNoStreamResponse),
		errors.Is(err, nats.ErrConnectionReconnecting), errors.Is(err, nats.ErrDisconnected),
		errors.Is(err, nats.ErrStaleConnection), errors.Is(err, jetstream.ErrNoHeartbeat),
		errors.Is(err, jetstream.ErrAsyncPublishTimeout):
		return true
	case errors.As(err, &apiErr):
		// 10005: no peers for an R3 placement, while a cluster forms or
		// a node restarts.
		return apiErr.Code == 503 || apiErr.Code == 408 || apiErr.ErrorCode == errCodeClusterNoPeers
	}
	return false
}

// mapError attaches the fractal sentinel matching a JetStream error.
func mapError(err error) error {
	switch {
	case errors.Is(err, fractal.ErrNotFound), errors.Is(err, fractal.ErrConflict),
		errors.Is(err, fractal.ErrInvalid), errors.Is(err, fractal.ErrUnavailable),
		errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, jetstream.ErrKeyNotFound), errors.Is(err, jetstream.ErrKeyDeleted),
		errors.Is(err, jetstream.ErrObjectNotFound), errors.Is(err, jetstream.ErrMsgNotFound):
		return fmt.Errorf("%w: %w", err, fractal.ErrNotFound)
	case isConflict(err):
		return fmt.Errorf("%w: %w", err, fractal.ErrConflict)
	case errors.Is(err, jetstream.ErrInvalidKey):
		return fmt.Errorf("%w: %w", err, fractal.ErrInvalid)
	case retryable(err), errors.Is(err, nats.ErrConnectionClosed):
		return fmt.Errorf("%w: %w", err, fractal.ErrUnavailable)
	}
	return err
}

// isConflict reports a compare-and-swap failure: a wrong last sequence,
// reported as 10071 (R1) or 10164 (replicated streams).
func isConflict(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
		return true
	}
	return errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch)
}

// awaitAcks waits until the server has stored every async publish.
func awaitAcks(ctx context.Context, futures ...jetstream.PubAckFuture) error {
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// nonce returns a random message id, so a publish retried after a lost
// acknowledgement is stored once.
func nonce() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *Store) storage() jetstream.StorageType { return jetstream.FileStorage }
