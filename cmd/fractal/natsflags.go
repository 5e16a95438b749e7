package main

import (
	"context"
	"flag"
	"log/slog"
	"path/filepath"

	"github.com/fractal-grid/fractal/jetstream"
)

// addNATSReplicasFlag registers --nats-replicas, the replica count of every
// stream and bucket on an external NATS cluster.
func addNATSReplicasFlag(fs *flag.FlagSet, v *int) {
	*v = 1
	fs.IntVar(v, "nats-replicas", *v, "`N` replicas of every stream and bucket on the --nats cluster: 1, or 3 on a cluster of at least three servers. "+
		"Every process sharing the cluster must give the same N: a store opened with another count rewrites the streams to it")
}

// openSharedStore opens the embedded store under dir, or the external one
// at url with replicas copies of everything.
func openSharedStore(ctx context.Context, dir, url string, replicas int, logger *slog.Logger) (*jetstream.Store, error) {
	cfg := jetstream.DefaultConfig(filepath.Join(dir, "nats"))
	cfg.Replicas = replicas // more than one without a cluster URL is refused
	if url != "" {
		cfg.DataDir, cfg.URL = "", url
	}
	cfg.Logger = logger
	return jetstream.Open(ctx, cfg)
}
