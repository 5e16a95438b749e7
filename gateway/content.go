package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/apierr"
	"github.com/fractal-grid/fractal/video"
)

// maxFramesFile bounds a stored frames file read back.
const maxFramesFile = 256 << 20

func encodedKey(id string, f video.Format) string { return "video." + id + "." + string(f) }

// handleContent serves a completed job's video. Encodings are made once and
// kept in the blob store beside the frames.
func (g *Gateway) handleContent(w http.ResponseWriter, r *http.Request, key Key) {
	j, err := g.ownJob(r, key)
	if err != nil {
		apierr.Write(w, err)
		return
	}
	variant := r.URL.Query().Get("variant")
	if variant == "" {
		variant = string(video.MP4)
	}
	format, err := video.ParseFormat(variant)
	if err != nil {
		apierr.Write(w, fractal.Errorf("variant", "must be mp4, webm, gif or frames, got %q", variant))
		return
	}
	if j.Status != fractal.JobCompleted {
		apierr.Write(w, fmt.Errorf("video %s is %s; content is available once it is completed: %w", j.ID, j.Status, fractal.ErrConflict))
		return
	}
	ctx := r.Context()
	if format == video.FramesFile {
		g.serveBlob(w, r, framesKey(j.ID, j.ResultAttempt), format, j.ID)
		return
	}
	if rc, err := g.Blobs.Get(ctx, encodedKey(j.ID, format)); err == nil {
		rc.Close()
		g.serveBlob(w, r, encodedKey(j.ID, format), format, j.ID)
		return
	}
	rc, err := g.Blobs.Get(ctx, framesKey(j.ID, j.ResultAttempt))
	if err != nil {
		if errors.Is(err, fractal.ErrNotFound) {
			err = fmt.Errorf("the frames of video %s are past their retention: %w", j.ID, fractal.ErrNotFound)
		}
		apierr.Write(w, err)
		return
	}
	frames, err := video.UnmarshalFrames(rc, maxFramesFile)
	rc.Close()
	if err != nil {
		apierr.Write(w, fmt.Errorf("stored frames of %s: %w", j.ID, err))
		return
	}
	enc, err := g.encoder()
	if err != nil {
		apierr.Write(w, err)
		return
	}
	var buf bytes.Buffer
	if _, err := enc.Encode(ctx, &buf, frames, format); err != nil {
		apierr.Write(w, fmt.Errorf("encode %s: %v: %w", format, err, fractal.ErrUnavailable))
		return
	}
	data := buf.Bytes()
	g.Blobs.Put(ctx, encodedKey(j.ID, format), bytes.NewReader(data))
	writeVideo(w, r, data, format, j.ID)
}

func (g *Gateway) serveBlob(w http.ResponseWriter, r *http.Request, key string, format video.Format, id string) {
	rc, err := g.Blobs.Get(r.Context(), key)
	if err != nil {
		apierr.Write(w, err)
		return
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxFramesFile))
	if err != nil {
		apierr.Write(w, err)
		return
	}
	writeVideo(w, r, data, format, id)
}

func writeVideo(w http.ResponseWriter, r *http.Request, data []byte, format video.Format, id string) {
	w.Header().Set("Content-Type", format.ContentType())
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="%s%s"`, id, format.Ext()))
	w.Header().Set("Cache-Control", "private, max-age=86400, immutable")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
}

// encoder returns the video encoder, made once.
func (g *Gateway) encoder() (*video.Encoder, error) {
	g.encOnce.Do(func() {
		g.enc, g.encErr = video.New(video.DefaultConfig())
	})
	return g.enc, g.encErr
}
