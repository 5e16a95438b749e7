package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
)

var created = time.Date(2026, 11, 26, 10, 0, 0, 123456789, time.UTC)

// JobStore runs the fractal.JobStore contract. newStore returns an empty
// store for each subtest.
func JobStore(t *testing.T, newStore func(t *testing.T) fractal.JobStore) {
	t.Run("CreateGet", func(t *testing.T) {
		st, ctx := newStore(t), Context(t, 30*time.Second)
		job := testJob("key-a", 1, created)
		job.IdempotencyKey = "idem-1"
		must(t, st.Create(ctx, job))
		got, err := st.Get(ctx, job.ID)
		must(t, err)
		if g, w := jsonOf(t, got), jsonOf(t, job); g != w {
			t.Fatalf("got %s, want %s", g, w)
		}
	})
	t.Run("CreateConflict", func(t *testing.T) {
		st, ctx := newStore(t), Context(t, 30*time.Second)
		job := testJob("key-a", 1, created)
		must(t, st.Create(ctx, job))
		other := testJob("key-b", 1, created.Add(time.Hour))
		wantErr(t, st.Create(ctx, other), fractal.ErrConflict)
		got, err := st.Get(ctx, job.ID)
		must(t, err)
		if got.Owner != job.Owner {
			t.Fatalf("got owner %q after a conflicting create, want %q", got.Owner, job.Owner)
		}
		jobs, _, err := st.List(ctx, "key-b", "", 10)
		must(t, err)
		if len(jobs) != 0 {
			t.Fatalf("got %d jobs listed for the loser of the conflict, want 0", len(jobs))
		}
	})
	t.Run("CreateInvalid", func(t *testing.T) {
		st, ctx := newStore(t), Context(t, 30*time.Second)
		for name, mutate := range map[string]func(*fractal.Job){
			"bad id":       func(j *fractal.Job) { j.ID = "a.b" },
			"empty owner":  func(j *fractal.Job) { j.Owner = "" },
			"bad spec":     func(j *fractal.Job) { j.Spec.Frames = 0 },
			"bad status":   func(j *fractal.Job) { j.Status = "running" },
			"bad progress": func(j *fractal.Job) { j.Progress = 101 },
		} {
			job := testJob("key-a", 7, created)
			mutate(job)
			if err := st.Create(ctx, job); !errors.Is(err, fractal.ErrInvalid) {
				t.Errorf("%s: got error %v, want %v", name, err, fractal.ErrInvalid)
			}
		}
		_, err := st.Get(ctx, testJob("key-a", 7, created).ID)
		wantErr(t, err, fractal.ErrNotFound)
	})
	t.Run("GetNotFound", func(t *testing.T) {
		st, ctx := newStore(t), Context(t, 30*time.Second)
		_, err := st.Get(ctx, "missing")
		wantErr(t, err, fractal.ErrNotFound)
		_, err = st.Get(ctx, "not a token")
		wantErr(t, err, fractal.ErrInvalid)
	})
	t.Run("Update", func(t *testing.T) { testJobUpdate(t, newStore(t)) })
	t.Run("UpdateRejected", func(t *testing.T) { testJobUpdateRejected(t, newStore(t)) })
	t.Run("UpdateConcurrent", func(t *testing.T) { testJobUpdateConcurrent(t, newStore(t)) })
	t.Run("List", func(t *testing.T) { testJobList(t, newStore(t)) })
}

func testJobUpdate(t *testing.T, st fractal.JobStore) {
	ctx := Context(t, 30*time.Second)
	job := testJob("key-a", 1, created)
	must(t, st.Create(ctx, job))
	started := created.Add(time.Second)
	miner := &fractal.MinerRef{UID: 3, Hotkey: "5F3sa2TJAWMqDhXG6jhV4N8ko9SxwGy8TpaNS1repo5EYjQX"}
	got, err := st.Update(ctx, job.ID, func(j *fractal.Job) error {
		_, err := j.StartAttempt("req-1", *miner, started)
		return err
	})
	must(t, err)
	if got.Status != fractal.JobInProgress || len(got.Attempts) != 1 || got.Attempts[0].RequestID != "req-1" || !got.Started.Equal(started) || *got.Miner != *miner {
		t.Fatalf("got %s, want in_progress, 1 attempt, started %v, miner %v", jsonOf(t, got), started, miner)
	}
	stored, err := st.Get(ctx, job.ID)
	must(t, err)
	if g, w := jsonOf(t, stored), jsonOf(t, got); g != w {
		t.Fatalf("got stored %s, want %s", g, w)
	}
	commit := fractal.Commitment{FramesDigest: fractal.Digest{1}, FramesRoot: fractal.Digest{2}, TrajectoryRoot: fractal.Digest{3}}
	got, err = st.Update(ctx, job.ID, func(j *fractal.Job) error {
		j.Commitment = &commit
		j.Timings.Total = 2 * time.Second
		return j.Transition(fractal.JobCompleted, started.Add(time.Second))
	})
	must(t, err)
	if got.Status != fractal.JobCompleted || got.Progress != 100 || got.Finished.IsZero() || *got.Commitment != commit {
		t.Fatalf("got %s, want completed with progress 100, finished and the commitment", jsonOf(t, got))
	}
	_, err = st.Update(ctx, "missing", func(j *fractal.Job) error { return nil })
	wantErr(t, err, fractal.ErrNotFound)
}

func testJobUpdateRejected(t *testing.T, st fractal.JobStore) {
	ctx := Context(t, 30*time.Second)
	job := testJob("key-a", 1, created)
	must(t, st.Create(ctx, job))
	errStop := errors.New("stop")
	tests := []struct {
		name string
		fn   func(*fractal.Job) error
		want error
	}{
		{"fn error", func(j *fractal.Job) error { j.Progress = 50; return errStop }, errStop},
		{"owner changed", func(j *fractal.Job) error { j.Owner = "key-b"; return nil }, fractal.ErrConflict},
		{"spec changed", func(j *fractal.Job) error { j.Spec.Seed++; return nil }, fractal.ErrConflict},
		{"queued to completed", func(j *fractal.Job) error { j.Status = fractal.JobCompleted; j.Progress = 100; return nil }, fractal.ErrConflict},
		{"cancel", func(j *fractal.Job) error { return j.Transition(fractal.JobCancelled, created.Add(time.Minute)) }, nil},
		{"terminal reopened", func(j *fractal.Job) error { j.Status = fractal.JobQueued; return nil }, fractal.ErrConflict},
		{"invalid progress", func(j *fractal.Job) error { j.Progress = -1; return nil }, fractal.ErrInvalid},
	}
	for _, tt := range tests {
		before, err := st.Get(ctx, job.ID)
		must(t, err)
		_, err = st.Update(ctx, job.ID, tt.fn)
		if !errors.Is(err, tt.want) {
			t.Fatalf("%s: got error %v, want %v", tt.name, err, tt.want)
		}
		after, err := st.Get(ctx, job.ID)
		must(t, err)
		if tt.want != nil && jsonOf(t, after) != jsonOf(t, before) {
			t.Fatalf("%s: got %s stored after a rejected update, want %s", tt.name, jsonOf(t, after), jsonOf(t, before))
		}
	}
}

// testJobUpdateConcurrent increments one job from several goroutines: every
// compare-and-swap conflict must be retried, so no increment is lost.
func testJobUpdateConcurrent(t *testing.T, st fractal.JobStore) {
	ctx := Context(t, 60*time.Second)
	job := testJob("key-a", 1, created)
	must(t, st.Create(ctx, job))
	const workers, each = 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for range workers {
		wg.Go(func() {
			for range each {
				_, err := st.Update(ctx, job.ID, func(j *fractal.Job) error {
					j.Attempts = append(j.Attempts, fractal.Attempt{N: len(j.Attempts) + 1})
					return nil
				})
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	got, err := st.Get(ctx, job.ID)
	must(t, err)
	if len(got.Attempts) != workers*each {
		t.Fatalf("got %d attempts, want %d", len(got.Attempts), workers*each)
	}
}

func testJobList(t *testing.T, st fractal.JobStore) {
	ctx := Context(t, 60*time.Second)
	const mine, theirs, page = 25, 5, 10
	for i := range mine {
		must(t, st.Create(ctx, testJob("key-a", i, created.Add(time.Duration(i)*time.Second))))
	}
	for i := range theirs {
		must(t, st.Create(ctx, testJob("key-b", 100+i, created)))
	}
	var ids []string
	cursor, pages := "", 0
	for {
		jobs, next, err := st.List(ctx, "key-a", cursor, page)
		must(t, err)
		pages++
		for _, j := range jobs {
			if j.Owner != "key-a" {
				t.Fatalf("got a job of %q in key-a's list", j.Owner)
			}
			ids = append(ids, j.ID)
		}
		if next == "" {
			break
		}
		if pages > mine {
			t.Fatal("List never returned an empty next cursor")
		}
		cursor = next
	}
	if pages != 3 || len(ids) != mine {
		t.Fatalf("got %d jobs in %d pages, want %d in 3", len(ids), pages, mine)
	}
	for i, id := range ids {
		if want := fmt.Sprintf("job-%06d", mine-1-i); id != want {
			t.Fatalf("got job %d = %s, want %s (newest first)", i, id, want)
		}
	}
	jobs, next, err := st.List(ctx, "key-nobody", "", page)
	must(t, err)
	if len(jobs) != 0 || next != "" {
		t.Fatalf("got %d jobs and cursor %q for an owner without jobs, want none", len(jobs), next)
	}
	for _, limit := range []int{0, -1, 1_000_000} {
		_, _, err := st.List(ctx, "key-a", "", limit)
		wantErr(t, err, fractal.ErrInvalid)
	}
}
