// Package videotest makes synthetic canonical frames for tests and
// benchmarks of the encoders: a moving colour gradient with a bright square
// sliding across it, so frames differ and encoders have real motion to code.
package videotest

import "github.com/fractal-grid/fractal"

// Frames returns count frames of width×height at fps. The same arguments give
// the same bytes.
func Frames(count, width, height, fps int) *fractal.Frames {
	f := fractal.NewFrames(count, width, height, fps)
	side := max(width/8, 2)
	red := make([]byte, width) // the horizontal gradient, before the shift
	for x := range red {
		red[x] = byte(x * 255 / max(width-1, 1))
	}
	for i := range count {
		pix := f.Frame(i)
		sx := (i * width / max(count, 1)) % max(width-side, 1)
		sy := height/2 - side/2
		for y := range height {
			row := pix[y*width*3 : (y+1)*width*3]
			green := byte(y * 255 / max(height-1, 1))
			for x := range width {
				p := row[x*3 : x*3+3 : x*3+3]
				if x >= sx && x < sx+side && y >= sy && y < sy+side {
					p[0], p[1], p[2] = 250, 240, 40
					continue
				}
				p[0] = red[x] + byte(i*8)
				p[1] = green
				p[2] = byte(128 + 127*((x/16+y/16+i)%2))
			}
		}
	}
	return f
}
