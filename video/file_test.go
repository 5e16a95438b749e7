package video_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/ffmpeg"
	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/video"
	"github.com/fractal-grid/fractal/video/videotest"
)

// TestFileCreateThenFinish writes each format in two steps, as the generate
// command does: Create before the frames exist, Finish once they do.
func TestFileCreateThenFinish(t *testing.T) {
	testenv.Tool(t, "ffmpeg")
	testenv.Tool(t, "ffprobe")
	e := MustEncoder(t, video.DefaultConfig())
	f := videotest.Frames(4, 64, 64, 8)
	dir := t.TempDir()
	for _, format := range video.Formats() {
		t.Run(string(format), func(t *testing.T) {
			path := filepath.Join(dir, "v"+format.Ext())
			file, err := e.Create(t.Context(), path, format, ffmpeg.ShapeOf(f))
			if err != nil {
				t.Fatal(err)
			}
			if got := file.Output(); got.Path != path || got.Format != format {
				t.Errorf("got %+v, want %s at %s", got, format, path)
			}
			out, err := file.Finish(f)
			if err != nil {
				t.Fatal(err)
			}
			if out.Bytes == 0 {
				t.Errorf("got %+v, want a size", out)
			}
			checkFile(t, path, format, f)
			if _, err := file.Finish(f); !errors.Is(err, fractal.ErrInvalid) {
				t.Errorf("second Finish: got %v, want ErrInvalid", err)
			}
		})
	}
}

func TestFileAbandoned(t *testing.T) {
	testenv.Tool(t, "ffmpeg")
	e := MustEncoder(t, video.DefaultConfig())
	f := videotest.Frames(4, 64, 64, 8)
	other := videotest.Frames(3, 64, 64, 8)
	for _, format := range video.Formats() {
		for _, tc := range []struct {
			name string
			end  func(*video.File) error
			want error
		}{
			{"abort", func(file *video.File) error { file.Abort(); return nil }, nil},
			{"other shape", func(file *video.File) error { _, err := file.Finish(other); return err }, fractal.ErrInvalid},
			{"finish after abort", func(file *video.File) error { file.Abort(); _, err := file.Finish(f); return err }, fractal.ErrInvalid},
		} {
			t.Run(string(format)+" "+tc.name, func(t *testing.T) {
				dir := t.TempDir()
				file, err := e.Create(t.Context(), filepath.Join(dir, "v"+format.Ext()), format, ffmpeg.ShapeOf(f))
				if err != nil {
					t.Fatal(err)
				}
				if err := tc.end(file); !errors.Is(err, tc.want) {
					t.Errorf("got %v, want %v", err, tc.want)
				}
				assertEmptyDir(t, dir)
			})
		}
	}
}
