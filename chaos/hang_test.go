package chaos_test

import (
	"syscall"
	"testing"
	"time"
)

// TestMinerHung freezes (SIGSTOP) the miner generating a job: its stream
// goes silent without closing, the attempt deadline passes, and the job
// completes on the other miner. A job sent afterwards completes too.
func TestMinerHung(t *testing.T) {
	const attemptTimeout = 4 * time.Second
	g := newGrid(t, gridOpts{miners: 2, gateways: 1, stepDelay: 300 * time.Millisecond, ackWait: 3 * time.Second, attemptTimeout: attemptTimeout})
	gw := g.gateways[0].info
	v := mustSubmit(t, gw, g.key, 8)
	running := waitGenerating(t, gw, g.key, v.ID)
	victim := g.miners[running.Miner.Hotkey]
	if err := victim.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { victim.cmd.Process.Signal(syscall.SIGCONT) }) // runs before the child is stopped
	frozen := time.Now()

	done := waitEnd(t, gw, g.key, v.ID, 60*time.Second)
	took := time.Since(frozen)
	t.Logf("miner frozen at %d%%; job completed %v later on the other miner", running.Progress, took.Round(time.Millisecond))
	if done.Status != "completed" || done.Miner.Hotkey == running.Miner.Hotkey || done.Attempts != 2 {
		t.Fatalf("got %s on %s after %d attempts (%s), want completed on the other miner after 2", done.Status, done.Miner.Hotkey, done.Attempts, done.Error)
	}
	if want := localDigest(t, spec(8)); done.Digest != want {
		t.Errorf("digest %s, want %s", done.Digest, want)
	}
	next := mustSubmit(t, gw, g.key, 20)
	if d := waitEnd(t, gw, g.key, next.ID, 60*time.Second); d.Status != "completed" {
		t.Fatalf("job after the freeze: %s (%s), want completed", d.Status, d.Error)
	} else {
		t.Logf("next job completed on %s after %d attempts", d.Miner.Hotkey, d.Attempts)
	}
}
