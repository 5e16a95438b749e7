//go:build unix

package remote_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
)

// cpuTime returns the CPU time this process has used (user + system).
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRemoteOverhead alternates direct and remote default generations
// so both see the same machine load, and reports remote ÷ direct in wall
// time and in CPU time (server and client share this process, so the CPU
// ratio is the protocol's full cost and is steadier on a busy machine).
func BenchmarkRemoteOverhead(b *testing.B) {
	es := engines(b)
	var wall, cpu [2]time.Duration
	for b.Loop() {
		for i, name := range []string{"direct", "remote"} {
			start, startCPU := time.Now(), cpuTime(b)
			if _, err := es[name].Generate(b.Context(), benchSpec, fractal.GenerateOptions{}); err != nil {
				b.Fatal(err)
			}
			wall[i] += time.Since(start)
			cpu[i] += cpuTime(b) - startCPU
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(wall[0].Milliseconds())/n, "direct-ms/op")
	b.ReportMetric(float64(wall[1].Milliseconds())/n, "remote-ms/op")
	b.ReportMetric(float64(wall[1])/float64(wall[0]), "wall-remote/direct")
	b.ReportMetric(float64(cpu[0].Milliseconds())/n, "direct-cpu-ms/op")
	b.ReportMetric(float64(cpu[1].Milliseconds())/n, "remote-cpu-ms/op")
	b.ReportMetric(float64(cpu[1])/float64(cpu[0]), "cpu-remote/direct")
}
