package refengine

import (
	"hash/fnv"
	"strings"
	"unicode"
)

// object is one noun phrase of the prompt: a shape with its colour, count,
// size and motion.
type object struct {
	shape     shapeKind
	colour    rgb
	count     int
	size      float32
	motion    motionKind
	dir       int
	colourSet bool
	motionSet bool
}

// scene is what the prompt describes. It depends on the prompt only.
type scene struct {
	objects  []object
	backdrop backdropKind
	tint     rgb // backdrop colour from a colour word ("purple sky")
	tintSet  bool
	time     timeKind
	style    styleFlag
	still    bool
	// unknown accumulates the hashes of words outside the vocabulary; it
	// perturbs hues, textures and positions.
	unknown uint64
}

const maxObjects = 8

// tokens splits a prompt into lower-case words of letters and digits.
func tokens(prompt string) []string {
	f := strings.FieldsFunc(prompt, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	for i, w := range f {
		f[i] = strings.ToLower(w)
	}
	return f
}

// lookup finds a word, trying singular forms of plural nouns. plural reports
// whether an -s/-es ending was removed to find an object.
func lookup(w string) (e vocabEntry, plural, ok bool) {
	if e, ok := lookupWord(w); ok {
		return e, false, true
	}
	for _, suffix := range []string{"es", "s"} {
		if base, found := strings.CutSuffix(w, suffix); found && base != "" {
			if e, ok := lookupWord(base); ok && (e.class == classObject || e.class == classBackdrop) {
				return e, e.class == classObject, true
			}
		}
	}
	return vocabEntry{}, false, false
}

// digitCount reads a small decimal count such as "3".
func digitCount(w string) (int, bool) {
	if len(w) == 0 || len(w) > 2 {
		return 0, false
	}
	n := 0
	for _, r := range w {
		if r < '0' || r > '9' {
			return 0, false
		}
		n = n*10 + int(r-'0')
	}
	return n, n > 0
}

func wordHash(w string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(w))
	return h.Sum64()
}

// parser holds the modifiers seen since the last noun.
type parser struct {
	sc      scene
	colour  int
	count   int
	size    int
	motion  motionKind
	dir     int
	hasDir  bool
	firstUK uint64
}

// parseScene turns a prompt into a scene.
func parseScene(prompt string) scene {
	p := parser{colour: -1, size: -1}
	for _, w := range tokens(prompt) {
		if n, ok := digitCount(w); ok {
			p.count = n
			continue
		}
		e, plural, ok := lookup(w)
		if !ok {
			h := wordHash(w)
			if p.firstUK == 0 {
				p.firstUK = h | 1
			}
			p.sc.unknown = mix64(p.sc.unknown ^ h)
			continue
		}
		p.word(e, plural)
	}
	p.finish()
	return p.sc
}

func (p *parser) word(e vocabEntry, plural bool) {
	sc := &p.sc
	switch e.class {
	case classObject:
		p.object(shapeKind(e.value), plural)
	case classColour:
		p.colour = int(e.value)
	case classCount:
		p.count = int(e.value)
	case classSize:
		p.size = int(e.value)
	case classMotion:
		p.setMotion(motionKind(e.value))
	case classDirection:
		p.direction(int(e.value))
	case classBackdrop:
		sc.backdrop = backdropKind(e.value)
		if p.colour >= 0 {
			sc.tint, sc.tintSet = palette[p.colour], true
			p.colour = -1
		}
		p.count = 0
	case classTime:
		sc.time = timeKind(e.value)
	case classStyle:
		sc.style |= styleFlag(e.value)
	}
}

func (p *parser) object(k shapeKind, plural bool) {
	if len(p.sc.objects) == maxObjects {
		return
	}
	o := object{shape: k, colour: palette[shapes[k].colour], count: p.count, size: 1, motion: motionDefault}
	if o.count == 0 {
		o.count = 1
		if plural {
			o.count = 3
		}
	}
	o.count = min(o.count, 6)
	if p.colour >= 0 {
		o.colour, o.colourSet = palette[p.colour], true
	}
	if p.size >= 0 {
		o.size = sizeScale[p.size]
	}
	if p.motion != motionDefault {
		o.motion, o.motionSet = p.motion, true
	}
	if p.hasDir {
		o.dir = p.dir
		if !o.motionSet {
			o.motion = motionMove
		}
	}
	p.sc.objects = append(p.sc.objects, o)
	p.colour, p.count, p.size, p.motion, p.hasDir = -1, 0, -1, motionDefault, false
}

func (p *parser) last() *object {
	if n := len(p.sc.objects); n > 0 {
		return &p.sc.objects[n-1]
	}
	return nil
}

func (p *parser) setMotion(m motionKind) {
	if m == motionStill {
		p.sc.still = true
	}
	if o := p.last(); o != nil && !o.motionSet {
		o.motion, o.motionSet = m, true
		return
	}
	p.motion = m
}

func (p *parser) direction(d int) {
	o := p.last()
	if o == nil || !o.motionSet {
		p.dir, p.hasDir = d, true
		return
	}
	switch {
	case o.motion == motionMove || o.motion == motionFly:
		o.dir = d
	case d == dirUp && o.motion != motionBounce:
		o.motion = motionRise
	case d == dirDown && o.motion != motionBounce:
		o.motion = motionFall
	}
}

// finish applies dangling modifiers and makes an object out of unknown words
// when the prompt names none.
func (p *parser) finish() {
	sc := &p.sc
	if o := p.last(); o != nil {
		if p.colour >= 0 && !o.colourSet {
			o.colour, o.colourSet = palette[p.colour], true
			p.colour = -1
		}
		if p.hasDir && (o.motion == motionMove || o.motion == motionFly || o.motion == motionDefault) {
			o.dir = p.dir
			if o.motion == motionDefault {
				o.motion = motionMove
			}
		}
	}
	if len(sc.objects) == 0 && p.firstUK != 0 {
		h := p.firstUK
		o := object{shape: shapeKind(h % uint64(numShapes)), count: 1, size: 1, motion: motionKind(h >> 8 % uint64(numMotions))}
		o.colour = palette[int(h>>16%numColours)]
		if p.colour >= 0 {
			o.colour = palette[p.colour]
		}
		if o.motion == motionStill && !sc.still {
			o.motion = motionDefault
		}
		sc.objects = append(sc.objects, o)
	} else if p.colour >= 0 && !sc.tintSet {
		sc.tint, sc.tintSet = palette[p.colour], true
	}
	if sc.still {
		for i := range sc.objects {
			if !sc.objects[i].motionSet || sc.objects[i].motion == motionDefault {
				sc.objects[i].motion = motionStill
			}
		}
	}
}
