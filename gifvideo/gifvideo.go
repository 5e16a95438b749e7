// Package gifvideo encodes canonical frames as an animated GIF in pure Go, for
// when ffmpeg is not installed. Colours are mapped through a fixed 256-colour
// palette with a 15-bit lookup table built once per Encoder (the standard
// library's Palette.Index searches the palette for every pixel, which is
// about fifty times slower), with ordered dithering so gradients do not band
// and still areas do not flicker between frames.
package gifvideo

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"io"

	"github.com/fractal-grid/fractal"
)

// Config configures an Encoder.
type Config struct {
	// Dither applies a 4×4 ordered (Bayer) dither before quantising. It is
	// positional, so pixels that do not change between frames keep their
	// colour and the animation does not shimmer.
	Dither bool
}

// DefaultConfig returns the settings used by the fractal binary.
func DefaultConfig() Config { return Config{Dither: true} }

// Validate checks the settings (every combination is valid today).
func (c Config) Validate() error { return nil }

// Encoder writes animated GIFs. Its palette and lookup table are built by New
// and never change, so one Encoder is safe for concurrent use.
type Encoder struct {
	cfg     Config
	palette color.Palette
	lut     *lookup
	// offsets[k] is the dither offset of Bayer cell k for each channel.
	offsets [16][3]int
}

// New returns an encoder, building its palette and lookup table.
func New(cfg Config) (*Encoder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("gif config: %w", err)
	}
	e := &Encoder{cfg: cfg, palette: buildPalette(), lut: buildLookup()}
	if cfg.Dither {
		e.offsets = ditherOffsets()
	}
	return e, nil
}

// Palette returns a copy of the palette every frame uses.
func (e *Encoder) Palette() color.Palette { return append(color.Palette(nil), e.palette...) }

// Delays returns the per-frame delays in hundredths of a second for count
// frames at fps. They are rounded so their running sum stays on the true
// timeline (8 fps gives 13, 12, 13, 12, …), and are at least 2 because
// browsers slow shorter delays down to 10.
func Delays(count, fps int) []int {
	d := make([]int, count)
	prev := 0
	for i := range d {
		next := ((i+1)*100*2 + fps) / (2 * fps) // round((i+1)*100/fps)
		d[i] = max(next-prev, 2)
		prev = next
	}
	return d
}

// Encode writes f to w as an animated GIF that loops forever.
func (e *Encoder) Encode(ctx context.Context, w io.Writer, f *fractal.Frames) error {
	if err := f.Validate(); err != nil {
		return fmt.Errorf("encode gif: %w", err)
	}
	g := &gif.GIF{
		Image: make([]*image.Paletted, f.Count),
		Delay: Delays(f.Count, f.FPS),
		Config: image.Config{
			ColorModel: e.palette,
			Width:      f.Width,
			Height:     f.Height,
		},
	}
	rect := image.Rect(0, 0, f.Width, f.Height)
	for i := range f.Count {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("encode gif: %w", err)
		}
		img := image.NewPaletted(rect, e.palette)
		e.Quantize(img, f.Frame(i))
		g.Image[i] = img
	}
	if err := gif.EncodeAll(&ctxWriter{ctx: ctx, w: w}, g); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("encode gif: %w", ctxErr)
		}
		return fmt.Errorf("encode gif: %w", err)
	}
	return nil
}

// Quantize maps one RGB frame (rows of dst's width, 3 bytes a pixel) into
// dst's palette indices.
func (e *Encoder) Quantize(dst *image.Paletted, rgb []byte) {
	w, h := dst.Rect.Dx(), dst.Rect.Dy()
	lut := e.lut
	for y := range h {
		row := dst.Pix[y*dst.Stride : y*dst.Stride+w]
		src := rgb[y*w*3 : (y+1)*w*3]
		cells := e.offsets[(y&3)*4 : (y&3)*4+4]
		for x := range row {
			p := src[x*3 : x*3+3 : x*3+3]
			o := &cells[x&3]
			r := clamp(int(p[0]) + o[0])
			g := clamp(int(p[1]) + o[1])
			b := clamp(int(p[2]) + o[2])
			row[x] = lut[r>>3<<10|g>>3<<5|b>>3]
		}
	}
}

func clamp(v int) int { return min(max(v, 0), 255) }

// ctxWriter stops writing once ctx is done.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c *ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}
