package gifvideo

import "testing"

// TestLookupIsNearest checks the shortcut in buildLookup against a brute
// force search of the whole palette for every 15-bit colour.
func TestLookupIsNearest(t *testing.T) {
	var pal [][3]int
	for _, c := range buildPalette() {
		r, g, b, _ := c.RGBA()
		pal = append(pal, [3]int{int(r >> 8), int(g >> 8), int(b >> 8)})
	}
	lut := buildLookup()
	for i := range lut {
		r, g, b := expand5(i>>10), expand5(i>>5&31), expand5(i&31)
		best := -1
		for _, c := range pal {
			if d := dist(r, g, b, c[0], c[1], c[2]); best < 0 || d < best {
				best = d
			}
		}
		c := pal[lut[i]]
		if got := dist(r, g, b, c[0], c[1], c[2]); got != best {
			t.Fatalf("colour (%d,%d,%d): got entry %d at distance %d, want distance %d", r, g, b, lut[i], got, best)
		}
	}
}

func TestDitherOffsetsCentred(t *testing.T) {
	offsets := ditherOffsets()
	for c := range 3 {
		sum := 0
		for k := range offsets {
			sum += offsets[k][c]
		}
		if sum < -16 || sum > 16 {
			t.Errorf("channel %d: offsets sum to %d, want about 0", c, sum)
		}
	}
}
