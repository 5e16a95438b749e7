package subtensor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"time"

	gethrpc "github.com/centrifuge/go-substrate-rpc-client/v4/gethrpc"

	"github.com/fractal-grid/fractal"
)

// RPCError is an error a node answered to a JSON-RPC request.
type RPCError struct {
	Method  string
	Code    int
	Message string
	Data    any
}

func (e *RPCError) Error() string {
	if e.Data != nil {
		return fmt.Sprintf("%s: %s (%d): %v", e.Method, e.Message, e.Code, e.Data)
	}
	return fmt.Sprintf("%s: %s (%d)", e.Method, e.Message, e.Code)
}

// rpcConn is a JSON-RPC connection that dials lazily and dials again, with
// exponential backoff, after the node goes away.
type rpcConn struct {
	cfg *Config
	log *slog.Logger

	mu      sync.Mutex
	c       *gethrpc.Client
	fails   int       // consecutive failed dials or calls
	retryAt time.Time // no dial before this
	closed  bool
}

// errClosed is returned by calls on a closed client.
var errClosed = errors.New("subtensor client is closed")

func (r *rpcConn) client(ctx context.Context) (*gethrpc.Client, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, errClosed
	}
	if r.c != nil {
		return r.c, nil
	}
	if wait := time.Until(r.retryAt); wait > 0 {
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
	dctx, cancel := context.WithTimeout(ctx, r.cfg.DialTimeout)
	defer cancel()
	c, err := gethrpc.DialContext(dctx, r.cfg.URL)
	if err != nil {
		r.failedLocked()
		return nil, fmt.Errorf("connect to %s: %w", r.cfg.URL, err)
	}
	if r.fails > 0 {
		r.log.Info("reconnected to chain node", "url", r.cfg.URL)
	}
	r.c, r.fails = c, 0
	return c, nil
}

// failedLocked records a failure and schedules the next dial.
func (r *rpcConn) failedLocked() {
	r.fails++
	r.retryAt = time.Now().Add(r.cfg.backoff(r.fails))
}

// drop forgets c after a transport error so the next call dials again.
func (r *rpcConn) drop(c *gethrpc.Client, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.c != c {
		return
	}
	r.log.Warn("lost chain node connection", "url", r.cfg.URL, "err", err)
	c.Close()
	r.c = nil
	r.failedLocked()
}

func (r *rpcConn) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	if r.c != nil {
		r.c.Close()
		r.c = nil
	}
}

// call runs method, retrying transport failures up to cfg.Retries times with
// backoff. Errors the node answers are returned at once as *RPCError.
func (r *rpcConn) call(ctx context.Context, result any, method string, args ...any) error {
	return r.callRetries(ctx, r.cfg.Retries, result, method, args...)
}

func (r *rpcConn) callRetries(ctx context.Context, retries int, result any, method string, args ...any) error {
	var err error
	for attempt := 0; ; attempt++ {
		err = r.callOnce(ctx, result, method, args...)
		var rpcErr *RPCError
		if err == nil || errors.As(err, &rpcErr) || errors.Is(err, errClosed) || ctx.Err() != nil || attempt >= retries {
			break
		}
		if serr := sleep(ctx, r.cfg.backoff(attempt+1)); serr != nil {
			break
		}
	}
	var rpcErr *RPCError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &rpcErr):
		return err
	case ctx.Err() != nil:
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
	return fmt.Errorf("chain node %s is unreachable (%s): %w: %w", r.cfg.URL, method, fractal.ErrUnavailable, err)
}

func (r *rpcConn) callOnce(ctx context.Context, result any, method string, args ...any) error {
	c, err := r.client(ctx)
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, r.cfg.CallTimeout)
	defer cancel()
	start := time.Now()
	err = c.CallContext(cctx, result, method, args...)
	r.log.Debug("rpc", "method", method, "took", time.Since(start), "err", err)
	if err == nil {
		return nil
	}
	var coded interface{ ErrorCode() int }
	if errors.As(err, &coded) {
		return &RPCError{Method: method, Code: coded.ErrorCode(), Message: err.Error(), Data: errorData(err)}
	}
	if ctx.Err() == nil {
		r.drop(c, err)
	}
	return err
}

// errorData reads the data member of a JSON-RPC error, which gethrpc keeps
// in an unexported type.
func errorData(err error) any {
	v := reflect.ValueOf(err)
	if v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().Kind() == reflect.Struct {
		if f := v.Elem().FieldByName("Data"); f.IsValid() && f.CanInterface() {
			return f.Interface()
		}
	}
	return nil
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
