package main

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/fractal-grid/fractal/validator"
)

// TestValidatorOpenRetries: --open-retries sets how often a late opening is
// asked again; a count below 0, or one whose doubling waits outlast the
// miners' retention, is refused with a message naming the flag and the
// range.
func TestValidatorOpenRetries(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		want    int
		wantErr string
	}{
		{"default", nil, 3, ""},
		{"none", []string{"--open-retries", "0"}, 0, ""},
		{"most", []string{"--open-retries", "4"}, 4, ""}, // 30+60+120+240 s within 10 minutes
		{"past retention", []string{"--open-retries", "5"}, 0, "--open-retries must be between 0 and 4"},
		{"negative", []string{"--open-retries", "-1"}, 0, "--open-retries must be between 0 and 4"},
		{"not a number", []string{"--open-retries", "two"}, 0, "open-retries"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := parseValidatorFlags(t, tc.args, tc.wantErr)
			if v == nil {
				return
			}
			if got := v.Validator.Config.OpenRetries; got != tc.want {
				t.Errorf("got %d retries, want %d", got, tc.want)
			}
		})
	}
}

// TestValidatorChallengePath: challenges go through the gateways' queue by
// default when this process runs a gateway (--api-addr), directly
// otherwise; queue without any gateway that could send them, and an unknown
// path, are refused naming the flag.
func TestValidatorChallengePath(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		want    string
		wantErr string
	}{
		{"no gateway", nil, validator.ChallengeDirect, ""},
		{"own gateway", []string{"--api-addr", "127.0.0.1:0"}, validator.ChallengeQueue, ""},
		{"own gateway, direct asked", []string{"--api-addr", "127.0.0.1:0", "--challenge-path", "direct"}, validator.ChallengeDirect, ""},
		{"replicas on nats", []string{"--nats", "nats://127.0.0.1:4222", "--challenge-path", "queue"}, validator.ChallengeQueue, ""},
		{"queue with no gateway", []string{"--challenge-path", "queue"}, "", "--challenge-path queue needs a gateway"},
		{"unknown", []string{"--challenge-path", "sideways"}, "", "challenge-path"},
		{"queue wait past the limit", []string{"--api-addr", "127.0.0.1:0", "--queue-wait", "2m"}, "", "queue-wait"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := parseValidatorFlags(t, tc.args, tc.wantErr)
			if v == nil {
				return
			}
			if got := v.Validator.Config.ChallengePath; got != tc.want {
				t.Errorf("challenge path %q, want %q", got, tc.want)
			}
		})
	}
}

// parseValidatorFlags parses args as fractal validator's flags. With
// wantErr it checks the error names it and returns nil; without, it fails
// the test on any error.
func parseValidatorFlags(t *testing.T, args []string, wantErr string) *ValidatorCommand {
	t.Helper()
	v := NewValidatorCommand(slog.New(slog.DiscardHandler))
	err := v.ParseFlags(args, io.Discard)
	switch {
	case wantErr != "":
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("got error %v, want one containing %q", err, wantErr)
		}
		return nil
	case err != nil:
		t.Fatal(err)
	}
	return v
}
