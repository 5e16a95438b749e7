package ffmpeg

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"time"
)

// Info describes the first video stream of an encoded file, as ffprobe
// reports it.
type Info struct {
	Format   string        `json:"format"` // container, e.g. "mov,mp4,m4a,3gp,3g2,mj2" or "matroska,webm"
	Codec    string        `json:"codec"`  // e.g. "h264", "vp9"
	Frames   int           `json:"frames"` // frames actually decoded (-count_frames)
	Width    int           `json:"width"`
	Height   int           `json:"height"`
	PixFmt   string        `json:"pix_fmt"`
	Duration time.Duration `json:"duration"` // of the stream, or of the container when the stream has none
}

// Probe runs ffprobe from PATH on path.
func Probe(ctx context.Context, path string) (Info, error) {
	return probe(ctx, DefaultConfig().FFprobe, path)
}

// Probe runs the encoder's ffprobe on path.
func (e *Encoder) Probe(ctx context.Context, path string) (Info, error) {
	return probe(ctx, e.cfg.FFprobe, path)
}

// probeOutput is the part of ffprobe's JSON that Info needs.
type probeOutput struct {
	Streams []struct {
		CodecName    string `json:"codec_name"`
		Width        int    `json:"width"`
		Height       int    `json:"height"`
		PixFmt       string `json:"pix_fmt"`
		NbReadFrames string `json:"nb_read_frames"`
		Duration     string `json:"duration"`
	} `json:"streams"`
	Format struct {
		FormatName string `json:"format_name"`
		Duration   string `json:"duration"`
	} `json:"format"`
}

func probe(ctx context.Context, ffprobe, path string) (Info, error) {
	bin, err := lookPath(ffprobe)
	if err != nil {
		return Info{}, err
	}
	cmd := exec.CommandContext(ctx, bin, "-v", "error", "-print_format", "json", "-count_frames",
		"-select_streams", "v:0",
		"-show_entries", "stream=codec_name,width,height,pix_fmt,nb_read_frames,duration:format=format_name,duration",
		path)
	stderr := &tailBuffer{limit: 4096}
	cmd.Stderr = stderr
	cmd.WaitDelay = 2 * time.Second
	out, err := cmd.Output()
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return Info{}, fmt.Errorf("probe %s: %w", path, ctxErr)
		}
		return Info{}, fmt.Errorf("probe %s: ffprobe: %v: %s", path, err, stderr.String())
	}
	var po probeOutput
	if err := json.Unmarshal(out, &po); err != nil {
		return Info{}, fmt.Errorf("probe %s: ffprobe output: %w", path, err)
	}
	if len(po.Streams) == 0 {
		return Info{}, fmt.Errorf("probe %s: no video stream", path)
	}
	s := po.Streams[0]
	info := Info{Format: po.Format.FormatName, Codec: s.CodecName, Width: s.Width, Height: s.Height, PixFmt: s.PixFmt}
	if info.Frames, err = strconv.Atoi(s.NbReadFrames); err != nil {
		return Info{}, fmt.Errorf("probe %s: frame count %q: %w", path, s.NbReadFrames, err)
	}
	dur := s.Duration
	if dur == "" || dur == "N/A" {
		dur = po.Format.Duration
	}
	if dur != "" && dur != "N/A" {
		sec, err := strconv.ParseFloat(dur, 64)
		if err != nil {
			return Info{}, fmt.Errorf("probe %s: duration %q: %w", path, dur, err)
		}
		info.Duration = time.Duration(sec * float64(time.Second))
	}
	return info, nil
}
