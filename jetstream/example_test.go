package jetstream_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/jetstream"
)

// A gateway accepts a job: it persists the job, then enqueues it, and only
// then answers 202. A dispatcher dequeues it, works on it and acknowledges.
func Example() {
	dir, err := os.MkdirTemp("", "fractal-store")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	store, err := jetstream.Open(ctx, jetstream.Config{DataDir: dir})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	job := fractal.NewJob("job-1", "key-1", fractal.DefaultSpec("a red ball bouncing over the ocean at night", 7), time.Now())
	if err := store.Jobs().Create(ctx, job); err != nil {
		log.Fatal(err)
	}
	if err := store.Queue().Enqueue(ctx, job.ID); err != nil {
		log.Fatal(err)
	}

	d, err := store.Queue().Dequeue(ctx)
	if err != nil {
		log.Fatal(err)
	}
	job, err = store.Jobs().Update(ctx, d.JobID(), func(j *fractal.Job) error {
		_, err := j.StartAttempt("req-1", fractal.MinerRef{UID: 1, Hotkey: "5F3sa2TJAWMqDhXG6jhV4N8ko9SxwGy8TpaNS1repo5EYjQX"}, time.Now())
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := d.Ack(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println(job.ID, job.Status, "attempt", d.Attempt())
	// Output: job-1 in_progress attempt 1
}
