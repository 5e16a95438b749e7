package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/fractal-grid/fractal/gateway"
	"github.com/fractal-grid/fractal/jetstream"
)

// runGatewayKeys manages API keys in the store a gateway uses: --nats for a
// shared store, or --data for an embedded one (while no daemon holds it).
func runGatewayKeys(ctx context.Context, rio IO, args []string) error {
	if len(args) == 0 {
		return usageErrorf("gateway keys: want create, list or revoke")
	}
	sub, rest := args[0], args[1:]
	fs := flag.NewFlagSet("gateway keys "+sub, flag.ContinueOnError)
	dataDir := fs.String("data", defaultDataDir("validator"), "`DIR` of the embedded store (the validator's --data)")
	natsURL := fs.String("nats", "", "`URL` of the shared NATS JetStream store")
	var replicas int
	addNATSReplicasFlag(fs, &replicas)
	name := fs.String("name", "", "a `NAME` for the key (create)")
	defaults := gateway.DefaultConfig()
	rate := fs.Float64("rate", defaults.DefaultRate, "requests per second (create)")
	burst := fs.Int("burst", defaults.DefaultBurst, "burst of requests (create)")
	jobs := fs.Int("jobs", defaults.DefaultActiveJobs, "unfinished jobs at once (create)")
	if err := parseFlags(fs, rest, rio.Stderr); err != nil {
		return err
	}
	var id string
	switch {
	case sub == "revoke" && fs.NArg() == 1:
		id = fs.Arg(0)
	case fs.NArg() > 0:
		return usageErrorf("gateway keys %s: unexpected arguments %q", sub, fs.Args())
	}
	if sub != "create" && sub != "list" && sub != "revoke" {
		return usageErrorf("gateway keys: unknown command %q (create, list, revoke)", sub)
	}
	if sub == "create" && *name == "" {
		return usageErrorf("gateway keys create: --name is required")
	}
	if sub == "revoke" && id == "" {
		return usageErrorf("gateway keys revoke: give the key id (see 'fractal gateway keys list')")
	}
	st, err := openSharedStore(ctx, *dataDir, *natsURL, replicas, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer st.Close()
	kv, err := st.KV(ctx, jetstream.SharedKV, 0)
	if err != nil {
		return err
	}
	keys := &gateway.Keys{KV: kv, Now: time.Now}
	switch sub {
	case "create":
		rec, secret, err := keys.Create(ctx, *name, *rate, *burst, *jobs)
		if err != nil {
			return err
		}
		fmt.Fprintf(rio.Stdout, "key %s (%s) created; this is the only time it is shown:\n%s\n", rec.ID, rec.Name, secret)
	case "list":
		list, err := keys.List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(rio.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tRATE/S\tBURST\tJOBS\tCREATED\tREVOKED")
		for _, k := range list {
			fmt.Fprintf(tw, "%s\t%s\t%g\t%d\t%d\t%s\t%v\n", k.ID, k.Name, k.Rate, k.Burst, k.ActiveJobs, k.Created.Format(time.RFC3339), k.Revoked)
		}
		return tw.Flush()
	case "revoke":
		if err := keys.Revoke(ctx, id); err != nil {
			return err
		}
		fmt.Fprintf(rio.Stdout, "key %s revoked\n", id)
	}
	return nil
}
