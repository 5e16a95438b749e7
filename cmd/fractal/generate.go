package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/ffmpeg"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/video"
)

// GenerateCommand runs an engine locally and writes the video to a file.
type GenerateCommand struct {
	Spec   fractal.Spec
	Output string       // -o
	Format video.Format // --format; empty: from Output's extension, else mp4
	JSON   bool
	// SeedSet is false when --seed was omitted; Run then draws one from Rand.
	SeedSet bool
	Engine  fractal.Engine
	Video   video.Config
	Rand    io.Reader // crypto/rand.Reader
	Now     func() time.Time
	// Progress draws a progress bar on stderr; on by default when stderr
	// is a terminal.
	Progress bool
}

// NewGenerateCommand returns the command with the reference engine and the
// default spec.
func NewGenerateCommand() *GenerateCommand {
	return &GenerateCommand{
		Spec:   refengine.New().Profile().DefaultSpec("", 0),
		Engine: refengine.New(),
		Video:  video.DefaultConfig(),
		Rand:   rand.Reader,
		Now:    time.Now,
	}
}

// ParseFlags reads the command line. Flags may come before or after the
// prompt; several words are joined into one prompt.
func (c *GenerateCommand) ParseFlags(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("generate", flag.ContinueOnError)
	lim := c.Engine.Profile().Limits
	fs.Uint64Var(&c.Spec.Seed, "seed", 0, "seed `N` (random and printed when omitted)")
	fs.IntVar(&c.Spec.Frames, "frames", c.Spec.Frames, fmt.Sprintf("number of frames `N` (%s)", lim.Frames))
	size := fs.String("size", fmt.Sprintf("%dx%d", c.Spec.Width, c.Spec.Height), fmt.Sprintf("frame size `WxH`: width %s, height %s", lim.Width, lim.Height))
	fs.IntVar(&c.Spec.FPS, "fps", c.Spec.FPS, fmt.Sprintf("frames per second `N` (%s)", lim.FPS))
	fs.IntVar(&c.Spec.Steps, "steps", c.Spec.Steps, fmt.Sprintf("sampling steps `N` (%s)", lim.Steps))
	format := fs.String("format", "", "output `FORMAT`: mp4, webm, gif or frames (default: from -o's extension, else mp4)")
	fs.StringVar(&c.Output, "o", "", "output `FILE` (required)")
	fs.BoolVar(&c.JSON, "json", false, "print one JSON object instead of text")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: fractal generate [flags] -o FILE \"PROMPT\"\n\n"+
			"Runs the reference engine locally, writes the video to FILE and prints its\n"+
			"canonical frames digest. Without ffmpeg, mp4 and webm fall back to a GIF\n"+
			"unless --format names them.\n\n")
		fs.PrintDefaults()
	}
	words, err := parseInterleaved(fs, args, stderr)
	if err != nil {
		return err
	}
	fs.Visit(func(f *flag.Flag) { c.SeedSet = c.SeedSet || f.Name == "seed" })
	if c.Spec.Width, c.Spec.Height, err = parseSize(*size); err != nil {
		return err
	}
	if *format != "" {
		if c.Format, err = video.ParseFormat(*format); err != nil {
			return usageErrorf("generate: --%v", err)
		}
	}
	switch {
	case c.Output == "":
		return usageErrorf("generate: -o FILE is required")
	case len(words) == 0:
		return usageErrorf("generate: a PROMPT is required, e.g. fractal generate -o ball.mp4 \"a red ball bouncing\"")
	}
	c.Spec.Prompt = strings.Join(words, " ")
	return nil
}

// parseInterleaved parses flags that may be mixed with positional
// arguments, returning the positional ones. "--" ends the flags.
func parseInterleaved(fs *flag.FlagSet, args []string, stderr io.Writer) ([]string, error) {
	var words []string
	for {
		if err := parseFlags(fs, args, stderr); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(words, rest...), nil
		}
		if len(rest) == 0 {
			return words, nil
		}
		words, args = append(words, rest[0]), rest[1:]
	}
}

// parseSize parses "WxH".
func parseSize(s string) (int, int, error) {
	ws, hs, ok := strings.Cut(strings.ToLower(s), "x")
	w, errW := strconv.Atoi(ws)
	h, errH := strconv.Atoi(hs)
	if !ok || errW != nil || errH != nil {
		return 0, 0, usageErrorf("generate: --size: want WxH such as 256x256, got %q", s)
	}
	return w, h, nil
}

// flagOf names the flag that sets a Spec field, for error messages.
func flagOf(field string) string {
	switch field {
	case "prompt":
		return "PROMPT"
	case "width", "height":
		return "--size"
	case "frames", "fps", "steps":
		return "--" + field
	}
	return ""
}

// validate checks the spec, naming every problem on one line.
func (c *GenerateCommand) validate() error {
	problems := c.Engine.Profile().Problems(c.Spec)
	if len(problems) == 0 {
		return nil
	}
	msgs := make([]string, len(problems))
	for i, p := range problems {
		msgs[i] = p.Error()
		var fe *fractal.FieldError
		if errors.As(p, &fe) && flagOf(fe.Field) != "" {
			msgs[i] += " (" + flagOf(fe.Field) + ")"
		}
	}
	return &specError{msg: "generate: invalid spec: " + strings.Join(msgs, "; ")}
}

// specError lists a spec's problems; it unwraps to fractal.ErrInvalid so the
// command exits with status 2.
type specError struct{ msg string }

func (e *specError) Error() string { return e.msg }
func (e *specError) Unwrap() error { return fractal.ErrInvalid }

// GenerateReport is what generate prints with --json.
type GenerateReport struct {
	Digest          fractal.Digest  `json:"digest"`
	FramesRoot      fractal.Digest  `json:"frames_root"`
	TrajectoryRoot  fractal.Digest  `json:"trajectory_root"`
	SpecHash        fractal.Digest  `json:"spec_hash"`
	Seconds         float64         `json:"seconds"`
	GenerateSeconds float64         `json:"generate_seconds"`
	EncodeSeconds   float64         `json:"encode_seconds"` // from the end of generation to the finished file
	Profile         fractal.Profile `json:"profile"`
	Spec            fractal.Spec    `json:"spec"`
	video.Output
}

// Run generates the video, writes it and prints the report.
func (c *GenerateCommand) Run(ctx context.Context, rio IO) error {
	if err := c.validate(); err != nil {
		return err
	}
	if !c.SeedSet {
		seed, err := randomSeed(c.Rand)
		if err != nil {
			return err
		}
		c.Spec.Seed = seed
		if !c.JSON {
			fmt.Fprintf(rio.Stdout, "seed %d\n", seed)
		}
	}
	if st, err := os.Stat(filepath.Dir(c.Output)); err != nil || !st.IsDir() {
		return fmt.Errorf("generate: -o %s: directory %s does not exist", c.Output, filepath.Dir(c.Output))
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	start := c.Now()
	// Create the file first: ffmpeg starts while the engine works.
	file, err := c.create(ctx)
	if err != nil {
		return err
	}
	defer file.Abort()
	bar := newProgressBar(rio.Stderr, c.Progress)
	res, err := c.Engine.Generate(ctx, c.Spec, fractal.GenerateOptions{Progress: bar.Update})
	bar.Done()
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	generated := c.Now()
	out, err := file.Finish(res.Frames)
	if err != nil {
		return fmt.Errorf("generate: write %s: %w", file.Output().Path, err)
	}
	end := c.Now()
	commit := res.Commit()
	rep := GenerateReport{
		Digest: commit.FramesDigest, FramesRoot: commit.FramesRoot, TrajectoryRoot: commit.TrajectoryRoot,
		SpecHash: c.Spec.Hash(), Seconds: end.Sub(start).Seconds(),
		GenerateSeconds: generated.Sub(start).Seconds(), EncodeSeconds: end.Sub(generated).Seconds(),
		Profile: res.Profile, Spec: c.Spec, Output: out,
	}
	return c.print(rio, rep)
}

// create starts the output file. MP4 and WebM fall back to GIF without
// ffmpeg only when --format did not name them.
func (c *GenerateCommand) create(ctx context.Context) (*video.File, error) {
	format := c.Format
	cfg := c.Video
	if format == "" {
		cfg.FallbackToGIF = true
		format = video.MP4
		if f, ok := video.FormatFromPath(c.Output); ok {
			format = f
		}
	}
	enc, err := video.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("generate: %w", err)
	}
	shape := ffmpeg.Shape{Count: c.Spec.Frames, Width: c.Spec.Width, Height: c.Spec.Height, FPS: c.Spec.FPS}
	file, err := enc.Create(ctx, c.Output, format, shape)
	switch {
	case errors.Is(err, ffmpeg.ErrNotInstalled):
		return nil, fmt.Errorf("generate: %w (install ffmpeg, or use --format gif)", err)
	case err != nil:
		return nil, fmt.Errorf("generate: %w", err)
	}
	return file, nil
}

func (c *GenerateCommand) print(rio IO, rep GenerateReport) error {
	if rep.Fallback {
		fmt.Fprintf(rio.Stderr, "fractal: ffmpeg is not installed; wrote a GIF to %s instead\n", rep.Path)
	}
	if c.JSON {
		b, err := json.Marshal(rep)
		if err != nil {
			return fmt.Errorf("generate: %w", err)
		}
		_, err = fmt.Fprintf(rio.Stdout, "%s\n", b)
		return err
	}
	fmt.Fprintf(rio.Stderr, "wrote %s (%s, %s) in %.2f s: generate %.2f s, encode %.2f s\n",
		rep.Path, rep.Format, byteSize(rep.Bytes), rep.Seconds, rep.GenerateSeconds, rep.EncodeSeconds)
	_, err := fmt.Fprintf(rio.Stdout, "digest %s\n", rep.Digest)
	return err
}

func randomSeed(r io.Reader) (uint64, error) {
	var b [8]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return 0, fmt.Errorf("generate: random seed: %w", err)
	}
	return binary.BigEndian.Uint64(b[:]), nil
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func runGenerate(ctx context.Context, rio IO, args []string) error {
	c := NewGenerateCommand()
	c.Progress = isTerminal(rio.Stderr)
	if err := c.ParseFlags(args, rio.Stderr); err != nil {
		return err
	}
	return c.Run(ctx, rio)
}
