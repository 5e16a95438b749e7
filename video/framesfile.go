package video

import (
	"io"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/framesfile"
)

// MarshalFrames writes f as a frames file.
//
// Deprecated: use framesfile.Marshal; this remains until the last callers
// move.
func MarshalFrames(w io.Writer, f *fractal.Frames) error { return framesfile.Marshal(w, f) }

// UnmarshalFrames reads a whole frames file from r.
//
// Deprecated: use framesfile.Unmarshal; this remains until the last callers
// move.
func UnmarshalFrames(r io.Reader, maxBytes int64) (*fractal.Frames, error) {
	return framesfile.Unmarshal(r, maxBytes)
}
