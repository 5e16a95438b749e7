package framesfile_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"

	"github.com/klauspost/compress/zstd"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/framesfile"
	"github.com/fractal-grid/fractal/video/videotest"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// MustMarshal returns f as a frames file.
func MustMarshal(tb testing.TB, f *fractal.Frames) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := framesfile.Marshal(&buf, f); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func TestFramesRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name             string
		count, w, h, fps int
	}{
		{"default shape", 16, 256, 256, 8},
		{"one frame", 1, 64, 64, 1},
		{"narrow", 3, 8, 200, 60},
		{"black", 0, 64, 64, 24}, // count 0: filled below as 4 black frames
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := videotest.Frames(tc.count, tc.w, tc.h, tc.fps)
			if tc.count == 0 {
				f = fractal.NewFrames(4, tc.w, tc.h, tc.fps)
			}
			b := MustMarshal(t, f)
			for _, r := range []struct {
				name string
				r    io.Reader
			}{
				{"whole", bytes.NewReader(b)},
				{"one byte at a time", iotest.OneByteReader(bytes.NewReader(b))},
			} {
				got, err := framesfile.Unmarshal(r.r, 0)
				if err != nil {
					t.Fatalf("%s: %v", r.name, err)
				}
				if got.Count != f.Count || got.Width != f.Width || got.Height != f.Height || got.FPS != f.FPS || !bytes.Equal(got.Pix, f.Pix) {
					t.Errorf("%s: got %dx%dx%d@%d, want %dx%dx%d@%d with equal pixels", r.name,
						got.Count, got.Width, got.Height, got.FPS, f.Count, f.Width, f.Height, f.FPS)
				}
			}
			h, err := framesfile.ReadHeader(bytes.NewReader(b), 0)
			if err != nil {
				t.Fatal(err)
			}
			if h.Digest != f.Digest() {
				t.Errorf("got header digest %s, want %s", h.Digest, f.Digest())
			}
		})
	}
}

// TestFramesHeaderGolden pins the header layout: readers in other
// languages depend on it.
func TestFramesHeaderGolden(t *testing.T) {
	b := MustMarshal(t, videotest.Frames(2, 64, 32, 8))
	golden := filepath.Join("testdata", "header.golden")
	if *update {
		if err := os.WriteFile(golden, b[:framesfile.HeaderSize], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got := b[:framesfile.HeaderSize]; !bytes.Equal(got, want) {
		t.Errorf("got header %x, want %x (run with -update if the change is intended)", got, want)
	}
}

func TestUnmarshalFramesRejects(t *testing.T) {
	f := videotest.Frames(4, 64, 64, 8)
	good := MustMarshal(t, f)
	other := MustMarshal(t, videotest.Frames(1, 64, 64, 8))
	edit := func(fn func(b []byte) []byte) []byte { return fn(bytes.Clone(good)) }
	put := func(off int, v uint32) []byte {
		return edit(func(b []byte) []byte { binary.BigEndian.PutUint32(b[off:], v); return b })
	}
	// A zstd skippable frame larger than any honest file of this shape.
	skippable := binary.LittleEndian.AppendUint32(nil, 0x184D2A50)
	skippable = binary.LittleEndian.AppendUint32(skippable, 1<<20)
	skippable = append(skippable, make([]byte, 1<<20)...)
	for _, tc := range []struct {
		name     string
		in       []byte
		maxBytes int64
		want     []error // any of these
	}{
		{"empty", nil, 0, []error{fractal.ErrInvalid}},
		{"short header", good[:40], 0, []error{fractal.ErrInvalid}},
		{"header only", good[:framesfile.HeaderSize], 0, []error{fractal.ErrInvalid}},
		{"half the pixels", good[:len(good)/2], 0, []error{fractal.ErrInvalid}},
		{"last byte cut", good[:len(good)-1], 0, []error{fractal.ErrInvalid}},
		{"bad magic", edit(func(b []byte) []byte { b[0] = 'X'; return b }), 0, []error{fractal.ErrInvalid}},
		{"text", []byte("<html>this is not a frames file, but long enough to fill the header</html>"), 0, []error{fractal.ErrInvalid}},
		{"four channels", put(20, 4), 0, []error{fractal.ErrInvalid}},
		{"unknown compression", edit(func(b []byte) []byte { b[28] = 7; return b }), 0, []error{fractal.ErrInvalid}},
		{"unknown filter", edit(func(b []byte) []byte { b[29] = 9; return b }), 0, []error{fractal.ErrInvalid}},
		{"reserved byte set", edit(func(b []byte) []byte { b[30] = 1; return b }), 0, []error{fractal.ErrInvalid}},
		{"zero frames", put(8, 0), 0, []error{fractal.ErrInvalid}},
		{"65 frames", put(8, 65), 0, []error{fractal.ErrInvalid}},
		{"huge height", put(12, 1<<31), 0, []error{fractal.ErrInvalid}},
		{"zero width", put(16, 0), 0, []error{fractal.ErrInvalid}},
		{"zero fps", put(24, 0), 0, []error{fractal.ErrInvalid}},
		{"over the caller's limit", good, 64*64*3*4 - 1, []error{fractal.ErrTooLarge}},
		{"fewer frames than the pixels", put(8, 2), 0, []error{fractal.ErrInvalid}},
		{"more frames than the pixels", put(8, 5), 0, []error{fractal.ErrInvalid}},
		{"other fps", put(24, 9), 0, []error{fractal.ErrMismatch}},
		{"wrong digest", edit(func(b []byte) []byte { b[40] ^= 1; return b }), 0, []error{fractal.ErrMismatch}},
		{"flipped pixel data", edit(func(b []byte) []byte { b[len(b)/2] ^= 0x55; return b }), 0, []error{fractal.ErrInvalid, fractal.ErrMismatch}},
		{"trailing garbage", append(bytes.Clone(good), "garbage"...), 0, []error{fractal.ErrInvalid}},
		{"second stream", append(bytes.Clone(good), other[framesfile.HeaderSize:]...), 0, []error{fractal.ErrInvalid}},
		{"oversized skippable frame", append(bytes.Clone(good), skippable...), 0, []error{fractal.ErrTooLarge}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := framesfile.Unmarshal(bytes.NewReader(tc.in), tc.maxBytes)
			if got != nil {
				t.Errorf("got frames, want nil")
			}
			t.Log(err)
			for _, want := range tc.want {
				if errors.Is(err, want) {
					return
				}
			}
			t.Errorf("got error %v, want one of %v", err, tc.want)
		})
	}
}

// TestUnmarshalFramesSourceError checks that a failing source is reported as
// itself, not as bad data.
func TestUnmarshalFramesSourceError(t *testing.T) {
	good := MustMarshal(t, videotest.Frames(4, 64, 64, 8))
	boom := errors.New("connection reset")
	for _, cut := range []int{10, framesfile.HeaderSize + 100} {
		r := io.MultiReader(bytes.NewReader(good[:cut]), iotest.ErrReader(boom))
		_, err := framesfile.Unmarshal(r, 0)
		if !errors.Is(err, boom) {
			t.Errorf("cut at %d: got %v, want %v", cut, err, boom)
		}
		if errors.Is(err, fractal.ErrInvalid) {
			t.Errorf("cut at %d: got %v, want it not to claim invalid data", cut, err)
		}
	}
}

func TestMarshalFramesRejectsInvalid(t *testing.T) {
	bad := &fractal.Frames{Count: 2, Width: 64, Height: 64, FPS: 8, Pix: make([]byte, 5)}
	var buf bytes.Buffer
	if err := framesfile.Marshal(&buf, bad); !errors.Is(err, fractal.ErrInvalid) {
		t.Errorf("got %v, want ErrInvalid", err)
	}
	if buf.Len() != 0 {
		t.Errorf("got %d bytes written, want 0", buf.Len())
	}
}

// TestUnmarshalUnfiltered reads a file written without the sub filter,
// which the format allows.
func TestUnmarshalUnfiltered(t *testing.T) {
	f := videotest.Frames(2, 64, 64, 8)
	b := MustMarshal(t, f)[:framesfile.HeaderSize]
	b[29] = 0
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(f.Pix)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := framesfile.Unmarshal(bytes.NewReader(append(b, buf.Bytes()...)), 0)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Pix, f.Pix) {
		t.Errorf("got different pixels, want the originals")
	}
}

// FuzzUnmarshalFrames checks that no input panics or yields frames that do
// not match their digest.
func FuzzUnmarshalFrames(f *testing.F) {
	good := MustMarshal(f, videotest.Frames(2, 16, 8, 8))
	f.Add(good)
	f.Add(good[:framesfile.HeaderSize])
	f.Add(good[:len(good)-3])
	f.Fuzz(func(t *testing.T, b []byte) {
		h, herr := framesfile.ReadHeader(bytes.NewReader(b), 1<<20)
		got, err := framesfile.Unmarshal(bytes.NewReader(b), 1<<20)
		if err != nil {
			return
		}
		if herr != nil || got.Digest() != h.Digest {
			t.Errorf("accepted frames with digest %s, header %v says %s", got.Digest(), herr, h.Digest)
		}
	})
}
