//go:build unix

package video_test

import (
	"bytes"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/ffmpeg"
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

// BenchmarkMP4PerGeneration generates the default video and writes it as
// MP4, reporting the time spent after generation as a fraction of the
// generation time: "sequential" starts ffmpeg once the frames exist,
// "overlapped" starts it before generating, as the generate command does.
func BenchmarkMP4PerGeneration(b *testing.B) {
	testenv.Tool(b, "ffmpeg")
	eng := refengine.New()
	e := MustEncoder(b, video.DefaultConfig())
	dir := b.TempDir()
	for _, overlapped := range []bool{false, true} {
		name := map[bool]string{false: "sequential", true: "overlapped"}[overlapped]
		b.Run(name, func(b *testing.B) {
			var gen, enc time.Duration
			childCPU := cpuTime(b, syscall.RUSAGE_CHILDREN)
			seed := uint64(0)
			for b.Loop() {
				seed++
				spec := fractal.DefaultSpec(benchPrompt, seed)
				path := filepath.Join(dir, name+".mp4")
				start := time.Now()
				var file *video.File
				var err error
				if overlapped {
					if file, err = e.Create(b.Context(), path, video.MP4, shapeOf(spec)); err != nil {
						b.Fatal(err)
					}
				}
				res, err := eng.Generate(b.Context(), spec, fractal.GenerateOptions{})
				if err != nil {
					b.Fatal(err)
				}
				mid := time.Now()
				if !overlapped {
					if file, err = e.Create(b.Context(), path, video.MP4, shapeOf(spec)); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := file.Finish(res.Frames); err != nil {
					b.Fatal(err)
				}
				gen += mid.Sub(start)
				enc += time.Since(mid)
			}
			b.ReportMetric(gen.Seconds()/float64(b.N), "generate-s/op")
			b.ReportMetric(enc.Seconds()/float64(b.N), "mp4-s/op")
			b.ReportMetric(enc.Seconds()/gen.Seconds(), "mp4/generate")
			// CPU time is steadier than wall time on a shared machine.
			b.ReportMetric((cpuTime(b, syscall.RUSAGE_CHILDREN)-childCPU).Seconds()/float64(b.N), "ffmpeg-cpu-s/op")
		})
	}
}

// cpuTime returns the user and system CPU time of who.
func cpuTime(tb testing.TB, who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func shapeOf(s fractal.Spec) ffmpeg.Shape {
	return ffmpeg.Shape{Count: s.Frames, Width: s.Width, Height: s.Height, FPS: s.FPS}
}
