package security_test

import (
	"testing"

	"github.com/fractal-grid/fractal/gateway"
	"github.com/fractal-grid/fractal/internal/gatewaytest"
	"github.com/fractal-grid/fractal/internal/gridtest"
)

// startGateway serves a gateway over g's miners on an embedded store and
// returns it with an API key.
func startGateway(t *testing.T, g *gridtest.Grid, allowPrivate bool) (*gateway.Gateway, string) {
	t.Helper()
	gw := gatewaytest.Start(t, g, func(gw *gateway.Gateway) { gw.Config.AllowPrivateAxons = allowPrivate })
	return gw, gatewaytest.APIKey(t, gw, "security", 100, 100, 8)
}
