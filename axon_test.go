package fractal_test

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/fractal-grid/fractal"
)

func TestAxonValidate(t *testing.T) {
	cases := []struct {
		name string
		ip   string
		port uint16
		ok   bool
	}{
		{"Loopback2", "127.0.0.2", 8091, true},
		{"Public", "203.0.113.7", 1, true},
		{"IPv6", "2001:db8::1", 8091, true},
		{"Unspecified", "0.0.0.0", 8091, false},
		{"UnspecifiedV6", "::", 8091, false},
		{"Broadcast", "255.255.255.255", 8091, false},
		{"Multicast", "224.0.0.1", 8091, false},
		{"PortZero", "10.0.0.1", 0, false},
		{"Missing", "", 8091, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := fractal.Axon{Port: tc.port, Protocol: 4}
			if tc.ip != "" {
				a.IP = netip.MustParseAddr(tc.ip)
			}
			err := a.Validate()
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, fractal.ErrInvalid)) {
				t.Errorf("Validate(%s:%d): got %v, want ok=%v or ErrInvalid", tc.ip, tc.port, err, tc.ok)
			}
		})
	}
}

func TestCheckWeights(t *testing.T) {
	cases := []struct {
		name       string
		uids, ws   []uint16
		wantErrors bool
	}{
		{"Valid", []uint16{0, 3}, []uint16{1, 65535}, false},
		{"LengthMismatch", []uint16{0}, []uint16{1, 2}, true},
		{"Empty", nil, nil, true},
		{"Duplicate", []uint16{2, 2}, []uint16{1, 1}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := fractal.CheckWeights(tc.uids, tc.ws)
			if tc.wantErrors != (err != nil) || (err != nil && !errors.Is(err, fractal.ErrInvalid)) {
				t.Errorf("got %v, want error=%v wrapping ErrInvalid", err, tc.wantErrors)
			}
		})
	}
}
