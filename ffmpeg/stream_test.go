package ffmpeg_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/ffmpeg"
	"github.com/fractal-grid/fractal/video/videotest"
)

func TestStream(t *testing.T) {
	e := MustEncoder(t)
	f := videotest.Frames(6, 64, 64, 8)
	path := filepath.Join(t.TempDir(), "s.mp4")
	s, err := e.Start(t.Context(), path, ffmpeg.ShapeOf(f), ffmpeg.H264)
	if err != nil {
		t.Fatal(err)
	}
	for i := range f.Count {
		if err := s.WriteFrame(f.Frame(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s.Abort() // a no-op after Close
	info, err := e.Probe(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Frames != 6 || info.Codec != "h264" {
		t.Errorf("got %+v, want 6 frames of h264", info)
	}
	checkPixels(t, path, f)
}

// TestStreamMisuse checks that a stream given the wrong frames fails with
// ErrInvalid, stops ffmpeg and leaves nothing behind.
func TestStreamMisuse(t *testing.T) {
	e := MustEncoder(t)
	f := videotest.Frames(3, 64, 64, 8)
	for _, tc := range []struct {
		name string
		use  func(s *ffmpeg.Stream) error
		want error
	}{
		{"too few frames", func(s *ffmpeg.Stream) error {
			s.WriteFrame(f.Frame(0))
			return s.Close()
		}, fractal.ErrInvalid},
		{"too many frames", func(s *ffmpeg.Stream) error {
			for i := range 3 {
				s.WriteFrame(f.Frame(i))
			}
			return s.WriteFrame(f.Frame(0))
		}, fractal.ErrInvalid},
		{"short frame", func(s *ffmpeg.Stream) error { return s.WriteFrame(f.Frame(0)[:100]) }, fractal.ErrInvalid},
		{"close after abort", func(s *ffmpeg.Stream) error { s.Abort(); return s.Close() }, fractal.ErrInvalid},
		{"write after abort", func(s *ffmpeg.Stream) error { s.Abort(); return s.WriteFrame(f.Frame(0)) }, fractal.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := e.Start(t.Context(), filepath.Join(dir, "x.webm"), ffmpeg.ShapeOf(f), ffmpeg.VP9)
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.use(s); !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
			s.Abort()
			assertEmptyDir(t, dir)
		})
	}
}

func TestStreamCancelled(t *testing.T) {
	e := MustEncoder(t)
	f := videotest.Frames(3, 64, 64, 8)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	s, err := e.Start(ctx, filepath.Join(dir, "x.mp4"), ffmpeg.ShapeOf(f), ffmpeg.H264)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WriteFrame(f.Frame(0)); err != nil {
		t.Fatal(err)
	}
	cancel()
	err = s.WriteFrame(f.Frame(1))
	if err == nil {
		err = s.WriteFrame(f.Frame(2))
	}
	if err == nil {
		err = s.Close()
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want %v", err, context.Canceled)
	}
	s.Abort()
	assertEmptyDir(t, dir)
}

func TestShapeValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		shape ffmpeg.Shape
		field string
	}{
		{"valid", ffmpeg.Shape{Count: 16, Width: 256, Height: 256, FPS: 8}, ""},
		{"no frames", ffmpeg.Shape{Count: 0, Width: 64, Height: 64, FPS: 8}, "frames"},
		{"odd width", ffmpeg.Shape{Count: 1, Width: 63, Height: 64, FPS: 8}, "size"},
		{"too tall", ffmpeg.Shape{Count: 1, Width: 64, Height: 2048, FPS: 8}, "size"},
		{"no fps", ffmpeg.Shape{Count: 1, Width: 64, Height: 64}, "fps"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.shape.Validate()
			var fe *fractal.FieldError
			switch {
			case tc.field == "" && err != nil:
				t.Errorf("got %v, want nil", err)
			case tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field):
				t.Errorf("got %v, want a %q field error", err, tc.field)
			}
		})
	}
}
