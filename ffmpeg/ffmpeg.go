// Package ffmpeg encodes canonical frames into MP4 (H.264) and WebM (VP9) by
// piping raw RGB into an ffmpeg subprocess, and probes encoded files with
// ffprobe. Encoded bytes are for people; they differ between ffmpeg builds
// and must never be used as a verifiable digest.
package ffmpeg

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/fractal-grid/fractal"
)

// Codec is a video codec and its container.
type Codec string

// The codecs the encoder writes.
const (
	H264 Codec = "h264" // in MP4, yuv420p, +faststart
	VP9  Codec = "vp9"  // in WebM, yuv420p
)

// Ext returns the file extension of the codec's container, with the dot.
func (c Codec) Ext() string {
	switch c {
	case H264:
		return ".mp4"
	case VP9:
		return ".webm"
	}
	return ""
}

// ErrNotInstalled is returned when the ffmpeg or ffprobe executable cannot be
// found. It wraps fractal.ErrUnavailable.
var ErrNotInstalled = fmt.Errorf("ffmpeg: not installed: %w", fractal.ErrUnavailable)

// Config configures an Encoder.
type Config struct {
	FFmpeg  string // ffmpeg executable: a name looked up in PATH, or a path
	FFprobe string // ffprobe executable
	// Threads is passed to the encoder as -threads; 0 lets ffmpeg choose.
	// x264 output bytes depend on it: set 1 for bytes that repeat across
	// machines with the same ffmpeg build.
	Threads int
	// CRF is the constant rate factor of each codec (lower is better quality).
	CRFH264 int
	// PresetH264 is the x264 preset. On 16 frames of 256×256, veryfast
	// takes about half of medium's CPU time for a file of the same size.
	PresetH264 string
	CRFVP9     int
	// VP9CPUUsed trades VP9 speed for size (0 slowest … 8 fastest).
	VP9CPUUsed int
	// StderrLimit bounds how much of ffmpeg's stderr is kept for errors.
	StderrLimit int
}

// DefaultConfig returns the settings used by the fractal binary.
func DefaultConfig() Config {
	return Config{FFmpeg: "ffmpeg", FFprobe: "ffprobe", CRFH264: 20, PresetH264: "veryfast", CRFVP9: 32, VP9CPUUsed: 4, StderrLimit: 4096}
}

// Validate checks the settings.
func (c Config) Validate() error {
	switch {
	case c.FFmpeg == "":
		return fractal.Errorf("ffmpeg", "must name the ffmpeg executable")
	case c.FFprobe == "":
		return fractal.Errorf("ffprobe", "must name the ffprobe executable")
	case c.Threads < 0 || c.Threads > 64:
		return fractal.Errorf("threads", "must be between 0 and 64, got %d", c.Threads)
	case c.CRFH264 < 0 || c.CRFH264 > 51:
		return fractal.Errorf("crf_h264", "must be between 0 and 51, got %d", c.CRFH264)
	case !slices.Contains(x264Presets, c.PresetH264):
		return fractal.Errorf("preset_h264", "must be one of %s, got %q", strings.Join(x264Presets, ", "), c.PresetH264)
	case c.CRFVP9 < 0 || c.CRFVP9 > 63:
		return fractal.Errorf("crf_vp9", "must be between 0 and 63, got %d", c.CRFVP9)
	case c.VP9CPUUsed < 0 || c.VP9CPUUsed > 8:
		return fractal.Errorf("vp9_cpu_used", "must be between 0 and 8, got %d", c.VP9CPUUsed)
	case c.StderrLimit < 256:
		return fractal.Errorf("stderr_limit", "must be at least 256 bytes, got %d", c.StderrLimit)
	}
	return nil
}

// x264Presets are the presets libx264 knows, fastest first.
var x264Presets = []string{"ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo"}

// Encoder runs ffmpeg. It holds no state besides its configuration and is
// safe for concurrent use.
type Encoder struct {
	cfg Config
}

// New returns an encoder for cfg.
func New(cfg Config) (*Encoder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("ffmpeg config: %w", err)
	}
	return &Encoder{cfg: cfg}, nil
}

// Available reports whether ffmpeg can be found; the error wraps ErrNotInstalled.
func (e *Encoder) Available() error {
	_, err := lookPath(e.cfg.FFmpeg)
	return err
}

func lookPath(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s: %v: %w", name, err, ErrNotInstalled)
	}
	return p, nil
}

// WriteFile encodes frames into path with codec. It writes a temporary file
// in path's directory and renames it, so a failure leaves no partial file.
func (e *Encoder) WriteFile(ctx context.Context, path string, f *fractal.Frames, c Codec) error {
	if err := f.Validate(); err != nil {
		return fmt.Errorf("encode %s: %w", c, err)
	}
	s, err := e.Start(ctx, path, ShapeOf(f), c)
	if err != nil {
		return err
	}
	for i := range f.Count {
		if err := s.WriteFrame(f.Frame(i)); err != nil {
			return err
		}
	}
	return s.Close()
}

// Encode encodes frames with codec and copies the file to w. MP4 with
// faststart needs a seekable output, so the file is built in the system's
// temporary directory first. It returns the bytes written to w.
func (e *Encoder) Encode(ctx context.Context, w io.Writer, f *fractal.Frames, c Codec) (int64, error) {
	dir, err := os.MkdirTemp("", "fractal-encode-")
	if err != nil {
		return 0, fmt.Errorf("encode %s: %w", c, err)
	}
	defer os.RemoveAll(dir)
	name := filepath.Join(dir, "video"+c.Ext())
	if err := e.WriteFile(ctx, name, f, c); err != nil {
		return 0, err
	}
	file, err := os.Open(name)
	if err != nil {
		return 0, fmt.Errorf("encode %s: %w", c, err)
	}
	defer file.Close()
	n, err := io.Copy(w, file)
	if err != nil {
		return n, fmt.Errorf("encode %s: copy: %w", c, err)
	}
	return n, nil
}

// args returns ffmpeg's arguments: raw rgb24 on stdin, the codec's settings,
// and flags that keep container metadata out of the output.
func (e *Encoder) args(f Shape, c Codec, out string) ([]string, error) {
	args := []string{
		"-hide_banner", "-nostats", "-loglevel", "error",
		"-f", "rawvideo", "-pix_fmt", "rgb24",
		"-s", fmt.Sprintf("%dx%d", f.Width, f.Height), "-r", strconv.Itoa(f.FPS),
		"-i", "pipe:0", "-an",
	}
	switch c {
	case H264:
		args = append(args, "-c:v", "libx264", "-preset", e.cfg.PresetH264, "-crf", strconv.Itoa(e.cfg.CRFH264),
			"-pix_fmt", "yuv420p", "-movflags", "+faststart", "-f", "mp4")
	case VP9:
		args = append(args, "-c:v", "libvpx-vp9", "-crf", strconv.Itoa(e.cfg.CRFVP9), "-b:v", "0",
			"-row-mt", "1", "-cpu-used", strconv.Itoa(e.cfg.VP9CPUUsed), "-pix_fmt", "yuv420p", "-f", "webm")
	default:
		return nil, fmt.Errorf("encode: unknown codec %q (want %s or %s): %w", c, H264, VP9, fractal.ErrInvalid)
	}
	if e.cfg.Threads > 0 {
		args = append(args, "-threads", strconv.Itoa(e.cfg.Threads))
	}
	return append(args, "-fflags", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1", "-y", out), nil
}

// tailBuffer keeps the last limit bytes written to it.
type tailBuffer struct {
	limit int
	buf   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.limit; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	s := strings.TrimSpace(string(t.buf))
	if s == "" {
		return "(no output)"
	}
	return strings.ReplaceAll(s, "\n", "; ")
}
