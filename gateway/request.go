package gateway

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fractal-grid/fractal"
)

// CreateRequest is the body of POST /v1/videos. Omitted fields take the
// defaults of fractal.DefaultSpec; an omitted seed is chosen at random and
// returned, so the result can be reproduced.
type CreateRequest struct {
	Prompt     string   `json:"prompt"`
	Seed       *uint64  `json:"seed,omitempty"`
	Size       string   `json:"size,omitempty"` // "WxH"
	Frames     *int     `json:"frames,omitempty"`
	Seconds    *float64 `json:"seconds,omitempty"` // frames = seconds × fps
	FPS        *int     `json:"fps,omitempty"`
	Steps      *int     `json:"steps,omitempty"`
	WebhookURL string   `json:"webhook_url,omitempty"`
}

// decodeCreate reads and checks a create request body.
func decodeCreate(r *http.Request, limit int64) (CreateRequest, error) {
	var req CreateRequest
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, limit))
	if err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			return req, fmt.Errorf("request body is over %d bytes: %w", limit, fractal.ErrTooLarge)
		}
		return req, fmt.Errorf("read body: %v: %w", err, fractal.ErrInvalid)
	}
	if !utf8.Valid(body) {
		// encoding/json would quietly replace the bad bytes; name the field.
		var raw map[string]json.RawMessage
		if json.Unmarshal(body, &raw) == nil {
			for k, v := range raw {
				if !utf8.Valid(v) && k != "" {
					return req, fractal.Errorf(k, "must be valid UTF-8")
				}
			}
		}
		return req, fractal.Errorf("body", "must be valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, jsonError(err)
	}
	if dec.More() {
		return req, fractal.Errorf("body", "must hold exactly one JSON object")
	}
	return req, nil
}

// jsonError names the field a JSON decoding error is about.
func jsonError(err error) error {
	var ute *json.UnmarshalTypeError
	switch {
	case errors.As(err, &ute) && ute.Field != "":
		return fractal.Errorf(ute.Field, "must be a JSON %s", ute.Type)
	case errors.As(err, &ute):
		return fractal.Errorf("body", "must be a JSON object")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		if field == "" {
			return fractal.Errorf("body", "has a field with an empty name")
		}
		return fractal.Errorf(field, "is not a known field (prompt, seed, size, frames, seconds, fps, steps, webhook_url)")
	}
	return fractal.Errorf("body", "is not valid JSON: %v", err)
}

// Spec turns the request into a validated spec; seed is used when the
// request names none.
func (c CreateRequest) Spec(seed uint64) (fractal.Spec, error) {
	s := fractal.DefaultSpec(c.Prompt, seed)
	if c.Seed != nil {
		s.Seed = *c.Seed
	}
	if c.Size != "" {
		w, h, err := parseSize(c.Size)
		if err != nil {
			return s, err
		}
		s.Width, s.Height = w, h
	}
	if c.FPS != nil {
		s.FPS = *c.FPS
	}
	switch {
	case c.Frames != nil && c.Seconds != nil:
		return s, fractal.Errorf("seconds", "give frames or seconds, not both")
	case c.Frames != nil:
		s.Frames = *c.Frames
	case c.Seconds != nil:
		sec := *c.Seconds
		if sec <= 0 || math.IsNaN(sec) || sec > float64(fractal.MaxFrames) {
			return s, fractal.Errorf("seconds", "must be positive and give at most %d frames", fractal.MaxFrames)
		}
		s.Frames = int(math.Round(sec * float64(s.FPS)))
	}
	if c.Steps != nil {
		s.Steps = *c.Steps
	}
	if err := s.Validate(); err != nil {
		return s, err
	}
	return s, nil
}

// parseSize reads "WxH".
func parseSize(v string) (int, int, error) {
	ws, hs, ok := strings.Cut(strings.ToLower(v), "x")
	w, err1 := strconv.Atoi(ws)
	h, err2 := strconv.Atoi(hs)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, fractal.Errorf("size", "must be WIDTHxHEIGHT such as 256x256, got %q", v)
	}
	return w, h, nil
}

// validateWebhook checks a webhook URL; private addresses are refused unless
// allowed (they would let callers probe the gateway's network).
func validateWebhook(raw string, allowPrivate bool) error {
	if raw == "" {
		return nil
	}
	if len(raw) > fractal.MaxWebhookURLBytes {
		return fractal.Errorf("webhook_url", "must be at most %d bytes", fractal.MaxWebhookURLBytes)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fractal.Errorf("webhook_url", "must be an absolute http(s) URL")
	}
	if !allowPrivate && privateHost(u.Hostname()) {
		return fractal.Errorf("webhook_url", "must not point to a private, loopback or link-local address")
	}
	return nil
}

// Video is a job as the API shows it.
type Video struct {
	ID          string            `json:"id"`
	Object      string            `json:"object"`
	Status      string            `json:"status"`
	Progress    int               `json:"progress"`
	Prompt      string            `json:"prompt"`
	Seed        uint64            `json:"seed"`
	Size        string            `json:"size"`
	Frames      int               `json:"frames"`
	FPS         int               `json:"fps"`
	Steps       int               `json:"steps"`
	Seconds     float64           `json:"seconds"`
	CreatedAt   int64             `json:"created_at"`
	CompletedAt int64             `json:"completed_at,omitempty"`
	Digest      string            `json:"digest,omitempty"`
	Miner       *MinerInfo        `json:"miner,omitempty"`
	Attempts    int               `json:"attempts"`
	Timings     *TimingsMs        `json:"timings,omitempty"`
	Error       string            `json:"error,omitempty"`
	WebhookURL  string            `json:"webhook_url,omitempty"`
	Links       map[string]string `json:"links"`
}

// MinerInfo names the miner that made a video.
type MinerInfo struct {
	UID    uint16 `json:"uid"`
	Hotkey string `json:"hotkey"`
}

// TimingsMs are a job's phases in milliseconds.
type TimingsMs struct {
	Queue         int64 `json:"queue_ms"`
	Accept        int64 `json:"accept_ms"`
	FirstProgress int64 `json:"first_progress_ms"`
	Generate      int64 `json:"generate_ms"`
	Total         int64 `json:"total_ms"`
}

// videoOf renders a job for the API.
func videoOf(j *fractal.Job) Video {
	v := Video{
		ID: j.ID, Object: "video", Status: string(j.Status), Progress: j.Progress,
		Prompt: j.Spec.Prompt, Seed: j.Spec.Seed, Size: fmt.Sprintf("%dx%d", j.Spec.Width, j.Spec.Height),
		Frames: j.Spec.Frames, FPS: j.Spec.FPS, Steps: j.Spec.Steps,
		Seconds:   float64(j.Spec.Frames) / float64(max(j.Spec.FPS, 1)),
		CreatedAt: j.Created.Unix(), Attempts: len(j.Attempts), Error: j.Error, WebhookURL: j.WebhookURL,
		Links: map[string]string{
			"self":   "/v1/videos/" + j.ID,
			"events": "/v1/videos/" + j.ID + "/events",
		},
	}
	if !j.Finished.IsZero() {
		v.CompletedAt = j.Finished.Unix()
	}
	if j.Commitment != nil {
		v.Digest = j.Commitment.FramesDigest.String()
	}
	if j.Miner != nil {
		v.Miner = &MinerInfo{UID: j.Miner.UID, Hotkey: j.Miner.Hotkey}
	}
	if j.Status == fractal.JobCompleted {
		v.Links["content"] = "/v1/videos/" + j.ID + "/content"
		t := j.Timings
		v.Timings = &TimingsMs{Queue: t.Queue.Milliseconds(), Accept: t.Accept.Milliseconds(), FirstProgress: t.FirstProgress.Milliseconds(),
			Generate: t.Generate.Milliseconds(), Total: t.Total.Milliseconds()}
	}
	return v
}

// newJobID returns a time-ordered id: newer ids sort after older ones.
func newJobID(now time.Time) string {
	return fmt.Sprintf("vid_%011x%s", now.UnixMilli(), randomToken(8))
}

// randomSeed draws a seed for a request that names none.
func randomSeed() uint64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return binary.LittleEndian.Uint64(b[:])
}
