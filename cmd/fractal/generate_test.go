package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/gif"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/ffmpeg"
	"github.com/fractal-grid/fractal/framesfile"
	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/video"
)

// small keeps generation fast; the tests are about the command, not the model.
var small = []string{"--frames", "4", "--size", "64x64", "--steps", "2", "--fps", "8"}

// runCLI runs the binary's Run and returns the exit status and outputs.
func runCLI(ctx context.Context, args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := Run(ctx, args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func generateArgs(out string, extra ...string) []string {
	args := append([]string{"generate", "--seed", "7"}, small...)
	args = append(args, extra...)
	return append(args, "-o", out, "a red ball bouncing over the ocean at night")
}

var digestLine = regexp.MustCompile(`^digest (sha256:[0-9a-f]{64})\n$`)

func TestGenerateFormats(t *testing.T) {
	testenv.Tool(t, "ffmpeg")
	testenv.Tool(t, "ffprobe")
	dir := t.TempDir()
	digests := map[string]string{}
	for _, tc := range []struct {
		name, file string
		extra      []string
		want       video.Format
	}{
		{"mp4 from extension", "a.mp4", nil, video.MP4},
		{"webm from extension", "a.webm", nil, video.WebM},
		{"gif from extension", "a.gif", nil, video.GIF},
		{"frames from extension", "a.frames", nil, video.FramesFile},
		{"mp4 by default", "a.video", nil, video.MP4},
		{"format flag wins", "b.mp4", []string{"--format", "gif"}, video.GIF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.file)
			code, stdout, stderr := runCLI(t.Context(), generateArgs(path, tc.extra...)...)
			if code != 0 {
				t.Fatalf("got exit %d (stderr %q), want 0", code, stderr)
			}
			m := digestLine.FindStringSubmatch(stdout)
			if m == nil {
				t.Fatalf("got stdout %q, want one digest line", stdout)
			}
			digests[tc.name] = m[1]
			checkVideo(t, path, tc.want, m[1])
		})
	}
	// One spec, one video: the digest does not depend on the file format.
	for name, d := range digests {
		if d != digests["frames from extension"] {
			t.Errorf("%s: got digest %s, want %s as for every format", name, d, digests["frames from extension"])
		}
	}
}

// checkVideo checks that path is a 4-frame 64×64 video in format; a frames
// file must also hash to digest.
func checkVideo(t *testing.T, path string, format video.Format, digest string) {
	t.Helper()
	switch format {
	case video.MP4, video.WebM:
		info, err := ffmpeg.Probe(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		codec := map[video.Format]string{video.MP4: "h264", video.WebM: "vp9"}[format]
		if info.Codec != codec || info.Frames != 4 || info.Width != 64 || info.Height != 64 {
			t.Errorf("got %+v, want %s with 4 frames of 64x64", info, codec)
		}
	case video.GIF:
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		g, err := gif.DecodeAll(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if len(g.Image) != 4 || g.Config.Width != 64 || g.Config.Height != 64 {
			t.Errorf("got GIF %dx%d with %d frames, want 64x64 with 4", g.Config.Width, g.Config.Height, len(g.Image))
		}
	case video.FramesFile:
		r, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		f, err := framesfile.Unmarshal(r, 0)
		if err != nil {
			t.Fatal(err)
		}
		if f.Digest().String() != digest {
			t.Errorf("got frames digest %s, want the printed %s", f.Digest(), digest)
		}
	}
}

func TestGenerateJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.gif")
	code, stdout, stderr := runCLI(t.Context(), generateArgs(path, "--json")...)
	if code != 0 {
		t.Fatalf("got exit %d (stderr %q), want 0", code, stderr)
	}
	if strings.Count(stdout, "\n") != 1 {
		t.Fatalf("got stdout %q, want one JSON line", stdout)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"digest", "seconds", "profile", "spec", "format", "file", "bytes", "trajectory_root", "frames_root", "spec_hash"} {
		if _, ok := got[key]; !ok {
			t.Errorf("got keys %v, want %q among them", keys(got), key)
		}
	}
	var rep GenerateReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	want := fractal.Spec{Profile: refengine.New().Profile().String(), Prompt: "a red ball bouncing over the ocean at night", Seed: 7, Frames: 4, Width: 64, Height: 64, FPS: 8, Steps: 2}
	if rep.Spec != want {
		t.Errorf("got spec %+v, want %+v", rep.Spec, want)
	}
	if rep.Format != video.GIF || rep.Path != path || rep.Seconds <= 0 || rep.Profile.ID == "" {
		t.Errorf("got format %s, file %s, %v s, profile %q; want gif, %s, a positive time and a profile", rep.Format, rep.Path, rep.Seconds, rep.Profile.ID, path)
	}
	for name, d := range map[string]fractal.Digest{"digest": rep.Digest, "frames_root": rep.FramesRoot, "trajectory_root": rep.TrajectoryRoot} {
		if d.IsZero() {
			t.Errorf("got zero %s, want a digest", name)
		}
	}
	if rep.SpecHash != want.Hash() {
		t.Errorf("got spec hash %s, want %s", rep.SpecHash, want.Hash())
	}
	if st, err := os.Stat(path); err != nil || st.Size() != rep.Bytes {
		t.Errorf("got file %v, %v, want %d bytes", st, err, rep.Bytes)
	}
}

func keys(m map[string]json.RawMessage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestGenerateRandomSeed checks that an omitted seed is printed and that
// the printed seed reproduces the video.
func TestGenerateRandomSeed(t *testing.T) {
	dir := t.TempDir()
	args := append([]string{"generate"}, small...)
	args = append(args, "-o", filepath.Join(dir, "a.frames"), "two yellow stars")
	code, stdout, stderr := runCLI(t.Context(), args...)
	if code != 0 {
		t.Fatalf("got exit %d (stderr %q), want 0", code, stderr)
	}
	var seed uint64
	var digest string
	if _, err := fmt.Sscanf(stdout, "seed %d\ndigest %s\n", &seed, &digest); err != nil {
		t.Fatalf("got stdout %q, want a seed line and a digest line: %v", stdout, err)
	}
	// Flags after the prompt work too.
	again := append([]string{"generate", "two yellow stars", "--seed", strconv.FormatUint(seed, 10)}, small...)
	again = append(again, "-o", filepath.Join(dir, "b.frames"))
	code, stdout, stderr = runCLI(t.Context(), again...)
	if code != 0 {
		t.Fatalf("got exit %d (stderr %q), want 0", code, stderr)
	}
	if want := "digest " + digest + "\n"; stdout != want {
		t.Errorf("got %q, want %q", stdout, want)
	}
}

func TestGenerateInvalid(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "x.gif")
	long := strings.Repeat("a", fractal.MaxPromptBytes+1)
	for _, tc := range []struct {
		name string
		args []string
		want string // in the one-line error
	}{
		{"missing output", []string{"generate", "a ball"}, "-o FILE is required"},
		{"missing prompt", []string{"generate", "-o", out}, "PROMPT is required"},
		{"unknown flag", []string{"generate", "--colour", "red", "-o", out, "a ball"}, "flag provided but not defined: -colour"},
		{"size without x", []string{"generate", "--size", "256", "-o", out, "a ball"}, `--size: want WxH such as 256x256, got "256"`},
		{"size not numbers", []string{"generate", "--size", "wide x tall", "-o", out, "a ball"}, "--size: want WxH"},
		{"unknown format", []string{"generate", "--format", "avi", "-o", out, "a ball"}, `--format: must be one of mp4, webm, gif, frames, got "avi"`},
		{"negative seed", []string{"generate", "--seed", "-1", "-o", out, "a ball"}, `invalid value "-1" for flag -seed`},
		{"empty prompt", []string{"generate", "-o", out, ""}, "prompt: must not be empty"},
		{"long prompt", []string{"generate", "-o", out, long}, "prompt: must be at most 1000 bytes, got 1001"},
		{"control character", []string{"generate", "-o", out, "a\tball"}, "prompt: must not contain control characters"},
		{"invalid utf-8", []string{"generate", "-o", out, "a \xff ball"}, "prompt: must be valid UTF-8"},
		{"zero frames", []string{"generate", "--frames", "0", "-o", out, "a ball"}, "frames: must be between 1 and 64, got 0 (--frames)"},
		{"too many frames", []string{"generate", "--frames", "65", "-o", out, "a ball"}, "frames: must be between 1 and 64, got 65 (--frames)"},
		{"width not a multiple", []string{"generate", "--size", "100x64", "-o", out, "a ball"}, "width: must be a multiple of 8 between 64 and 1024, got 100 (--size)"},
		{"width too small", []string{"generate", "--size", "56x64", "-o", out, "a ball"}, "width: must be a multiple of 8 between 64 and 1024, got 56 (--size)"},
		{"height too big", []string{"generate", "--size", "64x1032", "-o", out, "a ball"}, "height: must be a multiple of 8 between 64 and 1024, got 1032 (--size)"},
		{"zero fps", []string{"generate", "--fps", "0", "-o", out, "a ball"}, "fps: must be between 1 and 60, got 0 (--fps)"},
		{"fast fps", []string{"generate", "--fps", "61", "-o", out, "a ball"}, "fps: must be between 1 and 60, got 61 (--fps)"},
		{"zero steps", []string{"generate", "--steps", "0", "-o", out, "a ball"}, "steps: must be between 1 and 100, got 0 (--steps)"},
		{"many steps", []string{"generate", "--steps", "101", "-o", out, "a ball"}, "steps: must be between 1 and 100, got 101 (--steps)"},
		{"two problems", []string{"generate", "--fps", "0", "--steps", "0", "-o", out, "a ball"}, "fps: must be between 1 and 60, got 0 (--fps); steps: must be between 1 and 100, got 0 (--steps)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t.Context(), tc.args...)
			if code != 2 {
				t.Errorf("got exit %d, want 2", code)
			}
			if stdout != "" {
				t.Errorf("got stdout %q, want none", stdout)
			}
			last := lastLine(stderr)
			if !strings.HasPrefix(last, "fractal: ") || !strings.Contains(last, tc.want) {
				t.Errorf("got stderr %q, want a last line 'fractal: …%s…'", stderr, tc.want)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("got %d files, want none after invalid input", len(entries))
	}
}

// lastLine returns the error line: flag parse errors are followed only by
// the usage text on stderr, which the flag package prints before it.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestGenerateMissingDirectory(t *testing.T) {
	out := filepath.Join(t.TempDir(), "no", "such", "x.gif")
	code, _, stderr := runCLI(t.Context(), generateArgs(out)...)
	if code != 1 || !strings.Contains(stderr, "does not exist") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("got exit %d, stderr %q, want 1 and one line saying the directory does not exist", code, stderr)
	}
}

func TestGenerateInterrupted(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	code, _, stderr := runCLI(ctx, generateArgs(filepath.Join(dir, "x.gif"))...)
	if code != 130 || stderr != "fractal: interrupted\n" {
		t.Errorf("got exit %d, stderr %q, want 130 and 'fractal: interrupted'", code, stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("got %d files, want none after an interrupted run", len(entries))
	}
}

// TestGenerateWithoutFFmpeg checks the fallback: an mp4 named only by the
// file's extension becomes a GIF, one asked for with --format fails.
func TestGenerateWithoutFFmpeg(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		wantErr  string
		wantFile string
	}{
		{"extension falls back", nil, "", "x.gif"},
		{"format flag fails", []string{"--format", "mp4"}, "install ffmpeg", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c := NewGenerateCommand()
			c.Video.FFmpeg.FFmpeg = "fractal-no-such-ffmpeg"
			args := append(append(append([]string{"--seed", "7"}, small...), tc.args...), "-o", filepath.Join(dir, "x.mp4"), "a ball")
			if err := c.ParseFlags(args, new(bytes.Buffer)); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			err := c.Run(t.Context(), IO{Stdout: &stdout, Stderr: &stderr})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("got %v, want an error saying %q", err, tc.wantErr)
				}
				if entries, _ := os.ReadDir(dir); len(entries) != 0 {
					t.Errorf("got %d files, want none", len(entries))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(stderr.String(), "wrote a GIF to "+filepath.Join(dir, tc.wantFile)) {
				t.Errorf("got stderr %q, want it to say a GIF was written instead", stderr.String())
			}
			checkVideo(t, filepath.Join(dir, tc.wantFile), video.GIF, "")
		})
	}
}

func TestProgressBar(t *testing.T) {
	for _, tc := range []struct {
		name    string
		enabled bool
		want    string
	}{
		{"terminal", true, "\rgenerating [---] 0/2 steps\rgenerating [#--] 1/2 steps\rgenerating [###] 2/2 steps\n"},
		{"not a terminal", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			b := newProgressBar(&buf, tc.enabled)
			b.width = 3
			for _, step := range []int{0, 1, 1, 2} {
				b.Update(fractal.Progress{Step: step, Steps: 2})
			}
			b.Done()
			if got := buf.String(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	code, stdout, _ := runCLI(t.Context(), "version")
	if code != 0 {
		t.Fatalf("got exit %d, want 0", code)
	}
	re := regexp.MustCompile(`^fractal \S+\nengine fractal-ref@\S+ sha256:[0-9a-f]{64} \(exact\)\n$`)
	if !re.MatchString(stdout) {
		t.Errorf("got %q, want the version and the engine profile", stdout)
	}
}
