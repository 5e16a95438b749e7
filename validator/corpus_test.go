package validator

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/fractal-grid/fractal/refengine"
)

func TestCorpus(t *testing.T) {
	t.Run("distinct prompts", func(t *testing.T) {
		c, err := NewCorpus(refengine.Words(), 600)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Len(); got != 600 {
			t.Fatalf("got %d prompts, want 600", got)
		}
		r := rand.New(rand.NewPCG(1, 2))
		seen := map[string]bool{}
		for range 1000 {
			p := c.Draw(r)
			if strings.TrimSpace(p) == "" || strings.ContainsAny(p, "\n\t") {
				t.Fatalf("got prompt %q, want one line of text", p)
			}
			seen[p] = true
		}
		if len(seen) < 900 {
			t.Errorf("got %d distinct prompts in 1000 draws, want at least 900", len(seen))
		}
	})
	t.Run("missing class", func(t *testing.T) {
		w := refengine.Words()
		delete(w, "motion")
		if _, err := NewCorpus(w, 10); err == nil || !strings.Contains(err.Error(), "motion") {
			t.Errorf("got %v, want an error naming the missing class", err)
		}
	})
}
