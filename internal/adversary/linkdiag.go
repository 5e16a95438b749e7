package adversary

import (
	"slices"
	"time"

	"github.com/fractal-grid/fractal/validator"
)

// LinkerReport is what the validator's linker saw of the Sybils' hotkeys in
// the suite's sweeps. For each hotkey of a shared GPU that was served after
// another hotkey of it (by estimated start), a sample compares its
// estimated start with the finish of the hotkey served just before it on
// the GPU, and with the finish the linker chose: the closest one of any
// hotkey done before the late hotkey's first progress.
type LinkerReport struct {
	Sweeps  int          `json:"sweeps"`
	Samples []LinkSample `json:"samples"`
	// Linked counts, by strategy, the hotkeys the validator grouped with
	// another hotkey of the same GPU at the end; Hotkeys all of them.
	Linked  map[string]int `json:"linked"`
	Hotkeys map[string]int `json:"hotkeys"`
	// ApartShare is, over pairs of hotkeys on different GPUs timed together
	// in at least 4 sweeps, the largest share of those sweeps in which
	// their generations overlapped by less than a tenth of the shorter one
	// (estimated start to answer): how often GPUs that share nothing look
	// like one GPU serving two hotkeys in turn.
	ApartShare float64 `json:"apart_share_other_gpus"`
	// SiblingApartShare is the same share for pairs of hotkeys of one GPU,
	// the smallest over them.
	SiblingApartShare float64 `json:"apart_share_same_gpu"`
}

// LinkSample is one late hotkey of a shared GPU in one sweep (milliseconds
// from the sweep's challenge).
type LinkSample struct {
	Strategy string  `json:"strategy"`
	Sweep    int     `json:"sweep"`
	Hotkey   string  `json:"hotkey"`
	FirstMs  float64 `json:"first_progress_ms"`
	StartMs  float64 `json:"start_ms"` // estimated as the linker does
	TotalMs  float64 `json:"total_ms"`
	// BeforeMs is the finish (the answer's last byte) of the hotkey served
	// just before it on the GPU; Gap is StartMs − BeforeMs.
	BeforeMs float64 `json:"before_finish_ms"`
	GapMs    float64 `json:"gap_ms"`
	// Candidate is whether that hotkey was done before this one's first
	// progress (the linker considers no other), Late whether this one
	// started after 40% of its total.
	Candidate bool `json:"candidate"`
	Late      bool `json:"late"`
	// ClosestMs is the finish the linker chose, ClosestSibling whether
	// that was the hotkey before it on the GPU.
	ClosestMs      float64 `json:"closest_finish_ms"`
	ClosestSibling bool    `json:"closest_is_sibling"`
}

// swept is one hotkey's passing answer in a sweep.
type swept struct {
	hotkey, strategy string
	device           *Device
	first, total     time.Duration
	steps            int
}

// start is the linker's estimate: the first progress less one step, a
// step being the rest of the answer over the remaining steps.
func (t swept) start() time.Duration {
	if t.steps < 2 || t.total <= t.first {
		return t.first
	}
	return max(0, t.first-(t.total-t.first)/time.Duration(t.steps-1))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// linkerTimings measures, sweep by sweep, what the linker saw of the
// hotkeys that share a GPU; operators is the validator's grouping at the
// end.
func linkerTimings(miners []fielded, sweeps [][]validator.Record, operators map[string]string) *LinkerReport {
	byHotkey := map[string]fielded{}
	onDevice := map[*Device]int{}
	for _, m := range miners {
		byHotkey[m.hotkey] = m
		onDevice[m.device]++
	}
	rep := &LinkerReport{Sweeps: len(sweeps), Linked: map[string]int{}, Hotkeys: map[string]int{}}
	apart, together := map[[2]string]int{}, map[[2]string]int{}
	for i, recs := range sweeps {
		var ts []swept
		for _, r := range recs {
			m, ok := byHotkey[r.Miner]
			if r.Organic || !r.OK || r.FirstProgress <= 0 || !ok {
				continue
			}
			ts = append(ts, swept{hotkey: r.Miner, strategy: m.strategy, device: m.device,
				first: time.Duration(r.FirstProgress) * time.Millisecond, total: time.Duration(r.TotalMs) * time.Millisecond, steps: r.Steps})
		}
		slices.SortFunc(ts, func(a, b swept) int { return int(a.start() - b.start()) })
		for j, b := range ts {
			for _, a := range ts[:j] {
				p := [2]string{a.hotkey, b.hotkey}
				if a.hotkey > b.hotkey {
					p = [2]string{b.hotkey, a.hotkey}
				}
				together[p]++
				overlap := min(a.total, b.total) - max(a.start(), b.start())
				if float64(overlap) < 0.1*float64(min(a.total-a.start(), b.total-b.start())) {
					apart[p]++
				}
			}
			if onDevice[b.device] < 2 {
				continue
			}
			before := -1
			for k := j - 1; k >= 0; k-- {
				if ts[k].device == b.device {
					before = k
					break
				}
			}
			if before < 0 {
				continue
			}
			a := ts[before]
			s := LinkSample{Strategy: b.strategy, Sweep: i + 1, Hotkey: b.hotkey, FirstMs: ms(b.first), StartMs: ms(b.start()), TotalMs: ms(b.total),
				BeforeMs: ms(a.total), GapMs: ms(b.start() - a.total), Candidate: a.total <= b.first,
				Late: float64(b.start()) >= 0.4*float64(b.total), ClosestMs: -1}
			gap := time.Duration(-1)
			for _, c := range ts {
				if g := (b.start() - c.total).Abs(); c.hotkey != b.hotkey && c.total <= b.first && (gap < 0 || g < gap) {
					gap, s.ClosestMs, s.ClosestSibling = g, ms(c.total), c.device == b.device
				}
			}
			rep.Samples = append(rep.Samples, s)
		}
	}
	rep.SiblingApartShare = 1
	for p, n := range together {
		if n < 4 {
			continue
		}
		share := float64(apart[p]) / float64(n)
		if byHotkey[p[0]].device == byHotkey[p[1]].device {
			rep.SiblingApartShare = min(rep.SiblingApartShare, share)
		} else {
			rep.ApartShare = max(rep.ApartShare, share)
		}
	}
	for _, m := range miners {
		if onDevice[m.device] < 2 {
			continue
		}
		rep.Hotkeys[m.strategy]++
		for _, o := range miners {
			if o.hotkey != m.hotkey && o.device == m.device && operators[o.hotkey] == operators[m.hotkey] && operators[m.hotkey] != "" {
				rep.Linked[m.strategy]++
				break
			}
		}
	}
	return rep
}
