//go:build unix

package epistula

import (
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fractal-grid/fractal/sr25519"
)

// BenchmarkVerify measures what the middleware does per request once the
// body is read: header checks, sha256 of a 1 KiB body, the sr25519
// signature (public keys cached) and a replay-cache insert. The figure to
// watch is verifications/s with -cpu 2. On a shared machine wall-clock
// figures understate it; cpu-ns/op is the process CPU time per verification,
// so 2e9/cpu-ns/op is the rate two idle cores would reach.
func BenchmarkVerify(b *testing.B) {
	alice, err := sr25519.FromURI("//Alice")
	if err != nil {
		b.Fatal(err)
	}
	bob, err := sr25519.FromURI("//Bob")
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	body := make([]byte, 1024)
	h, err := Sign(alice, body, bob.SS58(), now)
	if err != nil {
		b.Fatal(err)
	}
	cfg := DefaultConfig(bob.SS58())
	cfg.ReplayEntries, cfg.ReplayPerSigner = 1<<30, 1<<30
	v, err := NewAuthenticator(cfg)
	if err != nil {
		b.Fatal(err)
	}
	v.Now = func() time.Time { return now }
	var seq atomic.Int64
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p, err := v.check(h, body)
			if err != nil {
				b.Error(err)
				return
			}
			// One signed request verified many times: give each pass its
			// own replay key so the cache does the work of fresh requests.
			p.id = strconv.FormatInt(seq.Add(1), 10)
			if err := v.remember(p); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
	b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
}

// cpuTime returns the process's user and system CPU time in nanoseconds.
func cpuTime(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
