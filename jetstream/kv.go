package jetstream

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/nats-io/nats.go/jetstream"
)

// KV is a bucket of small records (fractal.KV) with compare-and-swap
// updates (fractal.KVUpdater).
type KV struct {
	s      *Store
	name   string
	kv     jetstream.KeyValue
	stream jetstream.Stream // the bucket's stream
}

var (
	_ fractal.KV        = (*KV)(nil)
	_ fractal.KVUpdater = (*KV)(nil)
)

// SharedKV is the KV bucket a validator and the gateways routing for it
// share: the validator's scores and published standings, API keys,
// idempotency keys and the grid map. Every entry point ('fractal
// validator', 'fractal gateway', 'fractal up') opens this one bucket. Its
// name is the one stores have held these records under from the start.
const SharedKV = "validator"

// KV opens the bucket name ([A-Za-z0-9_-]), creating it when missing. With
// ttl > 0 a key disappears ttl after its last write.
func (s *Store) KV(ctx context.Context, name string, ttl time.Duration) (*KV, error) {
	if err := fractal.ValidateToken("bucket", name); err != nil {
		return nil, fmt.Errorf("kv bucket: %w", err)
	}
	kv, stream, err := s.openKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: kvBucketPrefix + name, History: 1, TTL: bucketTTL(ttl),
		Storage: s.storage(), Replicas: s.cfg.Replicas,
	})
	if err != nil {
		return nil, err
	}
	return &KV{s: s, name: name, kv: kv, stream: stream}, nil
}

// Get returns the entry of key; fractal.ErrNotFound when there is none.
func (b *KV) Get(ctx context.Context, key string) (fractal.Entry, error) {
	if err := fractal.ValidateKey(key); err != nil {
		return fractal.Entry{}, fmt.Errorf("kv %s get: %w", b.name, err)
	}
	var e jetstream.KeyValueEntry
	err := b.s.do(ctx, "kv "+b.name+" get "+key, func(ctx context.Context) error {
		var err error
		e, err = b.kv.Get(ctx, key)
		return err
	})
	if err != nil {
		return fractal.Entry{}, err
	}
	return toEntry(e), nil
}

// Put writes value under key and returns the new revision.
func (b *KV) Put(ctx context.Context, key string, value []byte) (uint64, error) {
	if err := fractal.ValidateKey(key); err != nil {
		return 0, fmt.Errorf("kv %s put: %w", b.name, err)
	}
	var rev uint64
	err := b.s.do(ctx, "kv "+b.name+" put "+key, func(ctx context.Context) error {
		var err error
		rev, err = b.kv.Put(ctx, key, value)
		return err
	})
	return rev, err
}

// Update writes value only if key's revision is rev (0: only if absent).
func (b *KV) Update(ctx context.Context, key string, value []byte, rev uint64) (uint64, error) {
	if err := fractal.ValidateKey(key); err != nil {
		return 0, fmt.Errorf("kv %s update: %w", b.name, err)
	}
	return b.s.cas(ctx, b.kv, "kv "+b.name+" update "+key, key, value, rev)
}

// Delete removes key; a missing key is not an error.
func (b *KV) Delete(ctx context.Context, key string) error {
	if err := fractal.ValidateKey(key); err != nil {
		return fmt.Errorf("kv %s delete: %w", b.name, err)
	}
	return b.s.do(ctx, "kv "+b.name+" delete "+key, func(ctx context.Context) error {
		return b.kv.Delete(ctx, key)
	})
}

// Keys lists the keys under prefix, sorted. It reads its own writes on a
// replicated stream: the leader lists the keys, deleted ones included, and
// a read of each, which the leader answers too, leaves the deleted out.
func (b *KV) Keys(ctx context.Context, prefix string) ([]string, error) {
	if err := fractal.ValidateKeyPrefix(prefix); err != nil {
		return nil, fmt.Errorf("kv %s keys: %w", b.name, err)
	}
	op := "kv " + b.name + " keys " + prefix
	all, err := b.s.leaderKeys(ctx, b.kv, b.stream, op, prefix)
	if err != nil {
		return nil, err
	}
	keys, err := liveKeys(ctx, all, func(ctx context.Context, key string) error {
		_, err := b.Get(ctx, key)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return keys, nil
}

// Watch sends the current entries under prefix, then every change, until
// ctx is done.
func (b *KV) Watch(ctx context.Context, prefix string) (<-chan fractal.Entry, error) {
	if err := fractal.ValidateKeyPrefix(prefix); err != nil {
		return nil, fmt.Errorf("kv %s watch: %w", b.name, err)
	}
	var w jetstream.KeyWatcher
	err := b.s.do(ctx, "kv "+b.name+" watch "+prefix, func(cctx context.Context) error {
		var err error
		// The watcher lives as long as ctx, not the call timeout.
		w, err = b.kv.Watch(ctx, prefix+">")
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make(chan fractal.Entry, 64)
	go func() {
		defer close(out)
		defer w.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-w.Updates():
				if !ok {
					return
				}
				if e == nil {
					continue // end of the initial values
				}
				select {
				case out <- toEntry(e):
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}

func toEntry(e jetstream.KeyValueEntry) fractal.Entry {
	return fractal.Entry{
		Key:      e.Key(),
		Value:    e.Value(),
		Revision: e.Revision(),
		Created:  e.Created(),
		Deleted:  e.Operation() != jetstream.KeyValuePut,
	}
}

// cas writes data under key if its revision is rev (0: only if absent),
// through Store.do. A try repeated after a lost reply may meet its own
// earlier write; finding exactly data stored then counts as success.
func (s *Store) cas(ctx context.Context, kv jetstream.KeyValue, op, key string, data []byte, rev uint64) (uint64, error) {
	var newRev uint64
	tries := 0
	err := s.do(ctx, op, func(ctx context.Context) error {
		tries++
		var err error
		if rev == 0 {
			newRev, err = kv.Create(ctx, key, data)
		} else {
			newRev, err = kv.Update(ctx, key, data, rev)
		}
		if err != nil && tries > 1 && isConflict(err) {
			if e, gerr := kv.Get(ctx, key); gerr == nil && e.Revision() > rev && bytes.Equal(e.Value(), data) {
				newRev = e.Revision()
				return nil
			}
		}
		return err
	})
	return newRev, err
}
