package adversary

import (
	"context"
	"encoding/json"
	"fmt"
	"math"

	"github.com/fractal-grid/fractal/jetstream"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/validator"
	"github.com/fractal-grid/fractal/verify"
)

// StrategyReport is what the suite measured of one strategy. A detection is
// a challenge the strategy's miner failed, for any reason; Caught counts the
// failed verifications among them.
type StrategyReport struct {
	Name       string         `json:"name"`
	Hotkeys    int            `json:"hotkeys"`
	Challenges int            `json:"challenges"`
	Detected   int            `json:"detected"`
	Caught     int            `json:"caught"`
	Reasons    map[string]int `json:"reasons,omitempty"`
	// Organic counts the strategy's users' jobs the validator verified
	// (not counted as challenges), OrganicFailed those that failed.
	Organic       int `json:"organic,omitempty"`
	OrganicFailed int `json:"organic_failed,omitempty"`
	// Bursts counts passes timed by the operator's burst (a co-located
	// hotkey answered later) rather than by the miner's own answer.
	Bursts int `json:"bursts,omitempty"`
	// PerChallenge is Detected ÷ Challenges; Within10 and Within20 the
	// chance of at least one detection in 10 and 20 independent challenges
	// at that rate.
	PerChallenge float64 `json:"per_challenge"`
	Within10     float64 `json:"within_10"`
	Within20     float64 `json:"within_20"`
	// FirstDetection is the mean (over hotkeys detected at all) of the
	// index of the first failed challenge; MeanToDetection is 1÷PerChallenge.
	FirstDetection  float64 `json:"first_detection,omitempty"`
	MeanToDetection float64 `json:"mean_to_detection,omitempty"`
	WeightShare     float64 `json:"weight_share"`
	// Saving is the share of an honest generation's work the strategy
	// skipped, averaged over its jobs.
	Saving float64 `json:"saving"`
}

// Report is one run of the suite.
type Report struct {
	Tolerant   bool          `json:"tolerant"`
	Policy     verify.Policy `json:"policy"`
	Challenges int           `json:"challenges"`
	// ChallengePath is how the challenges reached the miners: through the
	// gateways' queue or sent by the validator itself.
	ChallengePath string           `json:"challenge_path"`
	Strategies    []StrategyReport `json:"strategies"`
	HonestShare   float64          `json:"honest_weight_share"`
	WeightsSet    bool             `json:"weights_set"`
	Users         *UsersReport     `json:"users,omitempty"`
	// Engine time inside the suite (wall clock, small shapes): the
	// validator's checker and the miners' engines.
	// Miners is what the validator holds of each hotkey at the end.
	Miners []MinerReport `json:"miners"`
	// Hidden are the cheats that hide, as live miners: their jobs, the
	// jobs they faked steps on, and what the validator verified and
	// caught of them (challenges and users' jobs).
	Hidden []HiddenReport `json:"hidden,omitempty"`
	// Linker is what the validator's linker saw of the hotkeys that share
	// a GPU in the sweeps.
	Linker *LinkerReport `json:"linker,omitempty"`
	// Sweeps is what the sweeps (every round) cost the miners' GPUs.
	Sweeps             *SweepReport `json:"sweeps,omitempty"`
	VerifierEngineSecs float64      `json:"verifier_engine_s"`
	MinerEngineSecs    float64      `json:"miner_engine_s"`
	Seconds            float64      `json:"wall_s"`
}

// Strategy returns the report of name, if it was run.
func (r *Report) Strategy(name string) (StrategyReport, bool) {
	for _, s := range r.Strategies {
		if s.Name == name {
			return s, true
		}
	}
	return StrategyReport{}, false
}

// fielded is one miner of the suite.

// readAudit returns the audit log's records from sequence from on, and
// the sequence after the last.
func readAudit(ctx context.Context, audit *jetstream.AuditLog, from uint64) ([]validator.Record, uint64, error) {
	var out []validator.Record
	for {
		recs, err := audit.Read(ctx, "", from, 256)
		if err != nil {
			return nil, from, fmt.Errorf("read the audit log: %w", err)
		}
		for _, r := range recs {
			var rec validator.Record
			if err := json.Unmarshal(r.Data, &rec); err != nil {
				return nil, from, err
			}
			out = append(out, rec)
			from = r.Seq + 1
		}
		if len(recs) < 256 {
			return out, from, nil
		}
	}
}

func tally(ctx context.Context, rep *Report, audit *jetstream.AuditLog, miners []fielded, cfg Config) error {
	recs, _, err := readAudit(ctx, audit, 1)
	if err != nil {
		return err
	}
	byHotkey := map[string][]validator.Record{}
	for _, rec := range recs {
		byHotkey[rec.Miner] = append(byHotkey[rec.Miner], rec)
	}
	var order []string
	for _, name := range append([]string{NameHonest}, AllCheats()...) {
		if name != NameSybilUnlinked {
			order = append(order, name)
			continue
		}
		for _, n := range cfg.UnlinkedSizes {
			order = append(order, UnlinkedName(n))
		}
	}
	for _, name := range order {
		sr := StrategyReport{Name: name, Reasons: map[string]int{}}
		var firsts []float64
		devices := map[*Device]bool{}
		for _, m := range miners {
			if m.strategy != name {
				continue
			}
			sr.Hotkeys++
			devices[m.device] = true
			first, i := 0, 0
			for _, rec := range outcomes(byHotkey[m.hotkey]) {
				if rec.Organic {
					sr.Organic++
					if !rec.OK {
						sr.OrganicFailed++
					}
					continue
				}
				i++
				sr.Challenges++
				if rec.OK {
					if rec.BurstMs > 0 {
						sr.Bursts++
					}
					continue
				}
				if sr.Detected++; verify.IsCheck(rec.Reason) {
					sr.Caught++
				}
				sr.Reasons[rec.Reason]++
				if first == 0 {
					first = i
					firsts = append(firsts, float64(first))
				}
			}
		}
		if sr.Hotkeys == 0 {
			continue
		}
		var work float64
		var jobs int
		for d := range devices {
			u := d.Usage()
			work += u.Work
			jobs += u.Jobs
		}
		if jobs > 0 {
			sr.Saving = math.Max(0, 1-work/float64(jobs))
		}
		summarise(&sr, firsts)
		rep.Strategies = append(rep.Strategies, sr)
		if isHiding(name) {
			rep.Hidden = append(rep.Hidden, liveHidden(name, sr.Saving, miners, byHotkey))
		}
	}
	return nil
}

// outcomes returns one record per request, in order: a late opening asked
// again is recorded a second time, and the second record is the request's
// outcome.
func outcomes(recs []validator.Record) []validator.Record {
	at := map[string]int{}
	var out []validator.Record
	for _, r := range recs {
		if i, ok := at[r.RequestID]; ok {
			out[i] = r
			continue
		}
		at[r.RequestID] = len(out)
		out = append(out, r)
	}
	return out
}

// summarise derives the detection figures from the counts.
func summarise(sr *StrategyReport, firsts []float64) {
	if sr.Challenges > 0 {
		sr.PerChallenge = float64(sr.Detected) / float64(sr.Challenges)
	}
	sr.Within10 = 1 - math.Pow(1-sr.PerChallenge, 10)
	sr.Within20 = 1 - math.Pow(1-sr.PerChallenge, 20)
	if sr.PerChallenge > 0 {
		sr.MeanToDetection = 1 / sr.PerChallenge
	}
	for _, f := range firsts {
		sr.FirstDetection += f / float64(len(firsts))
	}
}

// shares adds each strategy's share of the weights the validator would set.
func shares(ctx context.Context, rep *Report, g *grid, v *validator.Validator, miners []fielded) {
	mg, err := g.chain.Metagraph(ctx, netUID)
	if err != nil {
		return
	}
	w := v.Weights()
	byName := map[string]float64{}
	for _, m := range miners {
		if n, ok := mg.ByHotkey(m.hotkey); ok {
			byName[m.strategy] += w[n.UID]
		}
	}
	for i := range rep.Strategies {
		rep.Strategies[i].WeightShare = byName[rep.Strategies[i].Name]
	}
	rep.HonestShare = byName[NameHonest]
	stats := map[string]validator.Stats{}
	for _, s := range v.Stats() {
		stats[s.Hotkey] = s
	}
	ops := v.Operators()
	for _, m := range miners {
		s := stats[m.hotkey]
		mr := MinerReport{Strategy: m.strategy, Hotkey: m.hotkey, Operator: ops[m.hotkey], Passed: s.Passed, Failed: s.Failed,
			Swept: s.Swept, Tier: s.Tier, Success: s.Success, SecsPerCost: s.SecsPerCost, Throughput: s.Throughput,
			SweepSecs: s.SweepSecs, OrganicCost: s.OrganicCost}
		if n, ok := mg.ByHotkey(m.hotkey); ok {
			mr.UID, mr.Weight = n.UID, w[n.UID]
		}
		rep.Miners = append(rep.Miners, mr)
	}
}

// MinerReport is one hotkey's standing with the validator at the end of
// the suite: Operator names the group it was scored in (a hotkey of the
// group), which for an unlinked Sybil's hotkeys is another of them only
// when the sweeps linked them.
type MinerReport struct {
	Strategy    string  `json:"strategy"`
	Hotkey      string  `json:"hotkey"`
	UID         uint16  `json:"uid"`
	Operator    string  `json:"operator"`
	Passed      int64   `json:"passed"`
	Failed      int64   `json:"failed"`
	Swept       int64   `json:"swept"`
	Tier        int     `json:"tier"`
	Success     float64 `json:"success"`
	SecsPerCost float64 `json:"secs_per_cost"`
	Throughput  float64 `json:"throughput_cost"`
	// SweepSecs are its last sweeps' seconds per cost, which its speed is
	// read from; OrganicCost the users' work it served and passed.
	SweepSecs   []float64 `json:"sweep_secs,omitempty"`
	OrganicCost float64   `json:"organic_cost,omitempty"`
	Weight      float64   `json:"weight"`
}

// honestJitter is the noise of the tolerant suite's engines: the largest
// the reference engine allows, which keeps two honest engines within
// ≈ 0.61 of the tolerance.
const honestJitter = refengine.MaxJitter
