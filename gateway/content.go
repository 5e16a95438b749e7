package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/apierr"
	"github.com/fractal-grid/fractal/framesfile"
	"github.com/fractal-grid/fractal/video"
)

// maxFramesFile bounds a stored frames file read back.
const maxFramesFile = 256 << 20

func encodedKey(id string, f video.Format) string { return "video." + id + "." + string(f) }

// contentKeys are the blob keys of every encoding of a video (its frames
// are under framesKey).
func contentKeys(id string) []string {
	var keys []string
	for _, f := range video.Formats() {
		if f != video.FramesFile {
			keys = append(keys, encodedKey(id, f))
		}
	}
	return keys
}

// contentVariant maps a variant of the OpenAI SDKs to a format: video is
// mp4. thumbnail and spritesheet are images made from the frames.
func contentVariant(variant string) (video.Format, string, error) {
	switch variant {
	case "", "video":
		return video.MP4, "", nil
	case "thumbnail", "spritesheet":
		return "", variant, nil
	}
	f, err := video.ParseFormat(variant)
	if err != nil {
		return "", "", fractal.Errorf("variant", "must be video, thumbnail, spritesheet, mp4, webm, gif or frames, got %q", variant)
	}
	return f, "", nil
}

// handleContent serves a completed job's video. Encodings are made once and
// kept in the blob store beside the frames.
func (g *Gateway) handleContent(w http.ResponseWriter, r *http.Request, key Key) {
	j, err := g.ownJob(r, key)
	if err != nil {
		apierr.Write(w, err)
		return
	}
	format, image, err := contentVariant(r.URL.Query().Get("variant"))
	if err != nil {
		apierr.Write(w, err)
		return
	}
	if j.Status != fractal.JobCompleted {
		apierr.Write(w, fmt.Errorf("video %s is %s; content is available once it is completed: %w", j.ID, j.Status, fractal.ErrConflict))
		return
	}
	if err := g.expired(j, "it was removed"); err != nil {
		apierr.Write(w, err)
		return
	}
	ctx := r.Context()
	if image != "" {
		g.serveImage(w, r, j, image)
		return
	}
	if format == video.FramesFile {
		g.serveBlob(w, r, framesKey(j.ID, j.ResultAttempt), format, j.ID)
		return
	}
	if rc, err := g.Blobs.Get(ctx, encodedKey(j.ID, format)); err == nil {
		rc.Close()
		g.serveBlob(w, r, encodedKey(j.ID, format), format, j.ID)
		return
	}
	frames, err := g.frames(ctx, j)
	if err != nil {
		apierr.Write(w, err)
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

// frames reads a completed job's stored frames.
func (g *Gateway) frames(ctx context.Context, j *fractal.Job) (*fractal.Frames, error) {
	rc, err := g.Blobs.Get(ctx, framesKey(j.ID, j.ResultAttempt))
	if err != nil {
		if errors.Is(err, fractal.ErrNotFound) {
			err = fmt.Errorf("the frames of video %s are no longer stored (past the store's retention): %w", j.ID, apierr.ErrGone)
		}
		return nil, err
	}
	defer rc.Close()
	frames, err := framesfile.Unmarshal(rc, maxFramesFile)
	if err != nil {
		return nil, fmt.Errorf("stored frames of %s: %w", j.ID, err)
	}
	return frames, nil
}

// serveImage answers variant thumbnail (a PNG of the middle frame) or
// spritesheet (a JPEG grid of every frame, up to 8 a row).
func (g *Gateway) serveImage(w http.ResponseWriter, r *http.Request, j *fractal.Job, variant string) {
	frames, err := g.frames(r.Context(), j)
	if err != nil {
		apierr.Write(w, err)
		return
	}
	var buf bytes.Buffer
	ctype, ext := "image/png", ".png"
	if variant == "thumbnail" {
		err = png.Encode(&buf, frameImage(frames, frames.Count/2, 1))
	} else {
		ctype, ext = "image/jpeg", ".jpg"
		err = jpeg.Encode(&buf, frameImage(frames, 0, frames.Count), &jpeg.Options{Quality: 85})
	}
	if err != nil {
		apierr.Write(w, fmt.Errorf("encode %s of %s: %w", variant, j.ID, err))
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="%s.%s%s"`, j.ID, variant, ext))
	w.Header().Set("Cache-Control", "private, max-age=86400, immutable")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(buf.Bytes()))
}

// frameImage lays out n frames from first in a grid up to 8 wide.
func frameImage(f *fractal.Frames, first, n int) image.Image {
	cols := min(n, 8)
	rows := (n + cols - 1) / cols
	img := image.NewRGBA(image.Rect(0, 0, cols*f.Width, rows*f.Height))
	frameBytes := f.Width * f.Height * 3
	for k := range n {
		pix := f.Pix[(first+k)*frameBytes:]
		x0, y0 := (k%cols)*f.Width, (k/cols)*f.Height
		for y := range f.Height {
			for x := range f.Width {
				p := pix[(y*f.Width+x)*3:]
				img.SetRGBA(x0+x, y0+y, color.RGBA{p[0], p[1], p[2], 255})
			}
		}
	}
	return img
}

func (g *Gateway) serveBlob(w http.ResponseWriter, r *http.Request, key string, format video.Format, id string) {
	rc, err := g.Blobs.Get(r.Context(), key)
	if errors.Is(err, fractal.ErrNotFound) {
		err = fmt.Errorf("the %s of video %s is no longer stored (past the store's retention): %w", format, id, apierr.ErrGone)
	}
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
