package framesfile_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/fractal-grid/fractal/framesfile"
	"github.com/fractal-grid/fractal/video/videotest"
)

// BenchmarkUnmarshalFrames decodes and verifies a default-shape frames file.
func BenchmarkUnmarshalFrames(b *testing.B) {
	f := videotest.Frames(16, 256, 256, 8)
	data := MustMarshal(b, f)
	b.SetBytes(int64(len(f.Pix)))
	for b.Loop() {
		if _, err := framesfile.Unmarshal(bytes.NewReader(data), 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMarshalFrames compresses a default-shape video.
func BenchmarkMarshalFrames(b *testing.B) {
	f := videotest.Frames(16, 256, 256, 8)
	b.SetBytes(int64(len(f.Pix)))
	for b.Loop() {
		if err := framesfile.Marshal(io.Discard, f); err != nil {
			b.Fatal(err)
		}
	}
}
