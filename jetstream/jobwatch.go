package jetstream

import (
	"context"
	"encoding/json"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/fractal-grid/fractal"
)

var _ fractal.JobWatcher = (*JobStore)(nil)

// WatchJobs sends every job written from now on, by this process or any
// other sharing the bucket, until ctx ends or the watch breaks; then it
// closes the channel. Deleted records and undecodable ones are skipped.
func (st *JobStore) WatchJobs(ctx context.Context) (<-chan *fractal.Job, error) {
	var w jetstream.KeyWatcher
	err := st.s.do(ctx, "watch jobs", func(context.Context) error {
		var err error
		// The watcher lives as long as ctx, not the call timeout.
		w, err = st.kv.Watch(ctx, jobKey(">"), jetstream.UpdatesOnly(), jetstream.IgnoreDeletes())
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make(chan *fractal.Job, 64)
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
				if e == nil || e.Operation() != jetstream.KeyValuePut {
					continue
				}
				var j fractal.Job
				if json.Unmarshal(e.Value(), &j) != nil {
					continue
				}
				select {
				case out <- &j:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}
