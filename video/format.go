// Package video turns canonical frames into files people and programs use:
// MP4 and WebM through ffmpeg, an animated GIF in pure Go, and the canonical
// frames file (package framesfile), a compressed, self-verifying copy of the
// exact pixels.
package video

import (
	"path/filepath"
	"strings"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/framesfile"
)

// Format is an output format.
type Format string

// The formats. FramesFile is the only lossless, verifiable one.
const (
	MP4        Format = "mp4"    // H.264 in MP4, yuv420p, faststart
	WebM       Format = "webm"   // VP9 in WebM
	GIF        Format = "gif"    // animated GIF, pure Go
	FramesFile Format = "frames" // canonical frames, zstd-compressed, with their digest
)

// Formats returns every format, in the order they are documented.
func Formats() []Format { return []Format{MP4, WebM, GIF, FramesFile} }

// ParseFormat parses a format name ("mp4", "WebM", ".gif", …). The error is a
// *fractal.FieldError for field "format".
func ParseFormat(s string) (Format, error) {
	f := Format(strings.ToLower(strings.TrimPrefix(strings.TrimSpace(s), ".")))
	for _, known := range Formats() {
		if f == known {
			return f, nil
		}
	}
	return "", fractal.Errorf("format", "must be one of %s, got %q", formatList(), s)
}

// FormatFromPath returns the format that path's extension names.
func FormatFromPath(path string) (Format, bool) {
	ext := filepath.Ext(path)
	if ext == "" {
		return "", false
	}
	f, err := ParseFormat(ext)
	return f, err == nil
}

// Ext returns the file extension of the format, with the dot.
func (f Format) Ext() string { return "." + string(f) }

// ContentType returns the format's media type.
func (f Format) ContentType() string {
	switch f {
	case MP4:
		return "video/mp4"
	case WebM:
		return "video/webm"
	case GIF:
		return "image/gif"
	case FramesFile:
		return framesfile.ContentType
	}
	return "application/octet-stream"
}

// NeedsFFmpeg reports whether encoding the format runs ffmpeg.
func (f Format) NeedsFFmpeg() bool { return f == MP4 || f == WebM }

func formatList() string {
	names := make([]string, 0, 4)
	for _, f := range Formats() {
		names = append(names, string(f))
	}
	return strings.Join(names, ", ")
}
