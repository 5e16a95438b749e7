package main

import (
	"io"
	"log/slog"
	"strings"
	"testing"
)

// TestValidatorOpenRetries: --open-retries sets how often a late opening is
// asked again; a count below 0, or one whose doubling waits outlast the
// miners' retention, is refused with a message naming the flag and the
// range.
func TestValidatorOpenRetries(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
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
			v := NewValidatorCommand(logger)
			err := v.ParseFlags(tc.args, io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := v.Validator.Config.OpenRetries; got != tc.want {
				t.Errorf("got %d retries, want %d", got, tc.want)
			}
		})
	}
}
