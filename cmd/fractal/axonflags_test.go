package main

import (
	"io"
	"log/slog"
	"testing"
)

// TestPrivateAxonsOffByDefault checks that the validator (and the API it
// serves) and a gateway replica refuse private, loopback and link-local
// axons unless --allow-private-axons is given, as fractal up does.
func TestPrivateAxonsOffByDefault(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	for _, tc := range []struct {
		name string
		args []string
		want bool
	}{
		{"default", nil, false},
		{"flag", []string{"--allow-private-axons"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := NewValidatorCommand(logger)
			if err := v.ParseFlags(tc.args, io.Discard); err != nil {
				t.Fatal(err)
			}
			if v.Validator.Config.AllowPrivateAxons != tc.want || v.Gateway.Config.AllowPrivateAxons != tc.want {
				t.Errorf("validator %v, its API %v; want %v", v.Validator.Config.AllowPrivateAxons, v.Gateway.Config.AllowPrivateAxons, tc.want)
			}
			g := NewGatewayCommand(logger)
			if err := g.ParseFlags(tc.args, io.Discard); err != nil {
				t.Fatal(err)
			}
			if g.Gateway.Config.AllowPrivateAxons != tc.want {
				t.Errorf("gateway %v, want %v", g.Gateway.Config.AllowPrivateAxons, tc.want)
			}
		})
	}
}
