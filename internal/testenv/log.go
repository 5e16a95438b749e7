package testenv

import (
	"log/slog"
	"strings"
	"testing"
)

// LogWriter writes each line it is given to tb.Log.
func LogWriter(tb testing.TB) *TBWriter { return &TBWriter{tb} }

// TBWriter is an io.Writer onto a test's log.
type TBWriter struct{ tb testing.TB }

func (w *TBWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// Logger returns a text logger writing records at level and above to tb.Log.
func Logger(tb testing.TB, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(LogWriter(tb), &slog.HandlerOptions{Level: level}))
}
