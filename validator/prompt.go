package validator

import (
	"math/rand/v2"
	"strings"
)

// A prompt is written the ways people write them to a video model: a
// sentence, a run of comma-separated tags, a camera shot "of" something, a
// scene alone; short or long, capitalised or not. Each form below draws its
// slots from the lexicon, and the reference engine's own words (its colours,
// objects, motions, backdrops) join the lexicon's, so the model is exercised
// as users exercise it.

// phrases is the lexicon with the engine's vocabulary folded in.
type phrases struct {
	subjects, groups, actions, settings, times, styles, cameras, moves, scenes, adjectives []string
}

func newPhrases(v vocabulary) *phrases {
	p := &phrases{
		subjects: lexSubjects, groups: lexGroups, actions: lexActions, settings: lexSettings, times: lexTimes,
		styles: lexStyles, cameras: lexCameras, moves: lexCameraMoves, scenes: lexScenes, adjectives: lexAdjectives,
	}
	p.subjects = union(p.subjects, v["object"])
	p.adjectives = union(p.adjectives, v["colour"])
	p.actions = union(p.actions, ingForms(v["motion"]))
	for _, b := range v["backdrop"] {
		p.settings = union(p.settings, []string{"over the " + b, "in the " + b})
	}
	for _, t := range v["time"] {
		p.times = union(p.times, []string{"at " + t})
	}
	return p
}

// union appends the words of more that all does not hold.
func union(all, more []string) []string {
	seen := make(map[string]bool, len(all))
	for _, w := range all {
		seen[w] = true
	}
	out := append([]string(nil), all...)
	for _, w := range more {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// ingForms keeps the motions that read as an action ("spinning").
func ingForms(words []string) []string {
	var out []string
	for _, w := range words {
		if strings.HasSuffix(w, "ing") {
			out = append(out, w)
		}
	}
	return out
}

// pick draws a phrase, the first ones in a list more often than the last:
// a few subjects and actions (a cat, a man; walking, flying) are most of
// what people ask for, and the lexicon lists them first.
func pick(r *rand.Rand, words []string) string {
	u := r.Float64()
	return words[int(u*u*float64(len(words)))]
}

// subject returns "a fluffy corgi" or "two dancers", and whether it is
// plural.
func (p *phrases) subject(r *rand.Rand) (string, bool) {
	if r.IntN(6) == 0 {
		return pick(r, p.groups), true
	}
	s := pick(r, p.subjects)
	if r.IntN(3) == 0 {
		s = pick(r, p.adjectives) + " " + s
	}
	if r.IntN(8) == 0 {
		return "the " + s, false
	}
	return article(s) + " " + s, false
}

func article(s string) string {
	if s != "" && strings.ContainsRune("aeiouAEIOU", rune(s[0])) {
		return "an"
	}
	return "a"
}

// tags returns up to n distinct style tags joined by ", ".
func (p *phrases) tags(r *rand.Rand, n int) string {
	var out []string
	for range n {
		t := pick(r, p.styles)
		if !strings.Contains(strings.Join(out, ","), t) {
			out = append(out, t)
		}
	}
	return strings.Join(out, ", ")
}

// write composes one prompt.
func (p *phrases) write(r *rand.Rand) string {
	subj, plural := p.subject(r)
	var s string
	switch form := r.IntN(100); {
	case form < 40: // "a fox running through the snow at dawn"
		s = subj + " " + pick(r, p.actions)
		if r.IntN(4) != 0 {
			s += " " + pick(r, p.settings)
		}
		if r.IntN(3) == 0 {
			s += " " + pick(r, p.times)
		}
		s += p.extra(r)
	case form < 52: // "drone shot of a red car on a coastal road"
		s = pick(r, p.cameras) + " of " + subj + " " + p.maybe(r, p.actions) + pick(r, p.settings)
		if r.IntN(4) == 0 {
			s += " " + pick(r, p.times)
		}
	case form < 62: // "a lighthouse on a cliff during a storm"
		s = subj + " " + pick(r, p.settings)
		if r.IntN(2) == 0 {
			s += " " + pick(r, p.times)
		}
		s += p.extra(r)
	case form < 64: // "An old man is sitting on a bench. The camera slowly zooms in"
		verb := " is "
		if plural {
			verb = " are "
		}
		s = capitalise(subj) + verb + pick(r, p.actions) + " " + pick(r, p.settings)
		if r.IntN(2) == 0 {
			s += ". The camera " + pick(r, p.moves)
		}
	case form < 75: // "samurai in a bamboo forest, fog, cinematic, 4k"
		parts := []string{strings.TrimPrefix(strings.TrimPrefix(subj, "a "), "an ") + " " + pick(r, p.settings)}
		if r.IntN(2) == 0 {
			parts = append(parts, strings.TrimPrefix(pick(r, p.times), "at "))
		}
		parts = append(parts, p.tags(r, 1+r.IntN(3)))
		s = strings.Join(parts, ", ")
	case form < 87: // "timelapse of clouds rolling over mountains"
		s = pick(r, []string{"timelapse of ", "slow motion ", "", "", "", "a video of ", "close up of "}) + pick(r, p.scenes)
		s += p.extra(r)
	case form < 92: // "cinematic shot of a knight riding a horse"
		s = pick(r, p.styles) + " " + pick(r, []string{"shot", "video", "scene", "footage"}) + " of " + subj + " " + pick(r, p.actions)
		if r.IntN(2) == 0 {
			s += " " + pick(r, p.settings)
		}
	default: // "cat dancing"
		s = strings.TrimPrefix(strings.TrimPrefix(subj, "a "), "an ") + " " + pick(r, p.actions)
	}
	if r.IntN(5) == 0 {
		s = capitalise(s)
	}
	return s
}

// extra sometimes ends a prompt with "in slow motion" or a tag or two.
func (p *phrases) extra(r *rand.Rand) string {
	switch r.IntN(8) {
	case 0:
		return " in slow motion"
	case 1:
		return " with " + pick(r, lexWith)
	case 2, 3:
		return ", " + p.tags(r, 1+r.IntN(2))
	}
	return ""
}

// maybe returns an action and a space, or nothing.
func (p *phrases) maybe(r *rand.Rand, words []string) string {
	if r.IntN(2) == 0 {
		return ""
	}
	return pick(r, words) + " "
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
