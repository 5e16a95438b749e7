package jetstream_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/jetstream"
)

// BenchmarkAccept measures what the gateway does before its 202: persist a
// small job and enqueue it, on the embedded server with file storage. Both
// calls return only once the server has stored the data.
//
//	go test ./jetstream -run '^$' -bench Accept -benchtime 3s
func BenchmarkAccept(b *testing.B) {
	for _, bc := range []struct {
		name       string
		parallel   int // concurrent requests per GOMAXPROCS
		syncAlways bool
	}{
		{"sequential", 0, false},
		{"parallel2", 1, false},
		{"parallel16", 8, false},
		{"parallel16_fsync", 8, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := jetstream.DefaultConfig(b.TempDir())
			cfg.SyncAlways = bc.syncAlways
			s, err := jetstream.Open(context.Background(), cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			now := time.Now()
			var n atomic.Int64
			accept := func() error {
				id := fmt.Sprintf("job-%09d", n.Add(1))
				job := fractal.NewJob(id, "key-bench", fractal.DefaultSpec("a red ball bouncing over the ocean at night", 42), now)
				if err := s.Jobs().Create(ctx, job); err != nil {
					return err
				}
				return s.Queue().Enqueue(ctx, id)
			}
			b.ResetTimer()
			start := time.Now()
			if bc.parallel == 0 {
				for b.Loop() {
					if err := accept(); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				b.SetParallelism(bc.parallel)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := accept(); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "jobs/s")
		})
	}
}

// BenchmarkProgressUpdate measures one compare-and-swap progress update of
// a job, as a dispatcher relays a miner's progress.
func BenchmarkProgressUpdate(b *testing.B) {
	s, err := jetstream.Open(context.Background(), jetstream.DefaultConfig(b.TempDir()))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	job := fractal.NewJob("job-1", "key-bench", fractal.DefaultSpec("a red ball", 1), time.Now())
	if err := s.Jobs().Create(ctx, job); err != nil {
		b.Fatal(err)
	}
	if _, err := s.Jobs().Update(ctx, job.ID, func(j *fractal.Job) error { return j.Transition(fractal.JobInProgress, time.Now()) }); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		i++
		if _, err := s.Jobs().Update(ctx, job.ID, func(j *fractal.Job) error { j.Progress = i % 100; return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkList measures a page of an owner's jobs (GET /v1/videos) and a
// listing of KV keys, on the embedded server, with other owners' jobs and
// other keys in the same buckets.
//
//	go test ./jetstream -run '^$' -bench List
func BenchmarkList(b *testing.B) {
	cfg := jetstream.DefaultConfig(b.TempDir())
	s, err := jetstream.Open(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	kv, err := s.KV(ctx, "bench", 0)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	const owners, perOwner, keys = 20, 200, 200
	for o := range owners {
		for i := range perOwner {
			id := fmt.Sprintf("job-%03d-%06d", o, i)
			job := fractal.NewJob(id, fmt.Sprintf("key-%03d", o), fractal.DefaultSpec("a red ball", uint64(i)), now)
			if err := s.Jobs().Create(ctx, job); err != nil {
				b.Fatal(err)
			}
		}
	}
	for i := range keys {
		for _, prefix := range []string{"grid.", "other."} {
			if _, err := kv.Put(ctx, fmt.Sprintf("%s%06d", prefix, i), []byte("value")); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run(fmt.Sprintf("jobs/owner_of_%d/page_20", perOwner), func(b *testing.B) {
		for b.Loop() {
			jobs, _, err := s.Jobs().List(ctx, "key-007", "", 20)
			if err != nil || len(jobs) != 20 {
				b.Fatalf("got %d jobs, err %v", len(jobs), err)
			}
		}
	})
	b.Run(fmt.Sprintf("kv_keys/%d_of_%d", keys, 2*keys), func(b *testing.B) {
		for b.Loop() {
			got, err := kv.Keys(ctx, "grid.")
			if err != nil || len(got) != keys {
				b.Fatalf("got %d keys, err %v", len(got), err)
			}
		}
	})
}

// BenchmarkBlobGet measures reading a 16 MiB result back from the embedded
// server, as a download of a finished video does.
//
//	go test ./jetstream -run '^$' -bench BlobGet
func BenchmarkBlobGet(b *testing.B) {
	s, err := jetstream.Open(context.Background(), jetstream.DefaultConfig(b.TempDir()))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	data := make([]byte, 16<<20)
	rand.NewChaCha8([32]byte{1}).Read(data)
	if err := s.Blobs().Put(ctx, "video", bytes.NewReader(data)); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		rc, err := s.Blobs().Get(ctx, "video")
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil || n != int64(len(data)) {
			b.Fatalf("read %d bytes, error %v", n, err)
		}
	}
}
