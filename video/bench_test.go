package video_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/video"
	"github.com/fractal-grid/fractal/video/videotest"
)

// BenchmarkEncode encodes the default video shape (16 frames of 256×256 at
// 8 fps, synthetic content) in every format.
func BenchmarkEncode(b *testing.B) {
	testenv.Tool(b, "ffmpeg")
	e := MustEncoder(b, video.DefaultConfig())
	f := videotest.Frames(16, 256, 256, 8)
	for _, format := range video.Formats() {
		b.Run(string(format), func(b *testing.B) {
			var n int
			for b.Loop() {
				var buf bytes.Buffer
				if _, err := e.Encode(b.Context(), &buf, f, format); err != nil {
					b.Fatal(err)
				}
				n = buf.Len()
			}
			b.ReportMetric(float64(n), "file-bytes")
		})
	}
}

// BenchmarkUnmarshalFrames decodes and verifies a default-shape frames file.
func BenchmarkUnmarshalFrames(b *testing.B) {
	f := videotest.Frames(16, 256, 256, 8)
	data := MustMarshal(b, f)
	b.SetBytes(int64(len(f.Pix)))
	for b.Loop() {
		if _, err := video.UnmarshalFrames(bytes.NewReader(data), 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMarshalFrames compresses a default-shape video.
func BenchmarkMarshalFrames(b *testing.B) {
	f := videotest.Frames(16, 256, 256, 8)
	b.SetBytes(int64(len(f.Pix)))
	for b.Loop() {
		if err := video.MarshalFrames(io.Discard, f); err != nil {
			b.Fatal(err)
		}
	}
}
