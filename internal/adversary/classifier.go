package adversary

import (
	_ "embed"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/fractal-grid/fractal/validator"
)

// OrganicPrompts are prompts written as users write them to a video model,
// one a line: the other class a challenge classifier is trained and
// measured on.
func OrganicPrompts() []string {
	var out []string
	for _, l := range strings.Split(organicPrompts, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

//go:embed organic_prompts.txt
var organicPrompts string

// Classifier is what a miner that cheats only on users' jobs would train to
// tell a challenge from a user's prompt: logistic regression over a bag of
// words (lower-cased words and word pairs) and a few features of form —
// length, commas, a capital first letter, a final full stop, the share of
// words the reference engine knows, non-ASCII text. It says how well a
// miner could tell; the validator's challenges should leave it guessing.
type Classifier struct {
	known   map[string]bool // the engine's vocabulary
	weights map[string]float64
	bias    float64
}

// NewClassifier returns an untrained classifier that knows the engine's
// vocabulary (refengine.Words).
func NewClassifier(words map[string][]string) *Classifier {
	known := map[string]bool{}
	for _, ws := range words {
		for _, w := range ws {
			known[w] = true
		}
	}
	return &Classifier{known: known, weights: map[string]float64{}}
}

// feature is one feature of a prompt and its value.
type feature struct {
	key   string
	value float64
}

// features returns the prompt's features and their values, sorted by key:
// a score summed in one order is the same in every run, where a map's
// order would move its last bits and, with them, ties between prompts.
func (c *Classifier) features(prompt string) []feature {
	f := map[string]float64{}
	words := strings.FieldsFunc(strings.ToLower(prompt), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' })
	var known float64
	for i, w := range words {
		f["w:"+w] = 1
		if i > 0 {
			f["b:"+words[i-1]+" "+w] = 1
		}
		if c.known[w] {
			known++
		}
	}
	n := float64(max(len(words), 1))
	f["#len"] = n / 10
	f["#commas"] = float64(strings.Count(prompt, ",")) / 3
	f["#known"] = known / n
	if prompt != "" && unicode.IsUpper([]rune(prompt)[0]) {
		f["#capital"] = 1
	}
	if strings.HasSuffix(strings.TrimSpace(prompt), ".") {
		f["#stop"] = 1
	}
	for _, r := range prompt {
		if r > unicode.MaxASCII {
			f["#nonascii"] = 1
			break
		}
	}
	out := make([]feature, 0, len(f))
	for k, v := range f {
		out = append(out, feature{k, v})
	}
	slices.SortFunc(out, func(a, b feature) int { return strings.Compare(a.key, b.key) })
	return out
}

// Train fits the classifier: label true for a challenge. It runs full-batch
// gradient descent with L2 regularisation for a fixed number of epochs, so
// it is deterministic.
func (c *Classifier) Train(prompts []string, challenge []bool) {
	xs := make([][]feature, len(prompts))
	for i, p := range prompts {
		xs[i] = c.features(p)
	}
	const epochs, rate, l2 = 300, 0.5, 1e-3
	n := float64(len(prompts))
	for range epochs {
		grad := map[string]float64{}
		var gb float64
		for i, x := range xs {
			y := 0.0
			if challenge[i] {
				y = 1
			}
			e := c.prob(x) - y
			for _, f := range x {
				grad[f.key] += e * f.value
			}
			gb += e
		}
		for k, g := range grad {
			c.weights[k] -= rate * (g/n + l2*c.weights[k])
		}
		c.bias -= rate * gb / n
	}
}

func (c *Classifier) prob(x []feature) float64 {
	z := c.bias
	for _, f := range x {
		z += c.weights[f.key] * f.value
	}
	return 1 / (1 + math.Exp(-z))
}

// Challenge returns the classifier's probability that prompt is a
// challenge.
func (c *Classifier) Challenge(prompt string) float64 { return c.prob(c.features(prompt)) }

// AUC is the area under the ROC curve of scores for positives against
// negatives: the chance a random positive scores above a random negative
// (ties count half). 0.5 is guessing, 1 telling them apart every time.
func AUC(positives, negatives []float64) float64 {
	if len(positives) == 0 || len(negatives) == 0 {
		return math.NaN()
	}
	neg := append([]float64(nil), negatives...)
	sort.Float64s(neg)
	var sum float64
	for _, p := range positives {
		below := sort.SearchFloat64s(neg, p)
		ties := sort.SearchFloat64s(neg, math.Nextafter(p, math.Inf(1))) - below
		sum += float64(below) + float64(ties)/2
	}
	return sum / float64(len(positives)*len(negatives))
}

// ClassifierAUC trains a classifier on half of challenges and half of
// organic prompts (alternate ones) and returns its AUC on the other halves.
func ClassifierAUC(words map[string][]string, challenges, organic []string) float64 {
	var train []string
	var labels []bool
	var testC, testO []string
	for i, p := range challenges {
		if i%2 == 0 {
			train, labels = append(train, p), append(labels, true)
		} else {
			testC = append(testC, p)
		}
	}
	for i, p := range organic {
		if i%2 == 0 {
			train, labels = append(train, p), append(labels, false)
		} else {
			testO = append(testO, p)
		}
	}
	c := NewClassifier(words)
	c.Train(train, labels)
	score := func(ps []string) []float64 {
		out := make([]float64, len(ps))
		for i, p := range ps {
			out[i] = c.Challenge(p)
		}
		return out
	}
	return AUC(score(testC), score(testO))
}

// MeanClassifierAUC is ClassifierAUC over draws fresh sets of challenges
// (as many as users' prompts), averaged: one set of 80 test prompts a
// class has a standard error of about 0.045.
func MeanClassifierAUC(words map[string][]string, draws int) (float64, error) {
	organic := OrganicPrompts()
	corpus, err := validator.NewCorpus(words, 10)
	if err != nil {
		return 0, err
	}
	var sum float64
	for d := range draws {
		r := rand.New(rand.NewPCG(uint64(d), 1))
		challenges := make([]string, len(organic))
		for i := range challenges {
			challenges[i] = corpus.Draw(r)
		}
		sum += ClassifierAUC(words, challenges, organic)
	}
	return sum / float64(max(draws, 1)), nil
}
