package chaos_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/framesfile"
	"github.com/fractal-grid/fractal/gateway"
)

// TestMinerKilledMidGeneration kills (SIGKILL) the miner generating a job:
// the gateway retries it on the other miner, and the user sees exactly one
// result, the right one.
func TestMinerKilledMidGeneration(t *testing.T) {
	g := newGrid(t, gridOpts{miners: 2, gateways: 1, stepDelay: 300 * time.Millisecond, ackWait: 3 * time.Second})
	gw := g.gateways[0].info
	v := mustSubmit(t, gw, g.key, 7)
	var seen []gateway.Video
	var seenErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); seen, seenErr = events(gw, g.key, v.ID) }()

	running := waitGenerating(t, gw, g.key, v.ID)
	victim := running.Miner.Hotkey
	g.miners[victim].kill(t)
	killed := time.Now()
	t.Logf("killed miner %s at %d%% of job %s", victim, running.Progress, v.ID)

	done := waitEnd(t, gw, g.key, v.ID, 60*time.Second)
	t.Logf("job completed %v after the kill on miner %s", time.Since(killed).Round(time.Millisecond), done.Miner.Hotkey)
	if done.Status != "completed" || done.Miner.Hotkey == victim || done.Attempts != 2 {
		t.Fatalf("got %s on %s after %d attempts (%s), want completed on the other miner after 2", done.Status, done.Miner.Hotkey, done.Attempts, done.Error)
	}
	if want := localDigest(t, spec(7)); done.Digest != want {
		t.Errorf("digest %s, want %s", done.Digest, want)
	}
	// One result: the event stream ends in one terminal event, completed,
	// and the content is the frames of that digest.
	wg.Wait()
	if seenErr != nil {
		t.Fatal(seenErr)
	}
	terminal := 0
	for _, e := range seen {
		if e.Status == "completed" || e.Status == "failed" || e.Status == "cancelled" {
			terminal++
		}
	}
	if terminal != 1 || seen[len(seen)-1].Status != "completed" || seen[len(seen)-1].Digest != done.Digest {
		t.Errorf("events %v: want exactly one terminal event, completed with digest %s", statuses(seen), done.Digest)
	}
	frames := content(t, gw, g.key, v.ID)
	if got := frames.Digest().String(); got != done.Digest {
		t.Errorf("content digest %s, want %s", got, done.Digest)
	}
}

// TestGatewayKilledWithJobsInFlight kills (SIGKILL) the only replica that
// dispatched a batch of jobs, with several of them generating: another
// replica takes them over once their acknowledgement deadline passes, and
// every job completes.
func TestGatewayKilledWithJobsInFlight(t *testing.T) {
	const jobs = 6
	ackWait := 2 * time.Second
	g := newGrid(t, gridOpts{miners: 2, gateways: 1, stepDelay: 500 * time.Millisecond, ackWait: ackWait})
	a := g.gateways[0]
	var ids []string
	for i := range jobs {
		ids = append(ids, mustSubmit(t, a.info, g.key, uint64(200+i)).ID)
	}
	waitFor(t, "jobs generating on the first replica", 20*time.Second, func() bool {
		return count(t, a.info, g.key, ids, "in_progress") >= 2
	})
	b := g.addGateway(t, "gw-b")
	inFlight := map[string]bool{}
	for _, id := range ids {
		if v := getVideo(t, a.info, g.key, id); !isTerminal(v.Status) {
			inFlight[id] = true
		}
	}
	a.kill(t)
	killed := time.Now()
	if len(inFlight) < 2 {
		t.Fatalf("only %d jobs unfinished when the replica died; want at least 2 to test the takeover", len(inFlight))
	}
	for i, id := range ids {
		done := waitEnd(t, b.info, g.key, id, 60*time.Second)
		if done.Status != "completed" {
			t.Fatalf("job %s: %s (%s), want completed", id, done.Status, done.Error)
		}
		if want := localDigest(t, spec(uint64(200+i))); done.Digest != want {
			t.Errorf("job %s: digest %s, want %s", id, done.Digest, want)
		}
	}
	t.Logf("%d jobs unfinished when the replica was killed; all %d completed %v later on the other replica",
		len(inFlight), jobs, time.Since(killed).Round(time.Millisecond))
}

// TestNATSNodeKilled kills (SIGKILL) the cluster node leading the jobs
// bucket while two replicas accept jobs: every accepted job completes, and
// jobs are accepted again once a new leader is elected.
func TestNATSNodeKilled(t *testing.T) {
	g := newGrid(t, gridOpts{miners: 2, gateways: 2, stepDelay: 20 * time.Millisecond, ackWait: 3 * time.Second})
	victim := g.jobsLeader(t)
	var (
		mu                   sync.Mutex
		accepted             []string
		refused, afterKill   int
		slowest              time.Duration
		killedAt, firstAfter time.Time
		seed                 uint64 = 1000
		wg                   sync.WaitGroup
	)
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Second)
	defer cancel()
	for i, gw := range g.gateways {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(200 * time.Millisecond)
			defer tick.Stop()
			for ctx.Err() == nil {
				mu.Lock()
				seed++
				s := seed
				mu.Unlock()
				start := time.Now()
				status, v, err := submit(gw.info, g.key, s)
				took := time.Since(start)
				mu.Lock()
				slowest = max(slowest, took)
				if status == http.StatusAccepted {
					accepted = append(accepted, v.ID)
					if !killedAt.IsZero() && start.After(killedAt) {
						afterKill++
						if firstAfter.IsZero() {
							firstAfter = start
						}
					}
				} else {
					refused++
					t.Logf("replica %d: status %d, %v", i, status, err)
				}
				mu.Unlock()
				select {
				case <-ctx.Done():
				case <-tick.C:
				}
			}
		}()
	}
	time.Sleep(2 * time.Second)
	mu.Lock()
	killedAt = time.Now()
	mu.Unlock()
	victim.kill(t)
	wg.Wait()
	if afterKill == 0 {
		t.Fatalf("killed %s: no job accepted after it (%d refused)", victim.name, refused)
	}
	t.Logf("killed %s; %d jobs accepted (%d sent after the kill, the first %v after it), %d refused with 503, slowest POST %v",
		victim.name, len(accepted), afterKill, firstAfter.Sub(killedAt).Round(time.Millisecond), refused, slowest.Round(time.Millisecond))
	for _, id := range accepted {
		if done := waitEnd(t, g.gateways[0].info, g.key, id, 60*time.Second); done.Status != "completed" {
			t.Fatalf("accepted job %s: %s (%s), want completed", id, done.Status, done.Error)
		}
	}

	// The killed server comes back on its store and catches up; then the
	// next leader dies too, and nothing accepted is lost either.
	back := startChild(t, victim.name, victim.role, victim.args)
	for i, c := range g.nats {
		if c == victim {
			g.nats[i] = back
		}
	}
	waitFor(t, victim.name+" to catch up", 30*time.Second, func() bool { return g.current(t, strings.TrimPrefix(victim.name, "nats-")) })
	second := g.jobsLeader(t)
	second.kill(t)
	var more []string
	for i := range 3 {
		more = append(more, submitRetrying(t, g.gateways[i%2].info, g.key, uint64(5000+i), 30*time.Second).ID)
	}
	for _, id := range append(accepted, more...) {
		if done := waitEnd(t, g.gateways[1].info, g.key, id, 60*time.Second); done.Status != "completed" {
			t.Fatalf("job %s after %s came back and %s died: %s (%s), want completed", id, victim.name, second.name, done.Status, done.Error)
		}
	}
	t.Logf("%s restarted and caught up; %s killed next; all %d jobs completed", victim.name, second.name, len(accepted)+len(more))
}

// current reports whether server is a current replica of the jobs bucket
// and the queue.
func (g *grid) current(t *testing.T, server string) bool {
	t.Helper()
	nc, err := nats.Connect(g.natsURL)
	if err != nil {
		return false
	}
	defer nc.Close()
	js, err := njs.New(nc)
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	for _, name := range []string{"KV_fractal_jobs", "FRACTAL_QUEUE"} {
		st, err := js.Stream(ctx, name)
		if err != nil {
			return false
		}
		info, err := st.Info(ctx)
		if err != nil || info.Cluster == nil {
			return false
		}
		ok := info.Cluster.Leader == server
		for _, p := range info.Cluster.Replicas {
			if p.Name == server && p.Current && p.Lag == 0 {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// submitRetrying submits like a client riding out a leader election:
// 503 answers are retried for up to d.
func submitRetrying(t *testing.T, gw, key string, seed uint64, d time.Duration) gateway.Video {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		status, v, err := submit(gw, key, seed)
		if err == nil && status == http.StatusAccepted {
			return v
		}
		if status != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("submit to %s: status %d, %v; want 202", gw, status, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// waitGenerating waits until a miner has reported progress on a job and
// returns the job then.
func waitGenerating(t *testing.T, gw, key, id string) gateway.Video {
	t.Helper()
	var running gateway.Video
	waitFor(t, "the job to be generating", 20*time.Second, func() bool {
		running = getVideo(t, gw, key, id)
		return running.Status == "in_progress" && running.Progress > 0 && running.Miner != nil
	})
	return running
}

// jobsLeader returns the cluster node leading the jobs bucket's stream.
func (g *grid) jobsLeader(t *testing.T) *child {
	t.Helper()
	nc, err := nats.Connect(g.natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := njs.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, "KV_fractal_jobs")
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil || info.Cluster == nil {
		t.Fatalf("stream info: %v", err)
	}
	for _, c := range g.nats {
		if c.name == "nats-"+info.Cluster.Leader {
			return c
		}
	}
	t.Fatalf("leader %q is none of the cluster's nodes", info.Cluster.Leader)
	return nil
}

func count(t *testing.T, gw, key string, ids []string, status string) int {
	n := 0
	for _, id := range ids {
		if getVideo(t, gw, key, id).Status == status {
			n++
		}
	}
	return n
}

func isTerminal(s string) bool { return s == "completed" || s == "failed" || s == "cancelled" }

func statuses(vs []gateway.Video) []string {
	var out []string
	for _, v := range vs {
		out = append(out, fmt.Sprintf("%s:%d", v.Status, v.Progress))
	}
	return out
}

// content downloads a job's canonical frames.
func content(t *testing.T, gw, key, id string) *fractal.Frames {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, gw+"/v1/videos/"+id+"/content?variant=frames", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("content: status %d: %s", resp.StatusCode, b)
	}
	f, err := framesfile.Unmarshal(bytes.NewReader(b), 1<<24)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
