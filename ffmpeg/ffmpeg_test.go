package ffmpeg_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/ffmpeg"
	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/video/videotest"
)

// MustEncoder returns an encoder with the default settings, failing the test
// when ffmpeg or ffprobe is not installed.
func MustEncoder(tb testing.TB) *ffmpeg.Encoder {
	tb.Helper()
	testenv.Tool(tb, "ffmpeg")
	testenv.Tool(tb, "ffprobe")
	e, err := ffmpeg.New(ffmpeg.DefaultConfig())
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

func TestWriteFileProbes(t *testing.T) {
	e := MustEncoder(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		name             string
		codec            ffmpeg.Codec
		count, w, h, fps int
	}{
		{"h264 default shape", ffmpeg.H264, 16, 256, 256, 8},
		{"h264 one frame", ffmpeg.H264, 1, 64, 64, 1},
		{"h264 wide 30fps", ffmpeg.H264, 5, 128, 64, 30},
		{"vp9 default shape", ffmpeg.VP9, 16, 256, 256, 8},
		{"vp9 tall", ffmpeg.VP9, 3, 64, 128, 24},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+tc.codec.Ext())
			frames := videotest.Frames(tc.count, tc.w, tc.h, tc.fps)
			if err := e.WriteFile(t.Context(), path, frames, tc.codec); err != nil {
				t.Fatal(err)
			}
			info, err := e.Probe(t.Context(), path)
			if err != nil {
				t.Fatal(err)
			}
			want := ffmpeg.Info{Format: info.Format, Codec: string(tc.codec), Frames: tc.count, Width: tc.w, Height: tc.h, PixFmt: "yuv420p", Duration: info.Duration}
			if info != want {
				t.Errorf("got %+v, want %+v", info, want)
			}
			wantDur := time.Duration(tc.count) * time.Second / time.Duration(tc.fps)
			if d := info.Duration - wantDur; d < -50*time.Millisecond || d > 50*time.Millisecond {
				t.Errorf("got duration %v, want %v", info.Duration, wantDur)
			}
			if tc.codec == ffmpeg.H264 {
				checkFaststart(t, path)
			}
			checkPixels(t, path, frames)
		})
	}
}

// checkFaststart checks that the MP4's moov box comes before its mdat box.
func checkFaststart(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for off := 0; off+8 <= len(b); {
		size := int(binary.BigEndian.Uint32(b[off:]))
		order = append(order, string(b[off+4:off+8]))
		if size < 8 {
			break
		}
		off += size
	}
	joined := strings.Join(order, ",")
	moov, mdat := strings.Index(joined, "moov"), strings.Index(joined, "mdat")
	if moov < 0 || mdat < 0 || moov > mdat {
		t.Errorf("got top-level boxes %s, want moov before mdat (+faststart)", joined)
	}
}

// checkPixels decodes the file back to rgb24 with ffmpeg and checks that it
// is close to the source: channel order and geometry survived encoding.
func checkPixels(t *testing.T, path string, want *fractal.Frames) {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), "ffmpeg", "-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1").Output()
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	if len(out) != len(want.Pix) {
		t.Fatalf("decoded %d bytes, want %d", len(out), len(want.Pix))
	}
	var sum int
	for i, v := range out {
		d := int(v) - int(want.Pix[i])
		sum += max(d, -d)
	}
	if mean := float64(sum) / float64(len(out)); mean > 8 {
		t.Errorf("got mean absolute error %.2f per channel, want at most 8", mean)
	}
}

func TestEncodeWriter(t *testing.T) {
	e := MustEncoder(t)
	frames := videotest.Frames(4, 64, 64, 8)
	for _, c := range []ffmpeg.Codec{ffmpeg.H264, ffmpeg.VP9} {
		t.Run(string(c), func(t *testing.T) {
			var buf bytes.Buffer
			n, err := e.Encode(t.Context(), &buf, frames, c)
			if err != nil {
				t.Fatal(err)
			}
			if n != int64(buf.Len()) || n == 0 {
				t.Fatalf("got n=%d with %d bytes written, want equal and non-zero", n, buf.Len())
			}
			path := filepath.Join(t.TempDir(), "v"+c.Ext())
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			info, err := ffmpeg.Probe(t.Context(), path)
			if err != nil {
				t.Fatal(err)
			}
			if info.Codec != string(c) || info.Frames != 4 {
				t.Errorf("got codec %s with %d frames, want %s with 4", info.Codec, info.Frames, c)
			}
		})
	}
}

// TestWriteFileFailureLeavesNothing checks the atomic write: a failed encode
// leaves neither the target nor a temporary file behind.
func TestWriteFileFailureLeavesNothing(t *testing.T) {
	e := MustEncoder(t)
	frames := videotest.Frames(16, 256, 256, 8)
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	for _, tc := range []struct {
		name   string
		ctx    context.Context
		frames *fractal.Frames
		codec  ffmpeg.Codec
		want   error
	}{
		{"cancelled context", cancelled, frames, ffmpeg.H264, context.Canceled},
		{"odd side", t.Context(), videotest.Frames(2, 65, 64, 8), ffmpeg.H264, fractal.ErrInvalid},
		{"short pixels", t.Context(), &fractal.Frames{Count: 2, Width: 64, Height: 64, FPS: 8, Pix: make([]byte, 100)}, ffmpeg.VP9, fractal.ErrInvalid},
		{"unknown codec", t.Context(), frames, ffmpeg.Codec("av1"), fractal.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			err := e.WriteFile(tc.ctx, filepath.Join(dir, "out.mp4"), tc.frames, tc.codec)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got error %v, want %v", err, tc.want)
			}
			assertEmptyDir(t, dir)
		})
	}
}

// TestCancelMidEncode cancels while ffmpeg runs: ffmpeg is killed, the
// error is the context's, and nothing is left behind.
func TestCancelMidEncode(t *testing.T) {
	e := MustEncoder(t)
	frames := videotest.Frames(32, 512, 512, 30)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := e.WriteFile(ctx, filepath.Join(dir, "big.webm"), frames, ffmpeg.VP9)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got error %v, want %v", err, context.DeadlineExceeded)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("got %v to return after cancel, want under 5s", d)
	}
	assertEmptyDir(t, dir)
}

func TestNotInstalled(t *testing.T) {
	cfg := ffmpeg.DefaultConfig()
	cfg.FFmpeg = "fractal-no-such-ffmpeg"
	cfg.FFprobe = "fractal-no-such-ffprobe"
	e, err := ffmpeg.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Available(); !errors.Is(err, ffmpeg.ErrNotInstalled) || !errors.Is(err, fractal.ErrUnavailable) {
		t.Errorf("Available: got %v, want ErrNotInstalled wrapping ErrUnavailable", err)
	}
	dir := t.TempDir()
	err = e.WriteFile(t.Context(), filepath.Join(dir, "x.mp4"), videotest.Frames(1, 64, 64, 8), ffmpeg.H264)
	if !errors.Is(err, ffmpeg.ErrNotInstalled) {
		t.Errorf("WriteFile: got %v, want ErrNotInstalled", err)
	}
	assertEmptyDir(t, dir)
	if _, err := e.Probe(t.Context(), "x.mp4"); !errors.Is(err, ffmpeg.ErrNotInstalled) {
		t.Errorf("Probe: got %v, want ErrNotInstalled", err)
	}
}

func TestProbeRejectsNonVideo(t *testing.T) {
	testenv.Tool(t, "ffprobe")
	path := filepath.Join(t.TempDir(), "garbage.mp4")
	if err := os.WriteFile(path, []byte("not a video at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ffmpeg.Probe(t.Context(), path)
	if err == nil || !strings.Contains(err.Error(), "garbage.mp4") {
		t.Errorf("got error %v, want one naming the file", err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*ffmpeg.Config)
		field string
	}{
		{"no ffmpeg", func(c *ffmpeg.Config) { c.FFmpeg = "" }, "ffmpeg"},
		{"no ffprobe", func(c *ffmpeg.Config) { c.FFprobe = "" }, "ffprobe"},
		{"threads", func(c *ffmpeg.Config) { c.Threads = -1 }, "threads"},
		{"crf h264", func(c *ffmpeg.Config) { c.CRFH264 = 52 }, "crf_h264"},
		{"crf vp9", func(c *ffmpeg.Config) { c.CRFVP9 = 64 }, "crf_vp9"},
		{"preset", func(c *ffmpeg.Config) { c.PresetH264 = "warp" }, "preset_h264"},
		{"cpu used", func(c *ffmpeg.Config) { c.VP9CPUUsed = 9 }, "vp9_cpu_used"},
		{"stderr limit", func(c *ffmpeg.Config) { c.StderrLimit = 10 }, "stderr_limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ffmpeg.DefaultConfig()
			tc.edit(&cfg)
			_, err := ffmpeg.New(cfg)
			var fe *fractal.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Errorf("got %v, want a field error for %q", err, tc.field)
			}
		})
	}
	if err := ffmpeg.DefaultConfig().Validate(); err != nil {
		t.Errorf("default config: got %v, want nil", err)
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
