// Package framesfile reads and writes the canonical frames file, the one
// lossless, verifiable video format of the grid: miners answer with it,
// gateways store and serve it, validators check it against commitments. It
// depends only on the domain package and zstd, so that a client of the
// miner protocol does not pull in the encoders of package video.
package framesfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"

	"github.com/fractal-grid/fractal"
)

// The canonical frames file: a fixed 64-byte header, then the pixels
// (frames×height×width×3 bytes, as fractal.Frames holds them) through a
// filter, as one zstd stream. All integers are big-endian.
//
//	offset size field
//	     0    8 magic "FRCTFRM1"
//	     8    4 frames
//	    12    4 height
//	    16    4 width
//	    20    4 channels (3)
//	    24    4 fps
//	    28    1 compression (1 = zstd)
//	    29    1 filter: 0 none; 1 sub, each byte minus the same channel of
//	                the pixel to its left (as PNG's Sub), row by row
//	    30    2 reserved, zero
//	    32   32 digest: fractal.Frames.Digest of the decoded frames
//
// The digest comes first so a reader can compare it with a commitment
// before reading the pixels, and checks it after. The sub filter makes
// reference-engine videos compress about twice as well.
const (
	Magic       = "FRCTFRM1"
	HeaderSize  = 64
	ContentType = "application/vnd.fractal.frames"

	compressionZstd = 1
	filterNone      = 0
	filterSub       = 1
	// zstdWindow bounds the memory a decoder needs; the encoder stays within it.
	zstdWindow = 4 << 20
)

// Encoders and decoders are reused: making one allocates its tables and
// window, about a third of the time a default video takes to compress. A
// sync.Pool would not do: a generation allocates enough to run the
// collector between two videos, and the collector empties pools.
var (
	encoders = newCache(2, func() (*zstd.Encoder, error) {
		return zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(zstdWindow),
			zstd.WithEncoderLevel(zstd.SpeedFastest))
	})
	decoders = newCache(2, func() (*zstd.Decoder, error) {
		return zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(zstdWindow))
	})
)

// cache keeps up to a fixed number of idle values.
type cache[T any] struct {
	idle  chan T
	fresh func() (T, error)
}

func newCache[T any](n int, fresh func() (T, error)) *cache[T] {
	return &cache[T]{idle: make(chan T, n), fresh: fresh}
}

// get returns an idle value or a fresh one.
func (c *cache[T]) get() (T, error) {
	select {
	case v := <-c.idle:
		return v, nil
	default:
		return c.fresh()
	}
}

// put keeps v for the next get, or drops it when enough are idle.
func (c *cache[T]) put(v T) {
	select {
	case c.idle <- v:
	default:
	}
}

// MaxPixelBytes is the pixel size of the largest Spec: 64 frames of
// 1024×1024 RGB. Unmarshal uses it when given no smaller limit.
const MaxPixelBytes = int64(fractal.MaxFrames) * fractal.MaxSide * fractal.MaxSide * 3

// Header is the header of a frames file.
type Header struct {
	Count, Height, Width, FPS int
	Digest                    fractal.Digest
	filter                    byte
}

// PixelBytes returns the size of the pixels the header announces.
func (h Header) PixelBytes() int64 {
	return int64(h.Count) * int64(h.Height) * int64(h.Width) * 3
}

// Marshal writes f as a frames file.
func Marshal(w io.Writer, f *fractal.Frames) error {
	return MarshalDigest(w, f, f.Digest())
}

// MarshalDigest is Marshal for a caller that already holds the
// frames' digest d (it must be f.Digest()), saving a pass over the pixels.
func MarshalDigest(w io.Writer, f *fractal.Frames, d fractal.Digest) error {
	c, err := Compress(f)
	if err != nil {
		return err
	}
	return c.Write(w, d)
}

// Compressed is a frames file without its digest: the pixels
// filtered and compressed. It lets a caller compress while it hashes.
type Compressed struct {
	Count, Height, Width, FPS int
	body                      []byte // one zstd stream
}

// Compress filters and compresses f's pixels.
func Compress(f *fractal.Frames) (*Compressed, error) {
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("write frames: %w", err)
	}
	zw, err := encoders.get()
	if err != nil {
		return nil, fmt.Errorf("write frames: %w", err)
	}
	var body bytes.Buffer
	body.Grow(len(f.Pix) / 4)
	zw.Reset(&body)
	row := make([]byte, f.Width*3)
	for i := range f.Count * f.Height {
		subFilter(row, f.Pix[i*len(row):(i+1)*len(row)])
		if _, err := zw.Write(row); err != nil {
			return nil, fmt.Errorf("write frames: %w", err) // the encoder is dropped
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("write frames: %w", err)
	}
	zw.Reset(nil)
	encoders.put(zw)
	return &Compressed{Count: f.Count, Height: f.Height, Width: f.Width, FPS: f.FPS, body: body.Bytes()}, nil
}

// Len returns the size of the frames file c.Write writes.
func (c *Compressed) Len() int { return HeaderSize + len(c.body) }

// Write writes c as a frames file with the digest d of its frames.
func (c *Compressed) Write(w io.Writer, d fractal.Digest) error {
	var hdr [HeaderSize]byte
	copy(hdr[:8], Magic)
	for i, v := range []int{c.Count, c.Height, c.Width, 3, c.FPS} {
		binary.BigEndian.PutUint32(hdr[8+4*i:], uint32(v))
	}
	hdr[28] = compressionZstd
	hdr[29] = filterSub
	copy(hdr[32:], d[:])
	if _, err := w.Write(hdr[:]); err != nil {
		return fmt.Errorf("write frames: %w", err)
	}
	if _, err := w.Write(c.body); err != nil {
		return fmt.Errorf("write frames: %w", err)
	}
	return nil
}

// ReadHeader reads and checks the header of a frames file, leaving r
// at the start of the compressed pixels. Malformed headers are errors
// wrapping fractal.ErrInvalid; shapes over maxBytes of pixels (or
// MaxPixelBytes when maxBytes ≤ 0) wrap fractal.ErrTooLarge.
func ReadHeader(r io.Reader, maxBytes int64) (Header, error) {
	var b [HeaderSize]byte
	if n, err := io.ReadFull(r, b[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return Header{}, fmt.Errorf("frames file: truncated header (%d of %d bytes): %w", n, HeaderSize, fractal.ErrInvalid)
		}
		return Header{}, fmt.Errorf("frames file: %w", err)
	}
	if string(b[:8]) != Magic {
		return Header{}, fmt.Errorf("frames file: bad magic %q, want %q: %w", b[:8], Magic, fractal.ErrInvalid)
	}
	u := func(off int) uint32 { return binary.BigEndian.Uint32(b[off:]) }
	switch {
	case u(20) != 3:
		return Header{}, fmt.Errorf("frames file: %d channels, want 3: %w", u(20), fractal.ErrInvalid)
	case b[28] != compressionZstd:
		return Header{}, fmt.Errorf("frames file: unknown compression %d: %w", b[28], fractal.ErrInvalid)
	case b[29] != filterNone && b[29] != filterSub:
		return Header{}, fmt.Errorf("frames file: unknown filter %d: %w", b[29], fractal.ErrInvalid)
	case b[30] != 0 || b[31] != 0:
		return Header{}, fmt.Errorf("frames file: reserved header bytes are not zero: %w", fractal.ErrInvalid)
	}
	// Check each field against the limits before any arithmetic on them.
	for _, lim := range []struct {
		name     string
		v        uint32
		min, max int
	}{
		{"frames", u(8), fractal.MinFrames, fractal.MaxFrames},
		{"height", u(12), 1, fractal.MaxSide},
		{"width", u(16), 1, fractal.MaxSide},
		{"fps", u(24), fractal.MinFPS, fractal.MaxFPS},
	} {
		if lim.v < uint32(lim.min) || lim.v > uint32(lim.max) {
			return Header{}, fmt.Errorf("frames file: %s must be between %d and %d, got %d: %w", lim.name, lim.min, lim.max, lim.v, fractal.ErrInvalid)
		}
	}
	h := Header{Count: int(u(8)), Height: int(u(12)), Width: int(u(16)), FPS: int(u(24)), filter: b[29]}
	copy(h.Digest[:], b[32:])
	if maxBytes <= 0 {
		maxBytes = MaxPixelBytes
	}
	if h.PixelBytes() > maxBytes {
		return Header{}, fmt.Errorf("frames file: %dx%dx%d frames need %d bytes, limit %d: %w",
			h.Count, h.Width, h.Height, h.PixelBytes(), maxBytes, fractal.ErrTooLarge)
	}
	return h, nil
}

// Unmarshal reads a whole frames file from r: the frames must be all
// that r holds. It allocates at most maxBytes of pixels (MaxPixelBytes when
// maxBytes ≤ 0) and reads a bounded amount of compressed input. Truncated,
// malformed or trailing data wraps fractal.ErrInvalid, oversized input
// fractal.ErrTooLarge, and pixels that do not hash to the header's digest
// fractal.ErrMismatch.
func Unmarshal(r io.Reader, maxBytes int64) (*fractal.Frames, error) {
	h, err := ReadHeader(r, maxBytes)
	if err != nil {
		return nil, err
	}
	f := fractal.NewFrames(h.Count, h.Width, h.Height, h.FPS)
	lr := &boundedReader{r: r, left: maxCompressed(h.PixelBytes())}
	zr, err := decoders.get()
	if err != nil {
		return nil, fmt.Errorf("frames file: %w", err)
	}
	if err := zr.Reset(lr); err != nil {
		return nil, fmt.Errorf("frames file: %w", err)
	}
	defer func() {
		zr.Reset(nil)
		decoders.put(zr)
	}()
	// Hash each frame on another goroutine while the next one is
	// decompressed: the digest costs no time of its own on two CPUs.
	ready := make(chan []byte, 2)
	sum := make(chan fractal.Digest, 1)
	go func() {
		hash := f.DigestHash()
		for frame := range ready {
			hash.Write(frame)
		}
		var d fractal.Digest
		hash.Sum(d[:0])
		sum <- d
	}()
	err = readPixels(zr, lr, f, h.filter, ready)
	close(ready)
	got := <-sum
	if err != nil {
		return nil, err
	}
	if got != h.Digest {
		return nil, fmt.Errorf("frames file: pixels hash to %s, header says %s: %w", got, h.Digest, fractal.ErrMismatch)
	}
	return f, nil
}

// readPixels decompresses f's pixels frame by frame, undoes the filter and
// hands each finished frame to ready, then checks that the stream ends.
func readPixels(zr io.Reader, lr *boundedReader, f *fractal.Frames, filter byte, ready chan<- []byte) error {
	rowBytes := f.Width * 3
	for i := range f.Count {
		frame := f.Frame(i)
		if _, err := io.ReadFull(zr, frame); err != nil {
			return pixelError(lr, err)
		}
		if filter == filterSub {
			for r := 0; r < len(frame); r += rowBytes {
				unSubFilter(frame[r : r+rowBytes])
			}
		}
		ready <- frame
	}
	var extra [1]byte
	switch n, err := zr.Read(extra[:]); {
	case n > 0 || err == nil:
		return fmt.Errorf("frames file: more pixel data than the header's shape holds: %w", fractal.ErrInvalid)
	case !errors.Is(err, io.EOF) && !lr.exceeded && lr.err == nil:
		return fmt.Errorf("frames file: unexpected data after the pixels (%v): %w", err, fractal.ErrInvalid)
	case !errors.Is(err, io.EOF):
		return pixelError(lr, err)
	}
	return nil
}

// subFilter writes row into dst with each byte minus the same channel of
// the pixel to its left.
func subFilter(dst, row []byte) {
	dst = dst[:len(row)]
	copy(dst[:3], row[:3])
	cur, prev, out := row[3:], row[:len(row)-3], dst[3:]
	out = out[:len(cur)]
	prev = prev[:len(cur)]
	for x := range cur {
		out[x] = cur[x] - prev[x]
	}
}

// unSubFilter undoes subFilter in place: a running sum per channel.
func unSubFilter(row []byte) {
	var r, g, b byte
	for x := 0; x+2 < len(row); x += 3 {
		p := row[x : x+3 : x+3]
		r += p[0]
		g += p[1]
		b += p[2]
		p[0], p[1], p[2] = r, g, b
	}
}

// pixelError classifies a failure reading the compressed pixels.
func pixelError(lr *boundedReader, err error) error {
	switch {
	case lr.exceeded:
		return fmt.Errorf("frames file: compressed pixels exceed %d bytes: %w", lr.limit(), fractal.ErrTooLarge)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("frames file: truncated pixels: %w", fractal.ErrInvalid)
	case lr.err != nil:
		return fmt.Errorf("frames file: %w", lr.err) // the source failed, not the data
	default:
		return fmt.Errorf("frames file: corrupt pixels: %v: %w", err, fractal.ErrInvalid)
	}
}

// maxCompressed bounds the compressed size of n pixel bytes: zstd stores an
// incompressible block with a 3-byte header per 128 KiB, plus frame overhead.
func maxCompressed(n int64) int64 { return n + n/64 + 1<<12 }

// boundedReader reads at most left bytes from r and remembers whether the
// source tried to give more, and any error of the source itself.
type boundedReader struct {
	r        io.Reader
	left     int64
	read     int64
	exceeded bool
	err      error
}

func (b *boundedReader) limit() int64 { return b.read + b.left }

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// Find out whether the source has more; a source that has
		// ended is just the end of the stream.
		var one [1]byte
		if n, _ := io.ReadFull(b.r, one[:]); n > 0 {
			b.exceeded = true
			return 0, errors.New("compressed input too long")
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	b.read += int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		b.err = err
	}
	return n, err
}
