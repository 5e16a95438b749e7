//go:build !unix

package adversary

import "time"

var epoch = time.Now()

// processCPU falls back to wall time where rusage is not available.
func processCPU() time.Duration { return time.Since(epoch) }

// cpuClock says what processCPU measures.
const cpuClock = "wall time"
