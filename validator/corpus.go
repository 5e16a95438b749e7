package validator

import (
	"fmt"
	"math/rand/v2"
)

// Corpus writes challenge prompts the way users write them (prompt.go):
// natural sentences, tag lists and camera shots drawn from a large lexicon
// with the engine's vocabulary folded in. Every challenge gets a freshly
// written prompt, so a miner cannot precompute them, and nothing in its
// words or form tells it from a user's.
type Corpus struct {
	phrases *phrases
	prompts []string
}

// vocabulary classes the corpus draws from (names as refengine.Words uses).
type vocabulary map[string][]string

// NewCorpus prepares the writer and composes n distinct sample prompts from
// it, deterministically.
func NewCorpus(words map[string][]string, n int) (*Corpus, error) {
	v := vocabulary(words)
	for _, class := range []string{"object", "colour", "motion", "backdrop"} {
		if len(v[class]) == 0 {
			return nil, fmt.Errorf("corpus: the vocabulary has no %s words", class)
		}
	}
	r := rand.New(rand.NewPCG(0x5eed, uint64(n)))
	seen := map[string]bool{}
	c := &Corpus{phrases: newPhrases(v)}
	for tries := 0; len(c.prompts) < n && tries < 50*n; tries++ {
		p := c.phrases.write(r)
		if !seen[p] {
			seen[p] = true
			c.prompts = append(c.prompts, p)
		}
	}
	if len(c.prompts) < n {
		return nil, fmt.Errorf("corpus: only %d distinct prompts from this vocabulary, want %d", len(c.prompts), n)
	}
	return c, nil
}

// Len returns the number of sample prompts.
func (c *Corpus) Len() int { return len(c.prompts) }

// Prompts returns the sample prompts.
func (c *Corpus) Prompts() []string { return c.prompts }

// Draw writes a fresh challenge prompt.
func (c *Corpus) Draw(r *rand.Rand) string { return c.phrases.write(r) }
