package video

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/ffmpeg"
	"github.com/fractal-grid/fractal/framesfile"
	"github.com/fractal-grid/fractal/gifvideo"
)

// Config configures an Encoder.
type Config struct {
	FFmpeg ffmpeg.Config
	GIF    gifvideo.Config
	// FallbackToGIF writes a GIF instead of MP4 or WebM when ffmpeg is not
	// installed. Off, such a request fails with ffmpeg.ErrNotInstalled.
	FallbackToGIF bool
}

// DefaultConfig returns the default settings (no fallback).
func DefaultConfig() Config {
	return Config{FFmpeg: ffmpeg.DefaultConfig(), GIF: gifvideo.DefaultConfig()}
}

// Validate checks the settings.
func (c Config) Validate() error {
	if err := c.FFmpeg.Validate(); err != nil {
		return fmt.Errorf("ffmpeg: %w", err)
	}
	if err := c.GIF.Validate(); err != nil {
		return fmt.Errorf("gif: %w", err)
	}
	return nil
}

// Encoder writes frames in every format. It is safe for concurrent use.
type Encoder struct {
	// Logger reports fallbacks; New sets a logger that discards.
	Logger *slog.Logger

	ffmpeg   *ffmpeg.Encoder
	gif      *gifvideo.Encoder
	fallback bool
}

// New returns an encoder for cfg.
func New(cfg Config) (*Encoder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("video config: %w", err)
	}
	ff, err := ffmpeg.New(cfg.FFmpeg)
	if err != nil {
		return nil, err
	}
	g, err := gifvideo.New(cfg.GIF)
	if err != nil {
		return nil, err
	}
	return &Encoder{Logger: slog.New(slog.DiscardHandler), ffmpeg: ff, gif: g, fallback: cfg.FallbackToGIF}, nil
}

// Resolve returns the format that a request for format will produce: format
// itself, or GIF when it needs ffmpeg, ffmpeg is missing and the fallback is
// on. Without the fallback a missing ffmpeg is an error wrapping
// ffmpeg.ErrNotInstalled. Callers that must announce the format before
// writing (an HTTP Content-Type) call it first.
func (e *Encoder) Resolve(format Format) (Format, error) {
	if _, err := ParseFormat(string(format)); err != nil {
		return "", err
	}
	if !format.NeedsFFmpeg() {
		return format, nil
	}
	if err := e.ffmpeg.Available(); err != nil {
		if e.fallback && errors.Is(err, ffmpeg.ErrNotInstalled) {
			return GIF, nil
		}
		return "", fmt.Errorf("%s needs ffmpeg: %w", format, err)
	}
	return format, nil
}

// Output says what WriteFile wrote.
type Output struct {
	Path   string `json:"file"`
	Format Format `json:"format"`
	Bytes  int64  `json:"bytes"`
	// Fallback is set when a GIF was written in place of MP4 or WebM.
	Fallback bool `json:"fallback,omitempty"`
}

// WriteFile writes frames to path in format. It writes a temporary file in
// path's directory and renames it, so a failure leaves no partial file. When
// it falls back to GIF the extension of path changes to .gif (ball.mp4
// becomes ball.gif); Output says what was written where.
func (e *Encoder) WriteFile(ctx context.Context, path string, f *fractal.Frames, format Format) (Output, error) {
	if err := f.Validate(); err != nil {
		return Output{}, fmt.Errorf("write %s: %w", format, err)
	}
	file, err := e.Create(ctx, path, format, ffmpeg.ShapeOf(f))
	if err != nil {
		return Output{}, err
	}
	return file.Finish(f)
}

// Encode writes frames to w in format (after Resolve's fallback) and returns
// the format written. MP4 and WebM are built in a temporary file first, so
// nothing reaches w when ffmpeg fails.
func (e *Encoder) Encode(ctx context.Context, w io.Writer, f *fractal.Frames, format Format) (Format, error) {
	got, err := e.Resolve(format)
	if err != nil {
		return "", err
	}
	switch got {
	case MP4, WebM:
		_, err = e.ffmpeg.Encode(ctx, w, f, codec(got))
	default:
		err = e.encodePureGo(ctx, w, f, got)
	}
	if err != nil {
		return "", err
	}
	return got, nil
}

func (e *Encoder) encodePureGo(ctx context.Context, w io.Writer, f *fractal.Frames, format Format) error {
	if format == GIF {
		return e.gif.Encode(ctx, w, f)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("write frames: %w", err)
	}
	return framesfile.Marshal(w, f)
}

func codec(f Format) ffmpeg.Codec {
	if f == WebM {
		return ffmpeg.VP9
	}
	return ffmpeg.H264
}

// writeAtomic writes path through a temporary file in its directory, synced
// and renamed into place only when write succeeds.
func writeAtomic(path string, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 1<<16)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
