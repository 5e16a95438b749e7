package validator

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Corpus is the pool of challenge prompts: sentences composed from the
// engine's vocabulary, so challenges exercise every part of the model, plus
// a little noise at draw time (random made-up words, non-ASCII text) so no
// two challenges share a prompt and a miner cannot precompute them.
type Corpus struct {
	prompts []string
}

// vocabulary classes the corpus draws from (names as refengine.Words uses).
type vocabulary map[string][]string

// NewCorpus composes at least n prompts from words, deterministically.
func NewCorpus(words map[string][]string, n int) (*Corpus, error) {
	v := vocabulary(words)
	for _, class := range []string{"object", "colour", "motion", "backdrop"} {
		if len(v[class]) == 0 {
			return nil, fmt.Errorf("corpus: the vocabulary has no %s words", class)
		}
	}
	r := rand.New(rand.NewPCG(0x5eed, uint64(n)))
	seen := map[string]bool{}
	c := &Corpus{}
	for tries := 0; len(c.prompts) < n && tries < 50*n; tries++ {
		p := v.sentence(r)
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

// Len returns the number of base prompts.
func (c *Corpus) Len() int { return len(c.prompts) }

// Prompts returns the base prompts.
func (c *Corpus) Prompts() []string { return c.prompts }

func (v vocabulary) pick(r *rand.Rand, class string) string {
	words := v[class]
	if len(words) == 0 {
		return ""
	}
	return words[r.IntN(len(words))]
}

// sentence composes one prompt such as "two golden stars spinning over the
// ocean at night, neon".
func (v vocabulary) sentence(r *rand.Rand) string {
	var b strings.Builder
	count := "a"
	if r.IntN(3) == 0 && len(v["count"]) > 0 {
		count = v.pick(r, "count")
	}
	b.WriteString(count)
	if r.IntN(3) == 0 && len(v["size"]) > 0 {
		b.WriteString(" " + v.pick(r, "size"))
	}
	b.WriteString(" " + v.pick(r, "colour") + " " + v.pick(r, "object"))
	b.WriteString(" " + v.pick(r, "motion"))
	if r.IntN(4) == 0 && len(v["direction"]) > 0 {
		b.WriteString(" " + v.pick(r, "direction"))
	}
	b.WriteString([]string{" over the ", " in the ", " across the ", " above the "}[r.IntN(4)] + v.pick(r, "backdrop"))
	if r.IntN(2) == 0 && len(v["time"]) > 0 {
		b.WriteString(" at " + v.pick(r, "time"))
	}
	if r.IntN(3) == 0 && len(v["style"]) > 0 {
		b.WriteString(", " + v.pick(r, "style"))
	}
	return b.String()
}

// nonASCII are fragments in other scripts; the engine hashes unknown words
// into the scene, so they change the video without being vocabulary.
var nonASCII = []string{"über", "café", "мяч", "海", "夜空", "ночь", "étoile", "sōra", "fußball", "☄", "🌊", "árbol", "λάμψη", "星"}

// Draw returns a fresh challenge prompt: a corpus sentence with a random
// made-up word and, sometimes, a non-ASCII fragment.
func (c *Corpus) Draw(r *rand.Rand) string {
	p := c.prompts[r.IntN(len(c.prompts))]
	p += " " + randomWord(r)
	if r.IntN(3) == 0 {
		p += " " + nonASCII[r.IntN(len(nonASCII))]
	}
	return p
}

func randomWord(r *rand.Rand) string {
	const consonants, vowels = "bcdfghjklmnprstvz", "aeiou"
	n := 2 + r.IntN(3)
	b := make([]byte, 0, 2*n)
	for range n {
		b = append(b, consonants[r.IntN(len(consonants))], vowels[r.IntN(len(vowels))])
	}
	return string(b)
}
