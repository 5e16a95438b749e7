package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/devchain"
	"github.com/fractal-grid/fractal/subtensor"
)

// defaultChainURL is where 'fractal devchain' listens by default.
const defaultChainURL = "http://127.0.0.1:9945"

// chainURLFromEnv returns $FRACTAL_CHAIN or the local devchain's URL, the
// default of every --chain flag.
func chainURLFromEnv() string {
	if v := os.Getenv("FRACTAL_CHAIN"); v != "" {
		return v
	}
	return defaultChainURL
}

// openChain returns the chain client for rawURL:
//
//	http://HOST:PORT, https://…  a devchain served by 'fractal devchain'
//	ws://HOST:PORT, wss://…      a subtensor node (Substrate JSON-RPC)
//
// Close the result with closeChain.
func openChain(ctx context.Context, rawURL string, logger *slog.Logger) (fractal.Chain, error) {
	if rawURL == "" {
		return nil, usageErrorf("--chain is required: %s for a local devchain, ws://HOST:9944 for a subtensor node", defaultChainURL)
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return nil, usageErrorf("--chain %q is not a URL like %s or ws://HOST:9944", rawURL, defaultChainURL)
	}
	switch u.Scheme {
	case "http", "https":
		c := devchain.NewClient(rawURL)
		c.Logger = logger
		return c, nil
	case "ws", "wss":
		cfg := subtensor.DefaultConfig()
		cfg.URL = rawURL
		c, err := subtensor.New(cfg, logger)
		if err != nil {
			return nil, fmt.Errorf("--chain %s: %w", rawURL, err)
		}
		return c, nil
	default:
		return nil, usageErrorf("--chain %q: unknown scheme %q; use http:// for a devchain or ws:// for a subtensor node", rawURL, u.Scheme)
	}
}

// closeChain releases a chain client opened by openChain.
func closeChain(c fractal.Chain) {
	if cl, ok := c.(io.Closer); ok {
		cl.Close()
	}
}

// devchainAdmin returns the devchain admin surface of c, or an error naming
// the command that needs a devchain.
func devchainAdmin(c fractal.Chain, what string) (devchain.Admin, error) {
	a, ok := c.(devchain.Admin)
	if !ok {
		return nil, fmt.Errorf("%s works on a devchain only (--chain http://…); on a real chain use btcli: %w", what, fractal.ErrInvalid)
	}
	return a, nil
}
