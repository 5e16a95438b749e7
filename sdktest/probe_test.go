package sdktest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/video"
)

// probed is what ffprobe found in a file, every frame decoded.
type probed struct {
	Codec         string
	Width, Height int
	Frames        int
}

func (p probed) String() string {
	return fmt.Sprintf("%s %dx%d with %d frames", p.Codec, p.Width, p.Height, p.Frames)
}

// isImage tells whether ffprobe read a still image format.
func (p probed) isImage() bool {
	switch p.Codec {
	case "png", "mjpeg", "webp":
		return true
	}
	return false
}

// probe decodes every frame of the first video stream of the file the
// script saved as name.
func (c checker) probe(t *testing.T, name string) probed {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, c.ffprobe, "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=codec_name,width,height,nb_read_frames", "-of", "json", filepath.Join(c.out, name)).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%w: %s", err, ee.Stderr)
		}
		t.Fatalf("ffprobe %s: %v", name, err)
	}
	var res struct {
		Streams []struct {
			Codec  string `json:"codec_name"`
			Width  int    `json:"width"`
			Height int    `json:"height"`
			Frames string `json:"nb_read_frames"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res.Streams) != 1 {
		t.Fatalf("ffprobe %s: got %s (%v), want one video stream", name, out, err)
	}
	s := res.Streams[0]
	n, err := strconv.Atoi(s.Frames)
	if err != nil {
		t.Fatalf("ffprobe %s: frame count %q: %v", name, s.Frames, err)
	}
	return probed{Codec: s.Codec, Width: s.Width, Height: s.Height, Frames: n}
}

// blobs returns the keys of the blob store that hold anything of video
// id: its frames from any delivery and every encoding.
func (c checker) blobs(t *testing.T, id string) []string {
	t.Helper()
	gw := c.g.Gateway()
	keys := []string{"frames." + id}
	for a := 1; a <= gw.Config.MaxDeliveries; a++ {
		keys = append(keys, "frames."+id+"."+strconv.Itoa(a))
	}
	for _, f := range video.Formats() {
		if f != video.FramesFile {
			keys = append(keys, "video."+id+"."+string(f))
		}
	}
	var found []string
	for _, k := range keys {
		rc, err := gw.Blobs.Get(context.Background(), k)
		switch {
		case err == nil:
			rc.Close()
			found = append(found, k)
		case !errors.Is(err, fractal.ErrNotFound):
			t.Fatalf("blob %s: %v", k, err)
		}
	}
	return found
}
