package refengine

import (
	"testing"
)

func TestVocabulary(t *testing.T) {
	if len(vocabulary) < 60 {
		t.Errorf("got %d vocabulary words, want at least 60", len(vocabulary))
	}
	classes := map[wordClass]int{}
	for i, e := range vocabulary {
		classes[e.class]++
		if i > 0 && vocabulary[i-1].word >= e.word {
			t.Errorf("vocabulary not sorted or duplicated at %q, %q", vocabulary[i-1].word, e.word)
		}
		if got, ok := lookupWord(e.word); !ok || got != e {
			t.Errorf("lookupWord(%q): got %v %v, want %v", e.word, got, ok, e)
		}
	}
	for _, c := range []wordClass{classObject, classColour, classMotion, classBackdrop, classTime, classStyle} {
		if classes[c] < 5 {
			t.Errorf("class %d has %d words, want at least 5", c, classes[c])
		}
	}
}

func TestParseScene(t *testing.T) {
	tests := []struct {
		prompt   string
		shapes   []shapeKind
		counts   []int
		colours  []int
		motions  []motionKind
		backdrop backdropKind
		time     timeKind
		style    styleFlag
	}{
		{"a red ball bouncing over the ocean at night", []shapeKind{shapeBall}, []int{1}, []int{colourRed},
			[]motionKind{motionBounce}, backdropOcean, timeNight, 0},
		{"two yellow stars spinning in a purple sky", []shapeKind{shapeStar}, []int{2}, []int{colourYellow},
			[]motionKind{motionSpin}, backdropSky, timeDay, 0},
		{"Three BIRDS flying left over a foggy forest at sunset", []shapeKind{shapeBird}, []int{3}, []int{colourBlack},
			[]motionKind{motionFly}, backdropForest, timeSunset, styleFoggy},
		{"fishes swimming in the sea", []shapeKind{shapeFish}, []int{3}, []int{colourOrange},
			[]motionKind{motionMove}, backdropOcean, timeDay, 0},
		{"a static green cube and 2 pink hearts, neon, dark", []shapeKind{shapeCube, shapeHeart}, []int{1, 2},
			[]int{colourGreen, colourPink}, []motionKind{motionStill, motionStill}, backdropPlain, timeDay, styleNeon | styleDark},
		{"a car moving right; a white moon rising", []shapeKind{shapeCar, shapeMoon}, []int{1, 1},
			[]int{colourRed, colourWhite}, []motionKind{motionMove, motionRise}, backdropPlain, timeDay, 0},
	}
	for _, tt := range tests {
		t.Run(tt.prompt, func(t *testing.T) {
			sc := parseScene(tt.prompt)
			if got, want := len(sc.objects), len(tt.shapes); got != want {
				t.Fatalf("got %d objects %+v, want %d", got, sc.objects, want)
			}
			for i, o := range sc.objects {
				if o.shape != tt.shapes[i] || o.count != tt.counts[i] || o.colour != palette[tt.colours[i]] || o.motion != tt.motions[i] {
					t.Errorf("object %d: got shape %d count %d colour %v motion %d, want %d %d %v %d", i,
						o.shape, o.count, o.colour, o.motion, tt.shapes[i], tt.counts[i], palette[tt.colours[i]], tt.motions[i])
				}
			}
			if sc.backdrop != tt.backdrop || sc.time != tt.time || sc.style != tt.style {
				t.Errorf("got backdrop %d time %d style %b, want %d %d %b", sc.backdrop, sc.time, sc.style, tt.backdrop, tt.time, tt.style)
			}
		})
	}
	t.Run("still freezes what has no motion of its own", func(t *testing.T) {
		sc := parseScene("a red ball bouncing over still water and a tree")
		if !sc.still || sc.objects[0].motion != motionBounce || sc.objects[1].motion != motionStill {
			t.Errorf("got still %v and motions %d, %d; want true, %d, %d", sc.still, sc.objects[0].motion, sc.objects[1].motion, motionBounce, motionStill)
		}
	})
	t.Run("moving left sets the direction", func(t *testing.T) {
		if sc := parseScene("a fish moving left"); sc.objects[0].dir != dirLeft {
			t.Errorf("got direction %d, want %d", sc.objects[0].dir, dirLeft)
		}
	})
	t.Run("colour before a backdrop tints it", func(t *testing.T) {
		if sc := parseScene("stars in a purple sky"); !sc.tintSet || sc.tint != palette[colourPurple] {
			t.Errorf("got tint %v (set %v), want purple", sc.tint, sc.tintSet)
		}
	})
}

func TestUnknownWords(t *testing.T) {
	base := parseScene("a red ball")
	a := parseScene("a red ball zorblax")
	b := parseScene("a red ball quuxified")
	if base.unknown != 0 || a.unknown == 0 || a.unknown == b.unknown {
		t.Errorf("got unknown hashes %x %x %x, want 0 and two distinct non-zero values", base.unknown, a.unknown, b.unknown)
	}
	if a2 := parseScene("A Red Ball ZORBLAX"); a2.unknown != a.unknown {
		t.Errorf("case changed the scene: got %x, want %x", a2.unknown, a.unknown)
	}
	only := parseScene("zorblax quivering flummoxed")
	if len(only.objects) != 1 {
		t.Errorf("a prompt of unknown words: got %d objects, want 1 made from the words", len(only.objects))
	}
	uni := parseScene("日本の 夜 🌊 ñandú")
	if uni.unknown == 0 || len(uni.objects) != 1 {
		t.Errorf("non-ASCII prompt: got unknown %x and %d objects, want a perturbed scene with one object", uni.unknown, len(uni.objects))
	}
}
