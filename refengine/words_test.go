package refengine

import "testing"

func TestWords(t *testing.T) {
	w := Words()
	total := 0
	for _, class := range []string{WordObject, WordColour, WordMotion, WordBackdrop, WordTime, WordStyle, WordCount} {
		if len(w[class]) == 0 {
			t.Errorf("no %s words", class)
		}
		total += len(w[class])
	}
	if total < 60 {
		t.Errorf("got %d content words, want at least 60", total)
	}
}
