package adversary

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/validator"
)

// challengePrompts draws n challenge prompts as the validator writes them.
func challengePrompts(tb testing.TB, n int, seed uint64) []string {
	tb.Helper()
	c, err := validator.NewCorpus(refengine.Words(), 10)
	if err != nil {
		tb.Fatal(err)
	}
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]string, n)
	for i := range out {
		out[i] = c.Draw(r)
	}
	return out
}

// vocabularyPrompts are prompts of the old form: engine words in one
// template and a made-up word.
func vocabularyPrompts(n int) []string {
	w := refengine.Words()
	r := rand.New(rand.NewPCG(3, 4))
	pick := func(class string) string { return w[class][r.IntN(len(w[class]))] }
	out := make([]string, n)
	for i := range out {
		out[i] = "a " + pick("colour") + " " + pick("object") + " " + pick("motion") + " over the " + pick("backdrop") + " " + string(rune('b'+r.IntN(20))) + "avoku"
	}
	return out
}

func TestClassifierAUC(t *testing.T) {
	organic := OrganicPrompts()
	if len(organic) < 150 {
		t.Fatalf("got %d organic prompts, want at least 150", len(organic))
	}
	t.Run("vocabulary prompts are told apart", func(t *testing.T) {
		if auc := ClassifierAUC(refengine.Words(), vocabularyPrompts(len(organic)), organic); auc < 0.95 {
			t.Errorf("AUC %.3f on prompts of the old form, want ≥ 0.95: the classifier should see them", auc)
		}
	})
	t.Run("challenges are not", func(t *testing.T) {
		var sum float64
		const runs = 5
		for s := range uint64(runs) {
			auc := ClassifierAUC(refengine.Words(), challengePrompts(t, len(organic), s), organic)
			t.Logf("seed %d: AUC %.3f", s, auc)
			sum += auc
		}
		if mean := sum / runs; mean > 0.6 {
			t.Errorf("mean AUC %.3f on challenges vs organic prompts, want ≤ 0.6", mean)
		}
		mean, err := MeanClassifierAUC(refengine.Words(), runs)
		if err != nil || math.Abs(mean-sum/runs) > 1e-12 {
			t.Errorf("MeanClassifierAUC = %g (%v), want %g", mean, err, sum/runs)
		}
	})
}

func TestAUC(t *testing.T) {
	for _, tc := range []struct {
		name     string
		pos, neg []float64
		want     float64
	}{
		{"separated", []float64{0.9, 0.8}, []float64{0.1, 0.2}, 1},
		{"reversed", []float64{0.1}, []float64{0.9, 0.8}, 0},
		{"ties", []float64{0.5}, []float64{0.5}, 0.5},
		{"mixed", []float64{0.3, 0.7}, []float64{0.5}, 0.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := AUC(tc.pos, tc.neg); got != tc.want {
				t.Errorf("got %g, want %g", got, tc.want)
			}
		})
	}
}
