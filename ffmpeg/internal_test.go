package ffmpeg

import (
	"strings"
	"testing"

	"github.com/fractal-grid/fractal/internal/testenv"
)

// TestRunCapturesStderr checks that a failing ffmpeg's error carries what
// ffmpeg printed, on one line.
func TestRunCapturesStderr(t *testing.T) {
	bin := testenv.Tool(t, "ffmpeg")
	e, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.start(t.Context(), bin, []string{"-v", "error", "-i", "fractal-missing-input.raw", "-f", "null", "-"})
	if err != nil {
		t.Fatal(err)
	}
	if err = s.wait(); err == nil {
		t.Fatal("got nil error, want ffmpeg's failure")
	}
	if msg := err.Error(); !strings.Contains(msg, "fractal-missing-input.raw") || strings.Contains(msg, "\n") {
		t.Errorf("got error %q, want one line naming the missing input", msg)
	}
}

func TestTailBuffer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		writes []string
		want   string
	}{
		{"empty", nil, "(no output)"},
		{"short", []string{"a\nb\n"}, "a; b"},
		{"keeps the tail", []string{strings.Repeat("x", 300), "END"}, strings.Repeat("x", 253) + "END"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &tailBuffer{limit: 256}
			for _, w := range tc.writes {
				b.Write([]byte(w))
			}
			if got := b.String(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
