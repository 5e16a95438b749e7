package localgrid

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/refengine"
)

// BenchResult holds what Bench measured. Times are medians in seconds.
type BenchResult struct {
	Miners  int          `json:"miners"`
	Spec    fractal.Spec `json:"spec"`
	Jobs    int          `json:"jobs"`
	ReadyS  float64      `json:"ready_s"`   // from starting the grid to its API answering
	EngineS float64      `json:"engine_s"`  // the reference engine called directly
	JobS    float64      `json:"job_s"`     // submit until the API says completed
	MP4S    float64      `json:"mp4_s"`     // submit until the MP4 is downloaded
	Ratio   float64      `json:"ratio"`     // median of job ÷ engine, job by job
	MP4     float64      `json:"mp4_ratio"` // median of mp4 ÷ engine
}

// Bench starts a grid with cfg, then runs jobs jobs of spec one after
// another, each both on the reference engine directly and through the API,
// and reports the time to ready and the user-visible overhead. Validator
// rounds after the first are paused so only the job uses the CPU. The grid
// is closed before Bench returns.
func Bench(ctx context.Context, cfg Config, spec fractal.Spec, jobs int) (BenchResult, error) {
	res := BenchResult{Miners: cfg.Miners, Spec: spec, Jobs: jobs}
	if jobs < 1 {
		return res, fractal.Errorf("jobs", "must be at least 1, got %d", jobs)
	}
	cfg.Round = time.Hour
	g := New()
	g.Config = cfg
	start := time.Now()
	if err := g.Open(ctx); err != nil {
		return res, err
	}
	defer g.Close()
	c := &benchClient{base: g.URL(), http: &http.Client{Timeout: time.Minute}}
	if err := c.do(ctx, "GET", "healthz", nil, nil); err != nil {
		return res, err
	}
	res.ReadyS = time.Since(start).Seconds()
	// A key that polling every few milliseconds does not rate-limit.
	_, key, err := g.Gateway().Keys().Create(ctx, "bench", 10_000, 10_000, 16)
	if err != nil {
		return res, err
	}
	c.key = key
	eng := refengine.New()
	var engine, job, mp4, ratio, mp4Ratio []float64
	for i := range jobs {
		s := spec
		s.Seed = spec.Seed + uint64(i)
		t0 := time.Now()
		if _, err := eng.Generate(ctx, s, fractal.GenerateOptions{KeepStates: true}); err != nil {
			return res, err
		}
		e := time.Since(t0).Seconds()
		j, m, err := c.job(ctx, s)
		if err != nil {
			return res, err
		}
		engine, job, mp4 = append(engine, e), append(job, j), append(mp4, m)
		ratio, mp4Ratio = append(ratio, j/e), append(mp4Ratio, m/e)
	}
	res.EngineS, res.JobS, res.MP4S = median(engine), median(job), median(mp4)
	res.Ratio, res.MP4 = median(ratio), median(mp4Ratio)
	return res, nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// benchClient calls the grid's API.
type benchClient struct {
	base, key string
	http      *http.Client
}

// job submits spec, polls until it completes and downloads the MP4; it
// returns the seconds to completion and to the downloaded MP4.
func (c *benchClient) job(ctx context.Context, spec fractal.Spec) (float64, float64, error) {
	body := map[string]any{"prompt": spec.Prompt, "seed": spec.Seed, "size": fmt.Sprintf("%dx%d", spec.Width, spec.Height),
		"frames": spec.Frames, "fps": spec.FPS, "steps": spec.Steps}
	start := time.Now()
	var v struct{ ID, Status, Error string }
	if err := c.do(ctx, "POST", "v1/videos", body, &v); err != nil {
		return 0, 0, err
	}
	for v.Status != string(fractal.JobCompleted) {
		if v.Status == string(fractal.JobFailed) || v.Status == string(fractal.JobCancelled) {
			return 0, 0, fmt.Errorf("video %s %s: %s", v.ID, v.Status, v.Error)
		}
		time.Sleep(5 * time.Millisecond)
		if err := c.do(ctx, "GET", "v1/videos/"+v.ID, nil, &v); err != nil {
			return 0, 0, err
		}
	}
	done := time.Since(start).Seconds()
	if err := c.do(ctx, "GET", "v1/videos/"+v.ID+"/content?variant=mp4", nil, nil); err != nil {
		return 0, 0, err
	}
	return done, time.Since(start).Seconds(), nil
}

func (c *benchClient) do(ctx context.Context, method, path string, in, out any) error {
	var rd io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s /%s: status %d: %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}
