package gateway

import (
	"net/netip"
	"strings"

	"github.com/fractal-grid/fractal"
)

// privateHost reports whether a URL host names this machine or a private
// network: an IP literal that is not public, or localhost.
func privateHost(host string) bool {
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return !fractal.IsPublicIP(ip)
	}
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	return h == "localhost" || strings.HasSuffix(h, ".localhost")
}
