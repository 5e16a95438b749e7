package jetstream

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/nats-io/nats.go/jetstream"
)

// openKeyValue opens a KV bucket, creating or reconfiguring it only when its
// settings differ from cfg, and returns it with the stream behind it.
func (s *Store) openKeyValue(ctx context.Context, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, jetstream.Stream, error) {
	matches := func(sc jetstream.StreamConfig) bool {
		return sc.MaxAge == cfg.TTL && sc.MaxMsgsPerSubject == int64(max(cfg.History, 1)) &&
			sc.Replicas == cfg.Replicas && sc.Storage == cfg.Storage
	}
	create := func(ctx context.Context) error {
		_, err := s.js.CreateOrUpdateKeyValue(ctx, cfg)
		return err
	}
	var kv jetstream.KeyValue
	var st jetstream.Stream
	err := s.do(ctx, "open bucket "+cfg.Bucket, func(ctx context.Context) error {
		var err error
		if st, err = s.ensureStream(ctx, "KV_"+cfg.Bucket, matches, create); err != nil {
			return err
		}
		kv, err = s.js.KeyValue(ctx, cfg.Bucket)
		return err
	})
	return kv, st, err
}

// leaderKeys returns the keys of bucket kv (its stream is st) under prefix,
// unsorted, as the stream leader holds them; deleted keys are among them
// (their last message is a marker).
func (s *Store) leaderKeys(ctx context.Context, kv jetstream.KeyValue, st jetstream.Stream, op, prefix string) ([]string, error) {
	head := "$KV." + kv.Bucket() + "."
	keys, err := s.leaderSubjects(ctx, st, op, head+prefix+">")
	for i, k := range keys {
		keys[i] = strings.TrimPrefix(k, head)
	}
	return keys, err
}

// leaderSubjects returns the subjects of stream st that match filter,
// unsorted, as the stream leader holds them. It is how a list reads its
// own writes on a replicated stream: the consumer behind a KeyValue's
// ListKeys or an object store's List may be placed on any replica, and a
// replica may still lack a write the leader has acknowledged, whereas a
// stream info request is answered by the leader.
func (s *Store) leaderSubjects(ctx context.Context, st jetstream.Stream, op, filter string) ([]string, error) {
	var subjects []string
	err := s.do(ctx, op, func(ctx context.Context) error {
		info, err := st.Info(ctx, jetstream.WithSubjectFilter(filter))
		if err != nil {
			return err
		}
		subjects = subjects[:0]
		for subj := range info.State.Subjects {
			subjects = append(subjects, subj)
		}
		return nil
	})
	return subjects, err
}

// liveKeys returns, sorted, the keys that read finds: a read that fails
// with fractal.ErrNotFound leaves its key out (a deleted key, whose marker
// is still a subject), any other error is returned. It reads listReaders
// keys at a time, and the first error cancels the reads still running:
// each retries through a store outage, and a list of many keys must not
// wait out one retry budget per key.
func liveKeys(ctx context.Context, keys []string, read func(ctx context.Context, key string) error) ([]string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	live := make([]bool, len(keys))
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	work := make(chan int)
	for range min(len(keys), listReaders) {
		wg.Go(func() {
			for i := range work {
				err := read(ctx, keys[i])
				live[i] = err == nil
				if err != nil && !errors.Is(err, fractal.ErrNotFound) {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
						cancel()
					}
					mu.Unlock()
				}
			}
		})
	}
	for i := range keys {
		work <- i
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	var found []string
	for i, k := range keys {
		if live[i] {
			found = append(found, k)
		}
	}
	slices.Sort(found)
	return found, nil
}

// listReaders bounds the reads a list has in flight at once.
const listReaders = 8

// openObjectStore opens an object store like openKeyValue.
func (s *Store) openObjectStore(ctx context.Context, cfg jetstream.ObjectStoreConfig) (jetstream.ObjectStore, jetstream.Stream, error) {
	matches := func(sc jetstream.StreamConfig) bool {
		return sc.MaxAge == cfg.TTL && sc.Replicas == cfg.Replicas && sc.Storage == cfg.Storage
	}
	create := func(ctx context.Context) error {
		_, err := s.js.CreateOrUpdateObjectStore(ctx, cfg)
		return err
	}
	var obs jetstream.ObjectStore
	var st jetstream.Stream
	err := s.do(ctx, "open object store "+cfg.Bucket, func(ctx context.Context) error {
		var err error
		if st, err = s.ensureStream(ctx, "OBJ_"+cfg.Bucket, matches, create); err != nil {
			return err
		}
		obs, err = s.js.ObjectStore(ctx, cfg.Bucket)
		return err
	})
	return obs, st, err
}

// ensureStream creates or updates the stream behind a bucket when it is
// missing or its settings do not match. On replicated streams it then turns
// direct gets off: a follower answering a direct get may not have a write
// the leader already acknowledged, and a job must be readable right after
// its creation. Reads then go through the stream leader.
func (s *Store) ensureStream(ctx context.Context, name string, matches func(jetstream.StreamConfig) bool, create func(context.Context) error) (jetstream.Stream, error) {
	st, err := s.js.Stream(ctx, name)
	if err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, err
	}
	if err != nil || !matches(st.CachedInfo().Config) {
		if err := create(ctx); err != nil {
			return nil, err
		}
		if st, err = s.js.Stream(ctx, name); err != nil {
			return nil, err
		}
	}
	cfg := st.CachedInfo().Config
	if s.cfg.Replicas > 1 && cfg.AllowDirect {
		cfg.AllowDirect = false
		if _, err = s.js.UpdateStream(ctx, cfg); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// bucketTTL maps a configured retention to a bucket TTL (0: for ever).
func bucketTTL(d time.Duration) time.Duration { return max(d, 0) }
