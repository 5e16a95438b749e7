package video_test

import (
	"bytes"
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
