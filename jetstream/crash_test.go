package jetstream_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/jetstream"
	"github.com/fractal-grid/fractal/storetest"
)

// crashDirEnv makes the test binary run acceptUntilKilled instead of the
// tests: TestKilledProcessLosesNoAcceptedJob starts it as a child process.
const crashDirEnv = "FRACTAL_JETSTREAM_CRASH_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashDirEnv); dir != "" {
		if err := acceptUntilKilled(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// acceptUntilKilled accepts jobs as the gateway does (create, enqueue) on
// an embedded store under dir, printing each ID once both calls returned.
// It stops by itself after 30 s or 100,000 jobs.
func acceptUntilKilled(dir string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := jetstream.Open(ctx, jetstream.DefaultConfig(dir))
	if err != nil {
		return err
	}
	defer s.Close()
	out := bufio.NewWriter(os.Stdout)
	for i := range 100_000 {
		id := fmt.Sprintf("job-%06d", i)
		job := fractal.NewJob(id, "key-a", fractal.DefaultSpec("a red ball", uint64(i)), time.Now())
		if err := s.Jobs().Create(ctx, job); err != nil {
			return err
		}
		if err := s.Queue().Enqueue(ctx, id); err != nil {
			return err
		}
		fmt.Fprintln(out, "accepted", id)
		if err := out.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// TestKilledProcessLosesNoAcceptedJob kills (SIGKILL) a process that is
// accepting jobs on an embedded store, reopens its directory and finds every
// job it reported accepted, both stored and queued.
func TestKilledProcessLosesNoAcceptedJob(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	stdout, err := cmd.StdoutPipe()
	mustDo(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	mustDo(t, cmd.Start())
	accepted := map[string]bool{}
	sc := bufio.NewScanner(stdout)
	killed := false
	for sc.Scan() {
		id, ok := strings.CutPrefix(sc.Text(), "accepted ")
		if !ok {
			continue
		}
		accepted[id] = true
		if len(accepted) == 300 && !killed {
			mustDo(t, cmd.Process.Kill()) // lines already in the pipe are still read
			killed = true
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("the accepting process ended before it was killed: %v\n%s", err, stderr.String())
	}
	t.Logf("%d jobs reported accepted before SIGKILL", len(accepted))

	s := mustOpen(t, testConfig(t, dir))
	ctx := storetest.Context(t, 60*time.Second)
	for id := range accepted {
		if _, err := s.Jobs().Get(ctx, id); err != nil {
			t.Fatalf("accepted job %s lost: %v", id, err)
		}
	}
	queued := map[string]bool{}
	for {
		dctx, cancel := context.WithTimeout(ctx, time.Second)
		d, err := s.Queue().Dequeue(dctx)
		cancel()
		if err != nil {
			break // the queue is drained
		}
		queued[d.JobID()] = true
		mustDo(t, d.Ack(ctx))
	}
	for id := range accepted {
		if !queued[id] {
			t.Fatalf("accepted job %s missing from the queue (%d queued)", id, len(queued))
		}
	}
}
