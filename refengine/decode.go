package refengine

import (
	"context"

	"github.com/fractal-grid/fractal"
)

// Upsampling from latent to image pixels: image pixel p = 4k+j lies at latent
// coordinate k + (j+0.5)/4 - 0.5, between latent pixels k+upOff[j] and the
// next one, with weight upW[j] on the next one. The weights are exact binary
// fractions.
var (
	upOff = [latentFactor]int{-1, -1, 0, 0}
	upW   = [latentFactor]float32{0.625, 0.875, 0.125, 0.375}
)

// decodeFrames renders the selected frames of final into out, one frame per
// slice. The picture is the scene rendered at full resolution plus the
// upsampled residual between the final state and the scene at latent
// resolution, plus the state's glow channel.
func (m *model) decodeFrames(ctx context.Context, final []float32, sel []int, out [][]byte) error {
	lw, lh := m.lw, m.lh
	latRow := lw * channels
	res := make([][]float32, len(sel))
	for k := range res {
		res[k] = make([]float32, lh*latRow)
	}
	px := float32(latentFactor) / float32(m.spec.Height)
	invPx := float32(m.spec.Height) / float32(latentFactor)
	err := parallel(ctx, len(sel)*lh, func(r int) {
		k, ly := r/lh, r%lh
		f := sel[k]
		fs := &m.frames[f]
		y := float32((float32(ly) + 0.5) * px)
		src := final[(f*lh+ly)*latRow:]
		dst := res[k][ly*latRow:]
		for lx := 0; lx < lw; lx++ {
			x := float32((float32(lx) + 0.5) * px)
			col, _ := fs.shade(x, y, px, invPx, false)
			o := lx * channels
			dst[o] = src[o] - col[0]
			dst[o+1] = src[o+1] - col[1]
			dst[o+2] = src[o+2] - col[2]
			dst[o+3] = src[o+3]
		}
	})
	if err != nil {
		return err
	}
	w, h := m.spec.Width, m.spec.Height
	return parallel(ctx, len(sel)*h, func(r int) {
		k, py := r/h, r%h
		m.decodeRow(&m.frames[sel[k]], res[k], py, out[k][py*w*3:(py+1)*w*3])
	})
}

// decodeRow renders image row py of one frame from its residual.
func (m *model) decodeRow(fs *frameScene, res []float32, py int, dst []byte) {
	lw, lh := m.lw, m.lh
	latRow := lw * channels
	ky, jy := py/latentFactor, py%latentFactor
	y0 := clampIndex(ky+upOff[jy], lh)
	y1 := clampIndex(ky+upOff[jy]+1, lh)
	wy := upW[jy]
	var rowBuf [(fractal.MaxSide / latentFactor) * channels]float32
	row := rowBuf[:latRow]
	a, b := res[y0*latRow:], res[y1*latRow:]
	for i := range row {
		row[i] = lerp(a[i], b[i], wy)
	}
	invPx := float32(m.spec.Height)
	px := 1 / invPx
	y := float32((float32(py) + 0.5) * px)
	gc := fs.glowCol
	for ix := 0; ix < m.spec.Width; ix++ {
		kx, jx := ix/latentFactor, ix%latentFactor
		x0 := clampIndex(kx+upOff[jx], lw) * channels
		x1 := clampIndex(kx+upOff[jx]+1, lw) * channels
		wx := upW[jx]
		x := float32((float32(ix) + 0.5) * px)
		col, _ := fs.shade(x, y, px, invPx, false)
		glow := max(lerp(row[x0+3], row[x1+3], wx), 0)
		for c := 0; c < 3; c++ {
			v := col[c] + lerp(row[x0+c], row[x1+c], wx) + float32(glow*gc[c])
			dst[ix*3+c] = toByte(v)
		}
	}
}

func clampIndex(i, n int) int {
	if i < 0 {
		return 0
	}
	if i >= n {
		return n - 1
	}
	return i
}

// toByte maps [0,1] to 0..255 with rounding; NaN maps to 0.
func toByte(v float32) byte {
	q := float32(v*255) + 0.5
	if !(q > 0) {
		return 0
	}
	if q >= 255 {
		return 255
	}
	return byte(int32(q))
}
