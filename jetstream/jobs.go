package jetstream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// maxUpdateTries bounds compare-and-swap rounds of one JobStore.Update.
const maxUpdateTries = 64

// MaxListLimit bounds one page of JobStore.List.
const MaxListLimit = 1000

// JobStore keeps jobs in a KV bucket: "j.<id>" holds the job as JSON and
// "o.<owner>.<id>" (empty) indexes it by owner.
type JobStore struct {
	s      *Store
	kv     jetstream.KeyValue
	stream jetstream.Stream // the bucket's stream
	put    string           // subject prefix of the bucket's keys
}

var _ fractal.JobStore = (*JobStore)(nil)

func openJobStore(ctx context.Context, s *Store) (*JobStore, error) {
	kv, stream, err := s.openKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: jobsBucket, Description: "fractal gateway jobs", History: 1,
		TTL: bucketTTL(s.cfg.JobTTL), Storage: s.storage(), Replicas: s.cfg.Replicas,
	})
	if err != nil {
		return nil, err
	}
	return &JobStore{s: s, kv: kv, stream: stream, put: "$KV." + jobsBucket + "."}, nil
}

func jobKey(id string) string          { return "j." + id }
func ownerKey(owner, id string) string { return "o." + owner + "." + id }

// Create stores a new job; fractal.ErrConflict when the ID is taken.
func (st *JobStore) Create(ctx context.Context, job *fractal.Job) error {
	if err := job.Validate(); err != nil {
		return fmt.Errorf("create job: %w", err)
	}
	data, err := json.Marshal(job)
	if err != nil {
		return fmt.Errorf("create job %s: %w", job.ID, err)
	}
	// The index entry and the job are sent together and both awaited. They
	// go to one stream over one connection, so the server stores the index
	// entry first: a failed create leaves an index entry without a job
	// (List skips it), not a job that List cannot find.
	tries := 0
	err = st.s.do(ctx, "create job", func(ctx context.Context) error {
		tries++
		idx, err := st.s.js.PublishMsgAsync(&nats.Msg{Subject: st.put + ownerKey(job.Owner, job.ID)})
		if err != nil {
			return err
		}
		jf, err := st.s.js.PublishMsgAsync(&nats.Msg{Subject: st.put + jobKey(job.ID), Data: data}, jetstream.WithExpectLastSequencePerSubject(0))
		if err != nil {
			return err
		}
		err = awaitAcks(ctx, idx, jf)
		if tries > 1 && isConflict(err) {
			// A retry after a lost reply may meet its own earlier write.
			if e, gerr := st.kv.Get(ctx, jobKey(job.ID)); gerr == nil && bytes.Equal(e.Value(), data) {
				return nil
			}
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("create job %s: %w", job.ID, err)
	}
	return nil
}

// Get returns a job; fractal.ErrNotFound when there is none.
func (st *JobStore) Get(ctx context.Context, id string) (*fractal.Job, error) {
	if err := fractal.ValidateToken("id", id); err != nil {
		return nil, fmt.Errorf("get job: %w", err)
	}
	job, _, err := st.get(ctx, id)
	return job, err
}

func (st *JobStore) get(ctx context.Context, id string) (*fractal.Job, jetstream.KeyValueEntry, error) {
	var e jetstream.KeyValueEntry
	err := st.s.do(ctx, "get job", func(ctx context.Context) error {
		var err error
		e, err = st.kv.Get(ctx, jobKey(id))
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("job %s: %w", id, err)
	}
	var job fractal.Job
	if err := json.Unmarshal(e.Value(), &job); err != nil {
		return nil, nil, fmt.Errorf("job %s: decode revision %d: %w", id, e.Revision(), err)
	}
	return &job, e, nil
}

// Update applies fn to the job with compare-and-swap, retrying on conflict.
// It stamps Updated with Store.Now when fn changed anything.
func (st *JobStore) Update(ctx context.Context, id string, fn func(*fractal.Job) error) (*fractal.Job, error) {
	if err := fractal.ValidateToken("id", id); err != nil {
		return nil, fmt.Errorf("update job: %w", err)
	}
	for try := 0; try < maxUpdateTries; try++ {
		prev, e, err := st.get(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("update: %w", err)
		}
		next, data, err := st.apply(prev, e.Value(), fn)
		if err != nil || data == nil {
			return next, err
		}
		if _, err = st.s.cas(ctx, st.kv, "update job", jobKey(id), data, e.Revision()); err == nil {
			return next, nil
		}
		if !errors.Is(err, fractal.ErrConflict) {
			return nil, fmt.Errorf("update job %s: %w", id, err)
		}
		// Someone else wrote first: back off a little and re-apply fn.
		if err := sleep(ctx, time.Duration(rand.Int64N(int64(time.Millisecond)<<min(try, 5)))); err != nil {
			return nil, fmt.Errorf("update job %s: %w", id, err)
		}
	}
	return nil, fmt.Errorf("update job %s: still conflicting after %d tries: %w", id, maxUpdateTries, fractal.ErrConflict)
}

// apply runs fn on a copy of prev and returns the new job and its encoding,
// or a nil encoding when nothing changed.
func (st *JobStore) apply(prev *fractal.Job, raw []byte, fn func(*fractal.Job) error) (*fractal.Job, []byte, error) {
	var next fractal.Job
	if err := json.Unmarshal(raw, &next); err != nil {
		return nil, nil, fmt.Errorf("job %s: decode: %w", prev.ID, err)
	}
	if err := fn(&next); err != nil {
		return nil, nil, err
	}
	data, err := json.Marshal(&next)
	if err != nil {
		return nil, nil, fmt.Errorf("job %s: encode: %w", prev.ID, err)
	}
	if bytes.Equal(data, raw) {
		return &next, nil, nil
	}
	if now := st.s.Now(); !next.Updated.After(prev.Updated) && now.After(prev.Updated) {
		next.Updated = now
	}
	if err := next.ValidateChange(prev); err != nil {
		return nil, nil, fmt.Errorf("update: %w", err)
	}
	if data, err = json.Marshal(&next); err != nil {
		return nil, nil, fmt.Errorf("job %s: encode: %w", prev.ID, err)
	}
	return &next, data, nil
}

// List returns owner's jobs, newest ID first, limit per page after cursor.
func (st *JobStore) List(ctx context.Context, owner, cursor string, limit int) ([]*fractal.Job, string, error) {
	if err := fractal.ValidateToken("owner", owner); err != nil {
		return nil, "", fmt.Errorf("list jobs: %w", err)
	}
	if limit < 1 || limit > MaxListLimit {
		return nil, "", fmt.Errorf("list jobs: %w", fractal.Errorf("limit", "must be between 1 and %d, got %d", MaxListLimit, limit))
	}
	if cursor != "" {
		if err := fractal.ValidateToken("cursor", cursor); err != nil {
			return nil, "", fmt.Errorf("list jobs: %w", err)
		}
	}
	ids, err := st.ownerIDs(ctx, owner)
	if err != nil {
		return nil, "", fmt.Errorf("list jobs of %s: %w", owner, err)
	}
	if cursor != "" {
		// ids are descending: skip up to and including the cursor.
		n, _ := slices.BinarySearchFunc(ids, cursor, func(id, c string) int { return strings.Compare(c, id) })
		for n < len(ids) && ids[n] >= cursor {
			n++
		}
		ids = ids[n:]
	}
	var jobs []*fractal.Job
	for i, id := range ids {
		job, _, err := st.get(ctx, id)
		switch {
		case errors.Is(err, fractal.ErrNotFound):
			continue // index entry of an expired job or a failed create
		case err != nil:
			return nil, "", fmt.Errorf("list jobs of %s: %w", owner, err)
		case job.Owner != owner:
			continue // another owner's ID clash
		}
		jobs = append(jobs, job)
		if len(jobs) == limit {
			if i+1 < len(ids) {
				return jobs, id, nil
			}
			break
		}
	}
	return jobs, "", nil
}

// ownerIDs returns the IDs indexed under owner, in descending order, as the
// stream leader holds them: a job created a moment ago is among them on a
// replicated stream too. Index entries are never deleted, only expired.
func (st *JobStore) ownerIDs(ctx context.Context, owner string) ([]string, error) {
	prefix := ownerKey(owner, "")
	ids, err := st.s.leaderKeys(ctx, st.kv, st.stream, "list job keys", prefix)
	if err != nil {
		return nil, err
	}
	for i, k := range ids {
		ids[i] = strings.TrimPrefix(k, prefix)
	}
	slices.SortFunc(ids, func(a, b string) int { return strings.Compare(b, a) })
	return ids, nil
}

// Scan calls fn with every stored job, in no particular order, until fn
// returns an error (Scan returns it) or every job was seen. ctx bounds the
// whole scan. A sweep uses it to re-enqueue queued jobs that lost their
// queue entry, or to fail jobs stuck in progress.
func (st *JobStore) Scan(ctx context.Context, fn func(*fractal.Job) error) error {
	var w jetstream.KeyWatcher
	err := st.s.do(ctx, "scan jobs", func(context.Context) error {
		var err error
		w, err = st.kv.Watch(ctx, jobKey(">"), jetstream.IgnoreDeletes())
		return err
	})
	if err != nil {
		return err
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("scan jobs: %w", ctx.Err())
		case e, ok := <-w.Updates():
			if !ok {
				return fmt.Errorf("scan jobs: watcher closed: %w", fractal.ErrUnavailable)
			}
			if e == nil {
				return nil // every current job was delivered
			}
			var job fractal.Job
			if err := json.Unmarshal(e.Value(), &job); err != nil {
				return fmt.Errorf("scan jobs: decode %s: %w", e.Key(), err)
			}
			if err := fn(&job); err != nil {
				return err
			}
		}
	}
}
