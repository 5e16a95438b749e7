package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/fractal-grid/fractal"
)

// progressBar draws "generating [#####-----] 10/20 steps" on one terminal
// line, redrawn with a carriage return. Disabled, it draws nothing, so
// redirected stderr stays free of control characters.
type progressBar struct {
	w       io.Writer
	enabled bool
	width   int // characters between the brackets
	drawn   bool
	last    int
}

func newProgressBar(w io.Writer, enabled bool) *progressBar {
	return &progressBar{w: w, enabled: enabled, width: 30, last: -1}
}

// Update draws p; it is called from the generating goroutine.
func (b *progressBar) Update(p fractal.Progress) {
	if !b.enabled || p.Steps <= 0 || p.Step == b.last {
		return
	}
	b.last = p.Step
	done := min(max(p.Step*b.width/p.Steps, 0), b.width)
	fmt.Fprintf(b.w, "\rgenerating [%s%s] %d/%d steps", strings.Repeat("#", done), strings.Repeat("-", b.width-done), p.Step, p.Steps)
	b.drawn = true
}

// Done ends the bar's line.
func (b *progressBar) Done() {
	if b.drawn {
		fmt.Fprintln(b.w)
		b.drawn = false
	}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
