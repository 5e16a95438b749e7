package gifvideo

import "testing"

// TestLookupIsNearest checks the shortcut in buildLookup against a brute
// force search of the whole palette for every 15-bit colour.
func TestLookupIsNearest(t *testing.T) {
	pal := buildPalette()
	lut := buildLookup()
	for i := range lut {
		r, g, b := expand5(i>>10), expand5(i>>5&31), expand5(i&31)
		best := -1
		for _, c := range pal {
			cr, cg, cb, _ := c.RGBA()
			if d := dist(r, g, b, int(cr>>8), int(cg>>8), int(cb>>8)); best < 0 || d < best {
				best = d
			}
		}
		cr, cg, cb, _ := pal[lut[i]].RGBA()
		if got := dist(r, g, b, int(cr>>8), int(cg>>8), int(cb>>8)); got != best {
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
