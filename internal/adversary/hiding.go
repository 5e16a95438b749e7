package adversary

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/validator"
)

// Cheats that hide: each fakes steps only where it hopes not to be looked
// at, and answers honestly otherwise. The plain ones fake every other step
// when they cheat (skip-half); the hard ones (HardName) fake every step,
// keeping only the seeded noise of state 0 and the decode honest, so that
// cheating on about half their jobs still saves 20% or more.
const (
	NameRefuseOpenings = "refuse-openings" // cheats on every job, answers 503 to any opening of a faked step
	NameOrganicOnly    = "organic-only"    // cheats on the jobs its classifier calls users'
	NameUnderLoad      = "under-load"      // cheats while another job is queued or running
)

// HardName names the hard variant of a hiding cheat.
func HardName(name string) string { return name + hardSuffix }

const hardSuffix = "-hard"

// HiddenCheats lists the hiding cheats in report order, the hard variants
// after the plain ones.
func HiddenCheats() []string {
	plain := []string{NameRefuseOpenings, NameOrganicOnly, NameUnderLoad}
	out := slices.Clone(plain)
	for _, n := range plain {
		out = append(out, HardName(n))
	}
	return out
}

// isHiding reports whether name is a hiding cheat.
func isHiding(name string) bool { return slices.Contains(HiddenCheats(), name) }

// Hiding is a hiding cheat as a miner's strategy: on the jobs it picks it
// fakes steps as Skip does, on the others it generates honestly.
type Hiding struct {
	Label string
	Skip  SkipSteps
	// Classifier is the organic-only cheat's: it cheats on a job whose
	// prompt scores under 0.5 (a user's, it guesses).
	Classifier *Classifier

	mu      sync.Mutex
	load    loadProbe // the under-load cheat's view of its miner's queue
	jobs    int
	cheated int
}

// loadProbe tells whether another job was queued or running on the miner
// when spec's job arrived or started.
type loadProbe interface{ loaded(spec fractal.Spec) bool }

// NewHiding returns the named hiding cheat (plain or hard). The
// organic-only one trains its classifier on what such a miner has: half of
// the users' prompts and as many prompts from the public prompt writer,
// drawn with a seed of its own (the validator's draws are its secret).
func NewHiding(name string, stepShare float64, words map[string][]string) (*Hiding, error) {
	base := strings.TrimSuffix(name, hardSuffix)
	if !isHiding(name) {
		return nil, fractal.Errorf("strategy", "%q is not a hiding cheat", name)
	}
	h := &Hiding{Label: name, Skip: SkipSteps{Label: name, Period: 2, Fake: 1, StepShare: stepShare}}
	if base != name { // hard: every step faked
		h.Skip.Period, h.Skip.Fake = 1, 1
	}
	if base == NameOrganicOnly {
		cls, err := trainOrganicClassifier(words)
		if err != nil {
			return nil, err
		}
		h.Classifier = cls
	}
	return h, nil
}

// trainOrganicClassifier trains the organic-only cheat's classifier on the
// even users' prompts and fresh challenges from the public prompt writer.
func trainOrganicClassifier(words map[string][]string) (*Classifier, error) {
	corpus, err := validator.NewCorpus(words, 10)
	if err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(23, 29))
	var train []string
	var labels []bool
	for i, p := range OrganicPrompts() {
		if i%2 == 0 {
			train, labels = append(train, p, corpus.Draw(r)), append(labels, false, true)
		}
	}
	cls := NewClassifier(words)
	cls.Train(train, labels)
	return cls, nil
}

// hides returns the plain name of the cheat: where it hides.
func (h *Hiding) hides() string { return strings.TrimSuffix(h.Label, hardSuffix) }

func (h *Hiding) Name() string { return h.Label }

// cheats decides whether to fake steps on a job of prompt, loaded when
// another job was queued or running.
func (h *Hiding) cheats(prompt string, loaded bool) bool {
	switch h.hides() {
	case NameOrganicOnly:
		return h.Classifier.Challenge(prompt) < 0.5
	case NameUnderLoad:
		return loaded
	}
	return true
}

// refuses reports whether the cheat answers an opening of steps with 503:
// the refuse-openings cheat, for any faked step among them.
func (h *Hiding) refuses(steps []int) bool {
	if h.hides() != NameRefuseOpenings {
		return false
	}
	for _, k := range steps {
		if k%h.Skip.Period < h.Skip.Fake {
			return true
		}
	}
	return false
}

func (h *Hiding) setLoad(p loadProbe) {
	h.mu.Lock()
	h.load = p
	h.mu.Unlock()
}

// Counts returns the jobs served and those it faked steps on.
func (h *Hiding) Counts() (jobs, cheated int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.jobs, h.cheated
}

func (h *Hiding) Produce(ctx context.Context, base *refengine.Engine, spec fractal.Spec) (*fractal.Result, float64, error) {
	h.mu.Lock()
	probe := h.load
	h.mu.Unlock()
	loaded := probe != nil && probe.loaded(spec)
	cheat := h.cheats(spec.Prompt, loaded)
	h.mu.Lock()
	h.jobs++
	if cheat {
		h.cheated++
	}
	h.mu.Unlock()
	if cheat {
		return h.Skip.Produce(ctx, base, spec)
	}
	return Honest{}.Produce(ctx, base, spec)
}
