package video_test

import (
	"bytes"
	"context"
	"errors"
	"image/gif"
	"os"
	"path/filepath"
	"testing"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/ffmpeg"
	"github.com/fractal-grid/fractal/framesfile"
	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/video"
	"github.com/fractal-grid/fractal/video/videotest"
)

// MustEncoder returns an encoder for cfg.
func MustEncoder(tb testing.TB, cfg video.Config) *video.Encoder {
	tb.Helper()
	e, err := video.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// noFFmpeg returns a config whose ffmpeg cannot be found.
func noFFmpeg(fallback bool) video.Config {
	cfg := video.DefaultConfig()
	cfg.FFmpeg.FFmpeg = "fractal-no-such-ffmpeg"
	cfg.FallbackToGIF = fallback
	return cfg
}

func TestParseFormat(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want video.Format
		ok   bool
	}{
		{"mp4", video.MP4, true},
		{"MP4", video.MP4, true},
		{".webm", video.WebM, true},
		{" gif ", video.GIF, true},
		{"frames", video.FramesFile, true},
		{"", "", false},
		{"avi", "", false},
		{"mp4x", "", false},
	} {
		got, err := video.ParseFormat(tc.in)
		if tc.ok && (err != nil || got != tc.want) {
			t.Errorf("ParseFormat(%q): got %q, %v, want %q", tc.in, got, err, tc.want)
		}
		var fe *fractal.FieldError
		if !tc.ok && (!errors.As(err, &fe) || fe.Field != "format") {
			t.Errorf("ParseFormat(%q): got %q, %v, want a format field error", tc.in, got, err)
		}
	}
}

func TestFormatFromPath(t *testing.T) {
	for _, tc := range []struct {
		path string
		want video.Format
		ok   bool
	}{
		{"ball.mp4", video.MP4, true},
		{"dir.x/ball.WEBM", video.WebM, true},
		{"a.gif", video.GIF, true},
		{"a.frames", video.FramesFile, true},
		{"ball", "", false},
		{"ball.mov", "", false},
	} {
		got, ok := video.FormatFromPath(tc.path)
		if got != tc.want || ok != tc.ok {
			t.Errorf("FormatFromPath(%q): got %q, %v, want %q, %v", tc.path, got, ok, tc.want, tc.ok)
		}
	}
}

// checkFile checks that path holds f in format.
func checkFile(t *testing.T, path string, format video.Format, f *fractal.Frames) {
	t.Helper()
	switch format {
	case video.MP4, video.WebM:
		info, err := ffmpeg.Probe(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		want := map[video.Format]string{video.MP4: "h264", video.WebM: "vp9"}[format]
		if info.Codec != want || info.Frames != f.Count || info.Width != f.Width || info.Height != f.Height || info.PixFmt != "yuv420p" {
			t.Errorf("got %+v, want %s %dx%d yuv420p with %d frames", info, want, f.Width, f.Height, f.Count)
		}
	case video.GIF:
		r, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		g, err := gif.DecodeAll(r)
		if err != nil {
			t.Fatal(err)
		}
		if len(g.Image) != f.Count || g.Config.Width != f.Width || g.Config.Height != f.Height {
			t.Errorf("got GIF %dx%d with %d frames, want %dx%d with %d", g.Config.Width, g.Config.Height, len(g.Image), f.Width, f.Height, f.Count)
		}
	case video.FramesFile:
		r, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		got, err := framesfile.Unmarshal(r, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got.Digest() != f.Digest() {
			t.Errorf("got digest %s, want %s", got.Digest(), f.Digest())
		}
	}
}

func TestWriteFileEachFormat(t *testing.T) {
	testenv.Tool(t, "ffmpeg")
	testenv.Tool(t, "ffprobe")
	e := MustEncoder(t, video.DefaultConfig())
	f := videotest.Frames(5, 128, 64, 8)
	dir := t.TempDir()
	for _, format := range video.Formats() {
		t.Run(string(format), func(t *testing.T) {
			path := filepath.Join(dir, "out"+format.Ext())
			out, err := e.WriteFile(t.Context(), path, f, format)
			if err != nil {
				t.Fatal(err)
			}
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			want := video.Output{Path: path, Format: format, Bytes: st.Size()}
			if out != want {
				t.Errorf("got %+v, want %+v", out, want)
			}
			if mode := st.Mode().Perm(); mode != 0o644 {
				t.Errorf("got mode %v, want 0644", mode)
			}
			checkFile(t, path, format, f)
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != len(video.Formats()) {
		t.Errorf("got %d files, want %d (temporary files left behind?)", len(entries), len(video.Formats()))
	}
}

func TestEncodeEachFormat(t *testing.T) {
	testenv.Tool(t, "ffmpeg")
	testenv.Tool(t, "ffprobe")
	e := MustEncoder(t, video.DefaultConfig())
	f := videotest.Frames(3, 64, 64, 8)
	for _, format := range video.Formats() {
		t.Run(string(format), func(t *testing.T) {
			var buf bytes.Buffer
			got, err := e.Encode(t.Context(), &buf, f, format)
			if err != nil {
				t.Fatal(err)
			}
			if got != format {
				t.Errorf("got format %s, want %s", got, format)
			}
			path := filepath.Join(t.TempDir(), "v"+format.Ext())
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			checkFile(t, path, format, f)
		})
	}
}

func TestFallbackToGIF(t *testing.T) {
	f := videotest.Frames(2, 64, 64, 8)
	t.Run("allowed", func(t *testing.T) {
		e := MustEncoder(t, noFFmpeg(true))
		dir := t.TempDir()
		for _, tc := range []struct{ path, want string }{
			{"ball.mp4", "ball.gif"},
			{"ball.webm", "ball.gif"},
			{"ball.bin", "ball.bin.gif"},
		} {
			requested := video.MP4
			if filepath.Ext(tc.path) == ".webm" {
				requested = video.WebM
			}
			out, err := e.WriteFile(t.Context(), filepath.Join(dir, tc.path), f, requested)
			if err != nil {
				t.Fatal(err)
			}
			if out.Format != video.GIF || !out.Fallback || out.Path != filepath.Join(dir, tc.want) {
				t.Errorf("%s: got %+v, want a GIF fallback at %s", tc.path, out, tc.want)
			}
			checkFile(t, out.Path, video.GIF, f)
			if _, err := os.Stat(filepath.Join(dir, tc.path)); !os.IsNotExist(err) {
				t.Errorf("%s: got %v, want no file at the requested path", tc.path, err)
			}
		}
		var buf bytes.Buffer
		if got, err := e.Encode(t.Context(), &buf, f, video.WebM); err != nil || got != video.GIF {
			t.Errorf("Encode: got %s, %v, want gif", got, err)
		}
	})
	t.Run("not allowed", func(t *testing.T) {
		e := MustEncoder(t, noFFmpeg(false))
		dir := t.TempDir()
		_, err := e.WriteFile(t.Context(), filepath.Join(dir, "ball.mp4"), f, video.MP4)
		if !errors.Is(err, ffmpeg.ErrNotInstalled) {
			t.Errorf("got %v, want ErrNotInstalled", err)
		}
		assertEmptyDir(t, dir)
		// Pure-Go formats never need ffmpeg.
		for _, format := range []video.Format{video.GIF, video.FramesFile} {
			if got, err := e.Resolve(format); got != format || err != nil {
				t.Errorf("Resolve(%s): got %s, %v, want %s", format, got, err, format)
			}
		}
	})
}

// TestWriteFileFailureKeepsOld checks the atomic write: a failed write
// leaves any existing file untouched and no temporary file behind.
func TestWriteFileFailureKeepsOld(t *testing.T) {
	testenv.Tool(t, "ffmpeg")
	e := MustEncoder(t, video.DefaultConfig())
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	good := videotest.Frames(2, 64, 64, 8)
	bad := &fractal.Frames{Count: 2, Width: 64, Height: 64, FPS: 8, Pix: make([]byte, 7)}
	for _, format := range video.Formats() {
		for _, tc := range []struct {
			name   string
			ctx    context.Context
			frames *fractal.Frames
			want   error
		}{
			{"cancelled", cancelled, good, context.Canceled},
			{"invalid frames", t.Context(), bad, fractal.ErrInvalid},
		} {
			t.Run(string(format)+" "+tc.name, func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, "out"+format.Ext())
				if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
					t.Fatal(err)
				}
				if _, err := e.WriteFile(tc.ctx, path, tc.frames, format); !errors.Is(err, tc.want) {
					t.Fatalf("got %v, want %v", err, tc.want)
				}
				if b, err := os.ReadFile(path); err != nil || string(b) != "old" {
					t.Errorf("got %q, %v, want the old file untouched", b, err)
				}
				if entries, _ := os.ReadDir(dir); len(entries) != 1 {
					t.Errorf("got %d files, want only the old one", len(entries))
				}
			})
		}
	}
}

func TestWriteFileMissingDir(t *testing.T) {
	e := MustEncoder(t, video.DefaultConfig())
	path := filepath.Join(t.TempDir(), "no", "such", "dir", "x.gif")
	if _, err := e.WriteFile(t.Context(), path, videotest.Frames(1, 64, 64, 8), video.GIF); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v, want ErrNotExist", err)
	}
}

func TestResolveUnknownFormat(t *testing.T) {
	e := MustEncoder(t, video.DefaultConfig())
	if _, err := e.Resolve("avi"); !errors.Is(err, fractal.ErrInvalid) {
		t.Errorf("got %v, want ErrInvalid", err)
	}
}

func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("got leftover file %s, want an empty directory", e.Name())
	}
}
