package video

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/ffmpeg"
)

// File is a video file being written. For MP4 and WebM, ffmpeg starts when
// the File is created, so its start-up overlaps the generation of the frames;
// Finish hands the frames over and renames the finished file into place.
// A File is used by one goroutine.
type File struct {
	ctx    context.Context
	enc    *Encoder
	out    Output
	shape  ffmpeg.Shape
	stream *ffmpeg.Stream // MP4 and WebM only
	done   bool
}

// Create starts writing a video of the given shape to path in format, with
// Resolve's fallback. When it falls back to GIF the extension of path
// changes to .gif (ball.mp4 becomes ball.gif). Cancelling ctx stops the
// write; nothing appears at the path until Finish succeeds.
func (e *Encoder) Create(ctx context.Context, path string, format Format, shape ffmpeg.Shape) (*File, error) {
	got, err := e.Resolve(format)
	if err != nil {
		return nil, err
	}
	f := &File{ctx: ctx, enc: e, shape: shape, out: Output{Path: path, Format: got, Fallback: got != format}}
	if f.out.Fallback {
		f.out.Path = strings.TrimSuffix(path, format.Ext()) + got.Ext()
		e.Logger.Warn("ffmpeg is not installed; writing a GIF instead", "requested", format, "file", f.out.Path)
	}
	if got.NeedsFFmpeg() {
		if f.stream, err = e.ffmpeg.Start(ctx, f.out.Path, shape, codec(got)); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// Output returns where the file goes and in which format; Bytes is set by
// Finish.
func (f *File) Output() Output { return f.out }

// Finish writes frames, which must have the shape given to Create, and
// renames the file into place. On error nothing is left behind.
func (f *File) Finish(frames *fractal.Frames) (Output, error) {
	if f.done {
		return Output{}, fmt.Errorf("write %s: already finished: %w", f.out.Path, fractal.ErrInvalid)
	}
	if err := frames.Validate(); err != nil {
		f.Abort()
		return Output{}, fmt.Errorf("write %s: %w", f.out.Format, err)
	}
	if got := ffmpeg.ShapeOf(frames); got != f.shape {
		f.Abort()
		return Output{}, fmt.Errorf("write %s: frames are %+v, created for %+v: %w", f.out.Format, got, f.shape, fractal.ErrInvalid)
	}
	f.done = true
	var err error
	if f.stream != nil {
		err = f.writeStream(frames)
	} else {
		err = writeAtomic(f.out.Path, func(w io.Writer) error { return f.enc.encodePureGo(f.ctx, w, frames, f.out.Format) })
	}
	if err != nil {
		return Output{}, err
	}
	st, err := os.Stat(f.out.Path)
	if err != nil {
		return Output{}, fmt.Errorf("write %s: %w", f.out.Format, err)
	}
	f.out.Bytes = st.Size()
	return f.out, nil
}

func (f *File) writeStream(frames *fractal.Frames) error {
	for i := range frames.Count {
		if err := f.stream.WriteFrame(frames.Frame(i)); err != nil {
			return err
		}
	}
	return f.stream.Close()
}

// Abort discards the file. It does nothing after Finish.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	if f.stream != nil {
		f.stream.Abort()
	}
}
