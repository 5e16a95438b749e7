package video_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/video"
)

const benchPrompt = "a red ball bouncing over the ocean at night"

// BenchmarkEncodeGenerated encodes a real default video from the reference
// engine (256×256, 16 frames, 8 fps, 20 steps) in every format.
func BenchmarkEncodeGenerated(b *testing.B) {
	testenv.Tool(b, "ffmpeg")
	res, err := refengine.New().Generate(b.Context(), fractal.DefaultSpec(benchPrompt, 1), fractal.GenerateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	e := MustEncoder(b, video.DefaultConfig())
	for _, format := range video.Formats() {
		b.Run(string(format), func(b *testing.B) {
			var n int
			for b.Loop() {
				var buf bytes.Buffer
				if _, err := e.Encode(b.Context(), &buf, res.Frames, format); err != nil {
					b.Fatal(err)
				}
				n = buf.Len()
			}
			b.ReportMetric(float64(n), "file-bytes")
		})
	}
}

// BenchmarkMP4PerGeneration generates the default video and encodes it as
// MP4, reporting the encode time as a fraction of the generation time.
func BenchmarkMP4PerGeneration(b *testing.B) {
	testenv.Tool(b, "ffmpeg")
	eng := refengine.New()
	e := MustEncoder(b, video.DefaultConfig())
	var gen, enc time.Duration
	seed := uint64(0)
	for b.Loop() {
		seed++
		start := time.Now()
		res, err := eng.Generate(b.Context(), fractal.DefaultSpec(benchPrompt, seed), fractal.GenerateOptions{})
		if err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		var buf bytes.Buffer
		if _, err := e.Encode(b.Context(), &buf, res.Frames, video.MP4); err != nil {
			b.Fatal(err)
		}
		gen += mid.Sub(start)
		enc += time.Since(mid)
	}
	b.ReportMetric(gen.Seconds()/float64(b.N), "generate-s/op")
	b.ReportMetric(enc.Seconds()/float64(b.N), "mp4-s/op")
	b.ReportMetric(enc.Seconds()/gen.Seconds(), "mp4/generate")
}
