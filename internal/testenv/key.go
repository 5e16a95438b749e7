package testenv

import (
	"testing"

	"github.com/fractal-grid/fractal/sr25519"
)

// Key derives a development key from a URI such as "//Alice//miner0",
// failing the test on error.
func Key(tb testing.TB, uri string) *sr25519.Keypair {
	tb.Helper()
	k, err := sr25519.FromURI(uri)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}
