package ffmpeg

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/fractal-grid/fractal"
)

// Shape is what ffmpeg must know before the first frame arrives.
type Shape struct {
	Count, Width, Height, FPS int
}

// ShapeOf returns the shape of f.
func ShapeOf(f *fractal.Frames) Shape {
	return Shape{Count: f.Count, Width: f.Width, Height: f.Height, FPS: f.FPS}
}

// Validate checks the shape against the Spec limits and the even sides
// that yuv420p needs.
func (s Shape) Validate() error {
	switch {
	case s.Count < fractal.MinFrames || s.Count > fractal.MaxFrames:
		return fractal.Errorf("frames", "must be between %d and %d, got %d", fractal.MinFrames, fractal.MaxFrames, s.Count)
	case s.Width < 2 || s.Width > fractal.MaxSide || s.Height < 2 || s.Height > fractal.MaxSide:
		return fractal.Errorf("size", "must be between 2×2 and %d×%d, got %d×%d", fractal.MaxSide, fractal.MaxSide, s.Width, s.Height)
	case s.Width%2 != 0 || s.Height%2 != 0:
		return fractal.Errorf("size", "yuv420p needs even sides, got %d×%d", s.Width, s.Height)
	case s.FPS < fractal.MinFPS || s.FPS > fractal.MaxFPS:
		return fractal.Errorf("fps", "must be between %d and %d, got %d", fractal.MinFPS, fractal.MaxFPS, s.FPS)
	}
	return nil
}

// Stream is an encode in progress: ffmpeg runs from Start and codes frames
// as WriteFrame hands them over, so its start-up overlaps whatever produces
// the frames. Close finishes the file; Abort (safe after Close) discards it.
// A Stream is used by one goroutine.
type Stream struct {
	codec   Codec
	shape   Shape
	ctx     context.Context
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	stderr  *tailBuffer
	tmp     string // the temporary file ffmpeg writes
	path    string // renamed to on Close
	written int
	done    bool
}

// Start runs ffmpeg to encode a video of shape s into path with codec. ffmpeg
// writes a temporary file in path's directory that Close renames to path.
// Cancelling ctx kills ffmpeg.
func (e *Encoder) Start(ctx context.Context, path string, s Shape, c Codec) (*Stream, error) {
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("encode %s: %w", c, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("encode %s: %w", c, err)
	}
	bin, err := lookPath(e.cfg.FFmpeg)
	if err != nil {
		return nil, err
	}
	tmp, err := reserveTemp(path)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", c, err)
	}
	args, err := e.args(s, c, tmp)
	if err != nil {
		os.Remove(tmp)
		return nil, err
	}
	st, err := e.start(ctx, bin, args)
	if err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("encode %s: %w", c, err)
	}
	st.codec, st.shape, st.tmp, st.path = c, s, tmp, path
	return st, nil
}

// reserveTemp creates an empty temporary file beside path for ffmpeg to
// overwrite, so the name is ours alone.
func reserveTemp(path string) (string, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return "", err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// start starts ffmpeg with args, reading stdin from the returned Stream.
func (e *Encoder) start(ctx context.Context, bin string, args []string) (*Stream, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	st := &Stream{ctx: ctx, cmd: cmd, stdin: stdin, stderr: &tailBuffer{limit: e.cfg.StderrLimit}}
	cmd.Stderr = st.stderr
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return st, nil
}

// WriteFrame hands ffmpeg the next frame: height rows of width RGB pixels.
// It blocks while ffmpeg is busy. On error the stream is aborted.
func (s *Stream) WriteFrame(pix []byte) error {
	if s.done {
		return fmt.Errorf("encode %s: write after close: %w", s.codec, fractal.ErrInvalid)
	}
	if want := s.shape.Width * s.shape.Height * 3; len(pix) != want {
		s.Abort()
		return fmt.Errorf("encode %s: frame of %d bytes, want %d: %w", s.codec, len(pix), want, fractal.ErrInvalid)
	}
	if s.written == s.shape.Count {
		s.Abort()
		return fmt.Errorf("encode %s: more than %d frames: %w", s.codec, s.shape.Count, fractal.ErrInvalid)
	}
	if _, err := s.stdin.Write(pix); err != nil {
		// ffmpeg stopped reading: its exit status and stderr say why.
		werr := s.wait()
		s.Abort()
		if werr == nil {
			werr = err
		}
		return fmt.Errorf("encode %s: %w", s.codec, werr)
	}
	s.written++
	return nil
}

// Close waits for ffmpeg to finish and renames the file into place. Every
// frame of the shape must have been written.
func (s *Stream) Close() error {
	if s.done {
		return fmt.Errorf("encode %s: already closed: %w", s.codec, fractal.ErrInvalid)
	}
	if s.written != s.shape.Count {
		s.Abort()
		return fmt.Errorf("encode %s: got %d of %d frames: %w", s.codec, s.written, s.shape.Count, fractal.ErrInvalid)
	}
	s.done = true
	if err := s.wait(); err != nil {
		os.Remove(s.tmp)
		return fmt.Errorf("encode %s: %w", s.codec, err)
	}
	// CreateTemp made the file private; give it a regular file's mode.
	if err := os.Chmod(s.tmp, 0o644); err != nil {
		os.Remove(s.tmp)
		return fmt.Errorf("encode %s: %w", s.codec, err)
	}
	if err := os.Rename(s.tmp, s.path); err != nil {
		os.Remove(s.tmp)
		return fmt.Errorf("encode %s: %w", s.codec, err)
	}
	return nil
}

// Abort stops ffmpeg and removes the temporary file. It does nothing after
// Close or an earlier Abort.
func (s *Stream) Abort() {
	if s.done {
		return
	}
	s.done = true
	if s.cmd.ProcessState == nil {
		s.cmd.Process.Kill()
		s.wait()
	}
	os.Remove(s.tmp)
}

// wait closes ffmpeg's input and waits for it to exit. A failure's error
// holds the tail of ffmpeg's stderr; after ctx ends it is ctx's error.
func (s *Stream) wait() error {
	s.stdin.Close()
	if s.cmd.ProcessState != nil {
		return nil // already waited for
	}
	if err := s.cmd.Wait(); err != nil {
		if ctxErr := s.ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return fmt.Errorf("ffmpeg: %v: %s", err, s.stderr.String())
	}
	return nil
}
