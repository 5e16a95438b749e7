package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/fractal-grid/fractal"
)

// weightsView is what 'fractal chain weights' prints: the subnet's weights
// policy, the commits waiting for their reveal and the weights in force.
type weightsView struct {
	Policy  *fractal.WeightsPolicy `json:"policy,omitempty"`
	Weights *fractal.SubnetWeights `json:"weights"`
}

func runChainWeights(ctx context.Context, rio IO, args []string, logger *slog.Logger) error {
	f := newChainFlags("weights", "weights [--chain URL] [--netuid N] [--json]", true)
	asJSON := f.fs.Bool("json", false, "print JSON instead of tables")
	chain, err := f.parse(ctx, args, rio, logger)
	if err != nil {
		return err
	}
	defer closeChain(chain)
	r, ok := chain.(fractal.WeightsStateReader)
	if !ok {
		return fmt.Errorf("weights: this chain client cannot list commits and weights: %w", fractal.ErrInvalid)
	}
	var view weightsView
	if view.Weights, err = r.SubnetWeights(ctx, f.netuid); err != nil {
		return fmt.Errorf("weights: %w", err)
	}
	if pr, ok := chain.(fractal.WeightsPolicyReader); ok {
		if view.Policy, err = pr.WeightsPolicy(ctx, f.netuid); err != nil {
			return fmt.Errorf("weights policy: %w", err)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(rio.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(view)
	}
	return writeWeights(rio.Stdout, view)
}

// writeWeights prints the policy, the pending commits and the weights.
func writeWeights(w io.Writer, v weightsView) error {
	sw := v.Weights
	fmt.Fprintf(w, "subnet %d at block %d, epoch %d\n", sw.NetUID, sw.Block, sw.Epoch)
	if p := v.Policy; p != nil {
		cr := "off (set_weights)"
		if p.CommitReveal {
			cr = fmt.Sprintf("on (version %d, reveal after %d epochs)", p.CommitRevealVersion, p.RevealPeriodEpochs)
		}
		fmt.Fprintf(w, "commit-reveal %s; version key %d; rate limit %d blocks; stake threshold %s TAO; tempo %d, next epoch at block %d\n",
			cr, p.VersionKey, p.RateLimit, taoString(p.StakeThreshold), p.Tempo, p.NextEpochBlock)
	}
	fmt.Fprintf(w, "\n%d pending commits\n", len(sw.Pending))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if len(sw.Pending) > 0 {
		fmt.Fprintln(tw, "HOTKEY\tPATH\tBLOCK\tEPOCH\tREVEAL EPOCH\tREVEAL ROUND")
		for _, c := range sw.Pending {
			round := "-"
			if c.Path == fractal.WeightsPathTimelock {
				round = fmt.Sprint(c.RevealRound)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\n", c.Hotkey, c.Path, c.Block, c.Epoch, c.RevealEpoch, round)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "\n%d validators with weights\n", len(sw.Rows))
	if len(sw.Rows) > 0 {
		fmt.Fprintln(tw, "UID\tHOTKEY\tBLOCK\tWEIGHTS (uid=share)")
		for _, r := range sw.Rows {
			fmt.Fprintf(tw, "%d\t%s\t%d\t%s\n", r.UID, r.Hotkey, r.Block, weightShares(r.UIDs, r.Weights))
		}
	}
	return tw.Flush()
}

// weightShares formats a weight row as uid=share with shares summing to 1.
func weightShares(uids, ws []uint16) string {
	var sum float64
	for _, x := range ws {
		sum += float64(x)
	}
	parts := make([]string, len(uids))
	for i, u := range uids {
		parts[i] = fmt.Sprintf("%d=%.3f", u, float64(ws[i])/sum)
	}
	return strings.Join(parts, " ")
}
