package adversary

import (
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/refengine"
)

// SweepReport is what the suite's sweeps cost the miners' modelled GPUs.
// Every round of the suite is a sweep, so the device time the GPUs spent
// on the validator's challenges is the sweeps' cost; users' jobs are the
// rest. PerGPU and PerHotkey put it in honest generations of the
// challenges' shape per sweep, which Mainnet scales to a tempo.
type SweepReport struct {
	Sweeps  int `json:"sweeps"`
	GPUs    int `json:"gpus"`
	Hotkeys int `json:"hotkeys"`
	// ChallengeGPUSecs is the device time spent on challenges,
	// UsersGPUSecs on users' jobs, GenerationSecs one honest generation of
	// the challenges' shape on a modelled GPU.
	ChallengeGPUSecs float64 `json:"challenge_gpu_s"`
	UsersGPUSecs     float64 `json:"users_gpu_s"`
	GenerationSecs   float64 `json:"generation_s"`
	// PerGPU is ChallengeGPUSecs ÷ (Sweeps × GPUs × GenerationSecs): the
	// generations one sweep takes of each GPU (a Sybil's GPU answers for
	// each of its hotkeys); PerHotkey the same per hotkey.
	PerGPU    float64 `json:"generations_per_sweep_per_gpu"`
	PerHotkey float64 `json:"generations_per_sweep_per_hotkey"`
	// SuiteShare is ChallengeGPUSecs ÷ (GPUs × the suite's wall time):
	// the share of the grid's capacity the suite's sweeps took, one per
	// round.
	SuiteShare float64 `json:"suite_share"`
}

// sweepCost accounts the suite's sweeps from the miners' devices.
func sweepCost(cfg Config, miners []fielded, secs float64) *SweepReport {
	s := cfg.Shape
	spec := fractal.Spec{Width: s.Width, Height: s.Height, Frames: s.Frames, FPS: s.FPS, Steps: s.Steps}
	gen := refengine.New().Profile().CostOf(spec) * cfg.DevicePerCost.Seconds()
	rep := &SweepReport{Sweeps: cfg.Challenges, Hotkeys: len(miners), GenerationSecs: gen}
	seen := map[*Device]bool{}
	for _, m := range miners {
		if seen[m.device] {
			continue
		}
		seen[m.device] = true
		u := m.device.Usage()
		rep.ChallengeGPUSecs += (u.DeviceTime - u.UsersDeviceTime).Seconds()
		rep.UsersGPUSecs += u.UsersDeviceTime.Seconds()
	}
	rep.GPUs = len(seen)
	if n := float64(rep.Sweeps) * gen; n > 0 {
		rep.PerGPU = rep.ChallengeGPUSecs / (n * float64(max(rep.GPUs, 1)))
		rep.PerHotkey = rep.ChallengeGPUSecs / (n * float64(max(rep.Hotkeys, 1)))
	}
	if secs > 0 && rep.GPUs > 0 {
		rep.SuiteShare = rep.ChallengeGPUSecs / (secs * float64(rep.GPUs))
	}
	return rep
}

// Mainnet scales the measured sweeps to a tempo of tempo blocks of
// blockTime with sweepsPerTempo sweeps, on a GPU whose generation of a
// challenge takes generateSecs: each sweep takes PerGPU generations of
// each GPU, so the share of the grid's capacity is
//
//	sweepsPerTempo × PerGPU × generateSecs ÷ (tempo × blockTime)
//
// and a hotkey spends sweepsPerTempo × PerHotkey × generateSecs
// GPU-seconds per tempo.
func (r *SweepReport) Mainnet(sweepsPerTempo, generateSecs float64, tempo uint64, blockTime time.Duration) (share, perHotkeySecs float64) {
	secs := float64(tempo) * blockTime.Seconds()
	if secs <= 0 {
		return 0, 0
	}
	return sweepsPerTempo * r.PerGPU * generateSecs / secs, sweepsPerTempo * r.PerHotkey * generateSecs
}
