package gifvideo

import "image/color"

// The palette is a 6×7×6 RGB cube (green, to which the eye is most
// sensitive, gets the extra level) plus four greys between the cube's own,
// 256 colours in all.
var (
	levelsR = []int{0, 51, 102, 153, 204, 255}
	levelsG = []int{0, 42, 85, 127, 170, 212, 255}
	levelsB = []int{0, 51, 102, 153, 204, 255}
	greys   = []int{28, 68, 148, 188}
)

// Channel weights of the colour distance (a common approximation of how
// strongly the eye separates red, green and blue).
const wR, wG, wB = 3, 4, 2

// lookup maps a 15-bit colour (5 bits a channel, red highest) to a palette
// index.
type lookup [1 << 15]uint8

// buildPalette returns the palette: cube entries in r, g, b order, then the greys.
func buildPalette() color.Palette {
	pal := make(color.Palette, 0, 256)
	for _, r := range levelsR {
		for _, g := range levelsG {
			for _, b := range levelsB {
				pal = append(pal, color.RGBA{uint8(r), uint8(g), uint8(b), 255})
			}
		}
	}
	for _, v := range greys {
		pal = append(pal, color.RGBA{uint8(v), uint8(v), uint8(v), 255})
	}
	return pal
}

// buildLookup builds the table. The distance is a weighted sum over channels, so
// the nearest cube entry is the nearest level of each channel on its own;
// only the greys need comparing against it.
func buildLookup() *lookup {
	var t lookup
	nearR, nearG, nearB := nearestLevels(levelsR), nearestLevels(levelsG), nearestLevels(levelsB)
	cubeBase := len(levelsR) * len(levelsG) * len(levelsB)
	for i := range t {
		r, g, b := expand5(i>>10), expand5(i>>5&31), expand5(i&31)
		ri, gi, bi := nearR[r], nearG[g], nearB[b]
		best := (ri*len(levelsG)+gi)*len(levelsB) + bi
		bestD := dist(r, g, b, levelsR[ri], levelsG[gi], levelsB[bi])
		for k, v := range greys {
			if d := dist(r, g, b, v, v, v); d < bestD {
				best, bestD = cubeBase+k, d
			}
		}
		t[i] = uint8(best)
	}
	return &t
}

// expand5 returns the 8-bit value at the centre of a 5-bit bin.
func expand5(v int) int { return v<<3 | 4 }

func dist(r, g, b, pr, pg, pb int) int {
	dr, dg, db := r-pr, g-pg, b-pb
	return wR*dr*dr + wG*dg*dg + wB*db*db
}

// nearestLevels returns, for every 8-bit value, the index of the nearest level.
func nearestLevels(levels []int) [256]int {
	var near [256]int
	for v := range near {
		best := 0
		for i, l := range levels {
			if abs(v-l) < abs(v-levels[best]) {
				best = i
			}
		}
		near[v] = best
	}
	return near
}

func abs(v int) int { return max(v, -v) }

// bayer4 is the 4×4 ordered-dither threshold matrix, row by row.
var bayer4 = [16]int{0, 8, 2, 10, 12, 4, 14, 6, 3, 11, 1, 9, 15, 7, 13, 5}

// ditherOffsets spreads each Bayer cell over one quantisation step of each
// channel, centred on zero.
func ditherOffsets() [16][3]int {
	var o [16][3]int
	steps := [3]int{255 / (len(levelsR) - 1), 255 / (len(levelsG) - 1), 255 / (len(levelsB) - 1)}
	for k, t := range bayer4 {
		for c, s := range steps {
			o[k][c] = (2*t + 1 - 16) * s / 32
		}
	}
	return o
}
