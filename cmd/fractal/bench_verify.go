package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fractal-grid/fractal/internal/adversary"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/validator"
	"github.com/fractal-grid/fractal/verify"
)

// benchVerifyStrategy is one strategy's figures: the live run over HTTP
// and the in-process trials, with detection within 10 and 20 challenges
// derived from both runs' detections pooled.
type benchVerifyStrategy struct {
	adversary.StrategyReport
	Offline  *adversary.OfflineDetection `json:"offline,omitempty"`
	Pooled   float64                     `json:"pooled_per_challenge"`
	Within10 float64                     `json:"within_10"`
	Within20 float64                     `json:"within_20"`
}

// benchVerifyReport is the --json output of `fractal bench verify`.
type benchVerifyReport struct {
	Strategies     []benchVerifyStrategy `json:"strategies"`
	Tolerant       []benchVerifyStrategy `json:"tolerant_strategies"`
	FalsePositives int                   `json:"false_positives"`
	Verifications  int                   `json:"verifications"`
	CostRatio      float64               `json:"cost_ratio"`
	HonestShare    float64               `json:"honest_weight_share"`
	// SybilVsHonest is the Sybil group's weight ÷ one honest miner's
	// (the mean): at most 1 means its extra hotkeys earn it nothing.
	SybilVsHonest float64 `json:"sybil_vs_one_honest"`
	// UnlinkedVsHonest is the same for the Sybils whose hotkeys share no
	// coldkey and no address, the most any of them earned: only sweeps,
	// which ask every miner at once, hold them down. UnlinkedByHotkeys
	// gives each, by its number of hotkeys.
	UnlinkedVsHonest  float64            `json:"sybil_unlinked_vs_one_honest"`
	UnlinkedByHotkeys map[string]float64 `json:"sybil_unlinked_by_hotkeys"`
	// CheatShare is the weight of the strategies whose work is not the
	// model's (lazy, replay, skippers, low-steps, wrong-model) and of the
	// slow miner.
	CheatShare float64 `json:"cheat_weight_share"`
	// Hidden are the cheats that fake steps only where they hope not to be
	// looked at (refused openings, users' jobs, under load), plain and
	// hard, run in process; HiddenLive the same as live miners of the
	// suite, their figures from the live counts.
	Hidden     []adversary.HiddenReport `json:"hidden_strategies"`
	HiddenLive []adversary.HiddenReport `json:"hidden_live"`
	// SweepCost is what the sweeps cost the miners' GPUs, measured in the
	// live suite and scaled to mainnet, and estimated by validator.SweepCost.
	SweepCost *benchSweepCost `json:"sweep_cost,omitempty"`
	// ClassifierAUC is how well a bag-of-words classifier tells challenge
	// prompts from users' (0.5: not at all), the mean of five draws.
	ClassifierAUC float64                 `json:"classifier_auc"`
	Policy        verify.Policy           `json:"policy"`
	Cost          *adversary.CostReport   `json:"cost"`
	Honest        *adversary.HonestReport `json:"honest"`
	Suite         *adversary.Report       `json:"suite"`
	TolerantSuite *adversary.Report       `json:"tolerant_suite,omitempty"`
	// SybilSuite fields the honest miners against Sybils alone: the linked
	// one and unlinkable ones of 2, 3 and 8 hotkeys, one GPU each. Its
	// unlinkable Sybils count towards sybil_unlinked_vs_one_honest (keyed
	// "sybils/N" in sybil_unlinked_by_hotkeys); SybilSuiteHonestShare is
	// the honest miners' weight there.
	SybilSuite            *adversary.Report        `json:"sybil_suite,omitempty"`
	SybilSuiteHonestShare float64                  `json:"sybil_suite_honest_weight_share,omitempty"`
	Goals                 map[string]benchGoalMark `json:"goals"`
	Seconds               float64                  `json:"wall_s"`
}

// benchGoalMark is one goal of the validator's design and whether the run
// met it; Worst names what gave Got where it is the worst of several.
type benchGoalMark struct {
	Want  string  `json:"want"`
	Got   float64 `json:"got"`
	Met   bool    `json:"met"`
	Worst string  `json:"worst,omitempty"`
}

func runBenchVerify(ctx context.Context, rio IO, args []string) error {
	fs := flag.NewFlagSet("bench verify", flag.ContinueOnError)
	challenges := fs.Int("challenges", 20, "challenges per miner in the live suite")
	honest := fs.Int("honest", 4, "honest miners in the live suite")
	perOperator := fs.Int("honest-per-operator", 1, "honest miners (each on its own GPU) under one coldkey in the live suite")
	trials := fs.Int("trials", 250, "in-process challenges per verification cheat (each suite)")
	hiddenJobs := fs.Int("hidden-jobs", 300, "in-process jobs per hiding cheat (half challenges, half users' jobs at 50% load)")
	verifications := fs.Int("verifications", 10_000, "honest verifications for the false-positive count")
	costChecks := fs.Int("cost-checks", adversary.DefaultCostConfig().Checks, "checks of each default video when measuring the cost ratio")
	tolerant := fs.Bool("tolerant", true, "also run the suite on jittered engines with a tolerant verifier")
	usersLoad := fs.Float64("users-load", 0.5, "users' load beside the live suites' challenges, a share of the grid's capacity, through the validator's gateway and a replica (0: none)")
	sweeps := fs.Float64("sweeps", 2, "the validator's sweeps per tempo, to scale the live suite's sweep cost to mainnet (tempo 360 × 12 s)")
	path := fs.String("challenge-path", validator.ChallengeQueue, "how the live suites' challenges reach the miners: `queue` (jobs pinned to their miners, sent by the users' gateways like users' jobs) or direct (sent by the validator itself)")
	sybils := fs.Bool("sybils", true, "also run a suite of the honest miners against unlinkable Sybils of 2, 3 and 8 hotkeys (and the linked one)")
	asJSON := fs.Bool("json", false, "print one JSON object instead of tables")
	verbose := fs.Bool("v", false, "log the validator's warnings to stderr")
	if err := parseFlags(fs, args, rio.Stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("bench verify: unexpected arguments %v", fs.Args())
	}
	if *challenges < 1 || *honest < 1 || *perOperator < 1 || *trials < 0 || *hiddenJobs < 0 || *verifications < 1 || *costChecks < 1 {
		return usageErrorf("bench verify: --challenges, --honest, --honest-per-operator, --verifications and --cost-checks must be positive, --trials not negative")
	}
	if *sweeps < 0 {
		return usageErrorf("bench verify: --sweeps must not be negative, got %g", *sweeps)
	}
	if *usersLoad < 0 || *usersLoad >= 1 {
		return usageErrorf("bench verify: --users-load must be in [0, 1), got %g", *usersLoad)
	}
	start := time.Now()
	progress := func(format string, a ...any) {
		if !*asJSON {
			fmt.Fprintf(rio.Stderr, format+"\n", a...)
		}
	}
	rep := benchVerifyReport{}
	progress("measuring the cost shape on a default video…")
	ccfg := adversary.DefaultCostConfig()
	ccfg.Checks = *costChecks
	cost, err := adversary.MeasureCost(ctx, ccfg)
	if err != nil {
		return fmt.Errorf("bench verify: cost: %w", err)
	}
	rep.Cost, rep.CostRatio, rep.Policy = cost, cost.Ratio, cost.Policy
	dir, err := os.MkdirTemp("", "fractal-bench-verify-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	logger := slog.New(slog.DiscardHandler)
	if *verbose {
		logger = slog.New(slog.NewTextHandler(rio.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	cfg := adversary.DefaultConfig(dir + "/exact")
	cfg.Challenges, cfg.Honest, cfg.Policy, cfg.StepShare, cfg.Logger = *challenges, *honest, cost.Policy, cost.StepShare, logger
	cfg.HonestPerOperator, cfg.UsersLoad, cfg.ChallengePath = *perOperator, *usersLoad, *path
	if err := cfg.Validate(); err != nil {
		return usageErrorf("bench verify: %v", err)
	}
	progress("live suite: %d honest miners and every cheat, %d challenges each…", cfg.Honest, cfg.Challenges)
	if rep.Suite, err = adversary.Run(ctx, cfg); err != nil {
		return fmt.Errorf("bench verify: suite: %w", err)
	}
	offline := map[string]adversary.OfflineDetection{}
	if *trials > 0 {
		progress("%d in-process challenges per verification cheat…", *trials)
		if offline, err = adversary.DetectOffline(ctx, cfg, *trials); err != nil {
			return fmt.Errorf("bench verify: trials: %w", err)
		}
	}
	rep.Strategies = pool(rep.Suite, offline)
	rep.HonestShare = rep.Suite.HonestShare
	rep.HiddenLive = rep.Suite.Hidden
	rep.SweepCost = newBenchSweepCost(rep.Suite.Sweeps, *sweeps)
	rep.UnlinkedByHotkeys = map[string]float64{}
	for _, s := range rep.Suite.Strategies {
		switch {
		case s.Name == adversary.NameSybil:
			rep.SybilVsHonest = vsOneHonest(rep.Suite, s)
		case strings.HasPrefix(s.Name, adversary.NameSybilUnlinked+"-"):
			ratio := vsOneHonest(rep.Suite, s)
			rep.UnlinkedByHotkeys[fmt.Sprint(s.Hotkeys)] = ratio
			rep.UnlinkedVsHonest = max(rep.UnlinkedVsHonest, ratio)
		case s.Name == adversary.NameSlow || slices.Contains(adversary.VerificationCheats(), s.Name) || slices.Contains(adversary.HiddenCheats(), s.Name):
			rep.CheatShare += s.WeightShare
		}
	}
	if *sybils {
		scfg := cfg
		scfg.Dir, scfg.Strategies, scfg.UnlinkedSizes = dir+"/sybils", []string{adversary.NameSybil, adversary.NameSybilUnlinked}, []int{2, 3, 8}
		progress("Sybil suite: %d honest miners and unlinkable Sybils of 2, 3 and 8 hotkeys…", scfg.Honest)
		if rep.SybilSuite, err = adversary.Run(ctx, scfg); err != nil {
			return fmt.Errorf("bench verify: Sybil suite: %w", err)
		}
		rep.SybilSuiteHonestShare = rep.SybilSuite.HonestShare
		for _, s := range rep.SybilSuite.Strategies {
			if strings.HasPrefix(s.Name, adversary.NameSybilUnlinked+"-") {
				ratio := vsOneHonest(rep.SybilSuite, s)
				rep.UnlinkedByHotkeys[fmt.Sprintf("sybils/%d", s.Hotkeys)] = ratio
				rep.UnlinkedVsHonest = max(rep.UnlinkedVsHonest, ratio)
			}
		}
	}
	if *tolerant {
		tcfg := cfg
		tcfg.Dir, tcfg.Tolerant, tcfg.Strategies, tcfg.Honest = dir+"/tolerant", true, adversary.VerificationCheats(), 2
		progress("tolerant suite: 2 noisy honest miners and the verification cheats…")
		if rep.TolerantSuite, err = adversary.Run(ctx, tcfg); err != nil {
			return fmt.Errorf("bench verify: tolerant suite: %w", err)
		}
		toffline := map[string]adversary.OfflineDetection{}
		if *trials > 0 {
			if toffline, err = adversary.DetectOffline(ctx, tcfg, *trials); err != nil {
				return fmt.Errorf("bench verify: tolerant trials: %w", err)
			}
		}
		rep.Tolerant = pool(rep.TolerantSuite, toffline)
	}
	if rep.ClassifierAUC, err = adversary.MeanClassifierAUC(refengine.Words(), 5); err != nil {
		return fmt.Errorf("bench verify: classifier: %w", err)
	}
	if *hiddenJobs > 0 {
		progress("%d in-process jobs per hiding cheat…", *hiddenJobs)
		hc := adversary.DefaultHiddenConfig(cost.Policy, cfg.Shape, cfg.StepShare)
		hc.Jobs = *hiddenJobs
		if rep.Hidden, err = adversary.DetectHidden(ctx, hc); err != nil {
			return fmt.Errorf("bench verify: hiding cheats: %w", err)
		}
	}
	progress("%d honest verifications…", *verifications)
	hcfg := adversary.DefaultHonestConfig(cost.Policy)
	hcfg.Verifications = *verifications
	if rep.Honest, err = adversary.CheckHonest(ctx, hcfg); err != nil {
		return fmt.Errorf("bench verify: honest verifications: %w", err)
	}
	rep.FalsePositives, rep.Verifications = rep.Honest.FalsePositives, rep.Honest.Verifications
	rep.Goals = goals(rep)
	rep.Seconds = time.Since(start).Seconds()
	if *asJSON {
		enc := json.NewEncoder(rio.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return printBenchVerify(rio.Stdout, rep)
}

// vsOneHonest is s's weight ÷ one honest miner's (the mean) in the suite.
func vsOneHonest(suite *adversary.Report, s adversary.StrategyReport) float64 {
	h, ok := suite.Strategy(adversary.NameHonest)
	if !ok || h.WeightShare <= 0 {
		return 0
	}
	return s.WeightShare / (h.WeightShare / float64(h.Hotkeys))
}

// pool merges a suite's live figures with in-process trials.
func pool(s *adversary.Report, offline map[string]adversary.OfflineDetection) []benchVerifyStrategy {
	var out []benchVerifyStrategy
	for _, sr := range s.Strategies {
		b := benchVerifyStrategy{StrategyReport: sr}
		n, d := sr.Challenges, sr.Detected
		if od, ok := offline[sr.Name]; ok {
			b.Offline = &od
			n, d = n+od.Trials, d+od.Detected
		}
		if n > 0 {
			b.Pooled = float64(d) / float64(n)
		}
		b.Within10 = 1 - math.Pow(1-b.Pooled, 10)
		b.Within20 = 1 - math.Pow(1-b.Pooled, 20)
		out = append(out, b)
	}
	return out
}

// goals marks the design goals: cost ratio ≤ 0.05; every cheat saving ≥ 20%
// detected with ≥ 99% within 20 challenges (a hiding cheat: within 20 of
// its jobs, live and in process); no false positive in ≥ 10,000 honest
// verifications; honest miners ≥ 95% of the weight; the sweeps ≤ 10% of
// the grid's capacity on mainnet.
func goals(rep benchVerifyReport) map[string]benchGoalMark {
	detect := benchGoalMark{Want: ">= 0.99 for every cheat saving >= 20%", Got: 1}
	worse := func(name string, saving, within20 float64) {
		if saving >= 0.2 && within20 < detect.Got {
			detect.Got, detect.Worst = within20, name
		}
	}
	for _, list := range [][]benchVerifyStrategy{rep.Strategies, rep.Tolerant} {
		for _, s := range list {
			if s.Name != adversary.NameHonest && !slices.Contains(adversary.HiddenCheats(), s.Name) {
				worse(s.Name, s.Saving, s.Within20)
			}
		}
	}
	for _, h := range rep.HiddenLive {
		worse(h.Name+" (live)", h.Saving, h.Within20)
	}
	for _, h := range rep.Hidden {
		worse(h.Name+" (in process)", h.Saving, h.Within20)
	}
	detect.Met = detect.Got >= 0.99
	sweep := benchGoalMark{Want: "<= 0.10 of the grid's capacity"}
	if c := rep.SweepCost; c != nil {
		sweep.Got, sweep.Worst = c.Worst, c.WorstOf
	}
	sweep.Met = rep.SweepCost != nil && sweep.Got <= 0.1
	return map[string]benchGoalMark{
		"classifier_auc":      {Want: "<= 0.6", Got: rep.ClassifierAUC, Met: rep.ClassifierAUC <= 0.6},
		"sybil_unlinked":      {Want: "<= 1.05 of one honest GPU", Got: rep.UnlinkedVsHonest, Met: rep.UnlinkedVsHonest <= 1.05},
		"cost_ratio":          {Want: "<= 0.05", Got: rep.CostRatio, Met: rep.CostRatio <= 0.05},
		"detect_within_20":    detect,
		"sweep_cost":          sweep,
		"false_positives":     {Want: "0 in >= 10000", Got: float64(rep.FalsePositives), Met: rep.FalsePositives == 0 && rep.Verifications >= 10_000},
		"honest_weight_share": {Want: ">= 0.95", Got: rep.HonestShare, Met: rep.HonestShare >= 0.95},
	}
}

func printBenchVerify(w io.Writer, rep benchVerifyReport) error {
	c := rep.Cost
	fmt.Fprintf(w, "cost shape (%s, %dx%d, %d frames, %d steps): generate %.3fs, %d steps %.3fs, σ = %.3f\n",
		c.Clock, c.Spec.Width, c.Spec.Height, c.Spec.Frames, c.Spec.Steps, c.GenerateSecs, c.Spec.Steps, c.StepsSecs, c.StepShare)
	fmt.Fprintf(w, "proof of sampling: chosen c=%d q=%.2f p=%.3f; in force c=%d q=%.2f p=%.3f; model cost %.4f per check; detects a 20%% saving with %.3f per check\n",
		c.Chosen.OpenSteps, c.Chosen.DecodeProb, c.Chosen.RegenProb, c.Policy.OpenSteps, c.Policy.DecodeProb, c.Policy.RegenProb, c.ModelCost, c.Detection)
	fmt.Fprintf(w, "cost ratio %.4f (engine CPU: %.4fs per check +%.4fs expected regeneration, per %.3fs generation); all validator CPU per challenge %.4fs, ratio %.4f; %d checks\n\n",
		rep.CostRatio, c.EngineSecs, c.RegenSecs, c.GenerateSecs, c.CheckSecs, c.TotalRatio, c.Checks)
	if err := printStrategies(w, "live suite (exact profile)", rep.Strategies); err != nil {
		return err
	}
	if rep.Tolerant != nil {
		if err := printStrategies(w, "tolerant suite (jittered engines, tolerant verifier)", rep.Tolerant); err != nil {
			return err
		}
	}
	h := rep.Honest
	fmt.Fprintf(w, "honest verifications: %d (%d exact, %d tolerant; c=%d, q=%.2f, p=%.3f), false positives %d, verifier errors %d\n",
		h.Verifications, h.Exact, h.Tolerant, h.Policy.OpenSteps, h.Policy.DecodeProb, h.Policy.RegenProb, h.FalsePositives, h.Internal)
	fmt.Fprintf(w, "weight shares: honest miners %.4f, cheats and the slow miner %.4f, the Sybil group %.2f× one honest miner (unlinked, at most %.2f×: %s); weights set on chain: %v\n\n",
		rep.HonestShare, rep.CheatShare, rep.SybilVsHonest, rep.UnlinkedVsHonest, unlinkedFigures(rep.UnlinkedByHotkeys), rep.Suite.WeightsSet)
	if u := rep.Suite.Users; u != nil {
		fmt.Fprintf(w, "users' load beside the live suite: %.0f%% of capacity, %.1f jobs/s, %d through the validator's gateway and %d through a replica (%d refused); %d verified, %d failed\n\n",
			100*u.Load, u.PerSecond, u.Submitted["validator"], u.Submitted["replica"], u.Refused, u.Verified, u.VerifiedFailed)
	}
	if rep.SybilSuite != nil {
		fmt.Fprintf(w, "Sybil suite (honest miners against Sybils alone): honest miners %.4f of the weight\n\n", rep.SybilSuiteHonestShare)
	}
	if err := printHidden(w, "hiding cheats, live (the suite's miners among users' jobs, verified as the validator does)", rep.HiddenLive); err != nil {
		return err
	}
	if err := printHidden(w, "hiding cheats, in process (half challenges, half users' jobs at 50% load, sampled and retried as the validator does)", rep.Hidden); err != nil {
		return err
	}
	printSweepCost(w, rep.SweepCost)
	fmt.Fprintf(w, "challenge vs users' prompt classifier: AUC %.3f (mean of five draws)\n\ngoals:\n", rep.ClassifierAUC)
	for _, k := range []string{"classifier_auc", "sybil_unlinked", "cost_ratio", "detect_within_20", "false_positives", "honest_weight_share", "sweep_cost"} {
		g := rep.Goals[k]
		mark := "met"
		if !g.Met {
			mark = "MISSED"
		}
		worst := ""
		if g.Worst != "" {
			worst = " (" + g.Worst + ")"
		}
		fmt.Fprintf(w, "  %-20s want %s, got %.4g%s: %s\n", k, g.Want, g.Got, worst, mark)
	}
	_, err := fmt.Fprintf(w, "(%.1fs)\n", rep.Seconds)
	return err
}

func printHidden(w io.Writer, title string, list []adversary.HiddenReport) error {
	if len(list) == 0 {
		return nil
	}
	fmt.Fprintln(w, title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "strategy\tjobs\tcheated\tsaving\tverified\tunanswered\tdetected\tper job\twithin 20\treasons\t")
	for _, h := range list {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f%%\t%d\t%d\t%d\t%.3f\t%.4f\t%s\t\n", h.Name, h.Jobs, h.Cheated, 100*h.Saving, h.Verified, h.Unanswered, h.Detected, h.PerJob, h.Within20, reasonList(h.Reasons))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w)
	return err
}

func printStrategies(w io.Writer, title string, list []benchVerifyStrategy) error {
	fmt.Fprintf(w, "%s\n", title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "strategy\thotkeys\tsaving\tdetected\tin-process\twithin 10\twithin 20\tfirst\tmean to detect\tweight share\ttop reason\t")
	for _, s := range list {
		inproc := "-"
		if s.Offline != nil {
			inproc = fmt.Sprintf("%d/%d", s.Offline.Detected, s.Offline.Trials)
		}
		mean := "-"
		if s.Pooled > 0 {
			mean = fmt.Sprintf("%.2f", 1/s.Pooled)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.0f%%\t%d/%d\t%s\t%.4f\t%.4f\t%.1f\t%s\t%.4f\t%s\t\n", s.Name, s.Hotkeys, 100*s.Saving,
			s.Detected, s.Challenges, inproc, s.Within10, s.Within20, s.FirstDetection, mean, s.WeightShare, topReason(s.Reasons))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w)
	return err
}

// unlinkedFigures lists the unlinkable Sybils' weight against one honest
// miner, by suite and hotkeys.
func unlinkedFigures(by map[string]float64) string {
	keys := slices.Sorted(maps.Keys(by))
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s hotkeys %.3f×", k, by[k]))
	}
	return strings.Join(parts, ", ")
}

// reasonList lists reasons with their counts, most frequent first.
func reasonList(reasons map[string]int) string {
	if len(reasons) == 0 {
		return "-"
	}
	keys := slices.Sorted(maps.Keys(reasons))
	slices.SortStableFunc(keys, func(a, b string) int { return reasons[b] - reasons[a] })
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, reasons[k]))
	}
	return strings.Join(parts, ", ")
}

func topReason(reasons map[string]int) string {
	best, n := "-", 0
	for r, c := range reasons {
		if c > n || c == n && r < best {
			best, n = r, c
		}
	}
	return best
}

// Mainnet's tempo, which the sweeps' cost is scaled to: 360 blocks of 12 s.
const (
	mainnetTempo     = 360
	mainnetBlockTime = 12 * time.Second
)

// referenceGenerates are the GPU profiles' generate times (H100 seconds,
// docs/engines.md) for their default and their large videos: what one
// sweep challenge takes of a miner's GPU when users ask for such videos.
var referenceGenerates = []struct {
	profile string
	secs    float64
}{
	{"wan2.1-t2v-1.3b, 33 frames 832x480, 30 steps", 13},
	{"wan2.1-t2v-1.3b, 81 frames 832x480, 50 steps", 80},
	{"ltx-video-2b-distilled, 121 frames 768x512", 1.7},
	{"ltx-video-2b-distilled, 121 frames 1216x704", 4},
}

// benchSweepCost is the sweeps' cost on mainnet: measured in the live
// suite (the GPU time its sweeps took, in generations per sweep) and
// scaled to SweepsPerTempo sweeps a tempo of TempoBlocks × BlockSecs, and
// estimated by validator.SweepCost (one generation per miner per sweep),
// for each profile's reference generate time. Worst is the largest share of
// the grid's capacity of them all.
type benchSweepCost struct {
	SweepsPerTempo float64                `json:"sweeps_per_tempo"`
	TempoBlocks    uint64                 `json:"tempo_blocks"`
	BlockSecs      float64                `json:"block_s"`
	Measured       *adversary.SweepReport `json:"measured"`
	Profiles       []benchSweepProfile    `json:"profiles"`
	Worst          float64                `json:"worst"`
	WorstOf        string                 `json:"worst_of"`
}

// benchSweepProfile is the sweeps' cost for one reference generate time:
// MeasuredShare of the grid's capacity and PerMinerGPUSecs GPU-seconds per
// tempo per hotkey from the live suite, EstimateShare from
// validator.SweepCost.
type benchSweepProfile struct {
	Profile         string  `json:"profile"`
	GenerateSecs    float64 `json:"generate_s"`
	MeasuredShare   float64 `json:"measured_share"`
	PerMinerGPUSecs float64 `json:"per_miner_gpu_s_per_tempo"`
	EstimateShare   float64 `json:"estimate_share"`
}

func newBenchSweepCost(measured *adversary.SweepReport, sweepsPerTempo float64) *benchSweepCost {
	if measured == nil {
		return nil
	}
	c := &benchSweepCost{SweepsPerTempo: sweepsPerTempo, TempoBlocks: mainnetTempo, BlockSecs: mainnetBlockTime.Seconds(), Measured: measured}
	for _, ref := range referenceGenerates {
		share, perMiner := measured.Mainnet(sweepsPerTempo, ref.secs, mainnetTempo, mainnetBlockTime)
		p := benchSweepProfile{Profile: ref.profile, GenerateSecs: ref.secs, MeasuredShare: share, PerMinerGPUSecs: perMiner,
			EstimateShare: validator.SweepCost(sweepsPerTempo, ref.secs, mainnetTempo, mainnetBlockTime)}
		c.Profiles = append(c.Profiles, p)
		if share >= c.Worst {
			c.Worst, c.WorstOf = share, "measured, "+ref.profile
		}
		if p.EstimateShare > c.Worst {
			c.Worst, c.WorstOf = p.EstimateShare, "estimate, "+ref.profile
		}
	}
	return c
}

func printSweepCost(w io.Writer, c *benchSweepCost) {
	if c == nil {
		return
	}
	m := c.Measured
	fmt.Fprintf(w, "sweeps' cost: live suite %d sweeps over %d GPUs (%d hotkeys): %.1f GPU-s on challenges, %.1f on users' jobs; %.3f generations per sweep per GPU, %.3f per hotkey (%.1f%% of the suite's capacity, a sweep every round)\n",
		m.Sweeps, m.GPUs, m.Hotkeys, m.ChallengeGPUSecs, m.UsersGPUSecs, m.PerGPU, m.PerHotkey, 100*m.SuiteShare)
	fmt.Fprintf(w, "on mainnet at %g sweeps per tempo of %d × %gs:\n", c.SweepsPerTempo, c.TempoBlocks, c.BlockSecs)
	for _, p := range c.Profiles {
		fmt.Fprintf(w, "  %-46s %5.1fs a generation: measured %.2f%% of the grid (%.1f GPU-s per tempo per miner), estimate %.2f%%\n",
			p.Profile, p.GenerateSecs, 100*p.MeasuredShare, p.PerMinerGPUSecs, 100*p.EstimateShare)
	}
	fmt.Fprintln(w)
}
