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
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/refengine"
)

// CreateRequest is the body of POST /v1/videos, sent as JSON or as
// multipart/form-data (as the OpenAI SDKs send it) with the same fields.
// Omitted fields take the defaults of fractal.DefaultSpec; an omitted seed
// is chosen at random and returned, so the result can be reproduced.
type CreateRequest struct {
	Prompt         string          `json:"prompt"`
	Model          string          `json:"model,omitempty"` // a served profile id; "" for the default
	Seed           *uint64         `json:"seed,omitempty"`
	Size           string          `json:"size,omitempty"` // "WxH"
	Frames         *int            `json:"frames,omitempty"`
	Seconds        *Seconds        `json:"seconds,omitempty"` // frames = seconds × fps
	FPS            *int            `json:"fps,omitempty"`
	Steps          *int            `json:"steps,omitempty"`
	WebhookURL     string          `json:"webhook_url,omitempty"`
	InputReference json.RawMessage `json:"input_reference,omitempty"` // refused: no served model takes an image
}

// Seconds is a duration in seconds, sent as a JSON number or, as the
// OpenAI SDKs send it, a string such as "4".
type Seconds float64

// UnmarshalJSON reads a number or a string holding one.
func (s *Seconds) UnmarshalJSON(b []byte) error {
	var v float64
	if len(b) > 0 && b[0] == '"' {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return fractal.Errorf("seconds", "must be a number or a string holding one")
		}
		return s.parse(str)
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return fractal.Errorf("seconds", "must be a number or a string holding one")
	}
	*s = Seconds(v)
	return nil
}

func (s *Seconds) parse(str string) error {
	v, err := strconv.ParseFloat(strings.TrimSpace(str), 64)
	if err != nil {
		return fractal.Errorf("seconds", "must be a number such as 2 or 0.5, got %q", str)
	}
	*s = Seconds(v)
	return nil
}

// decodeCreate reads and checks a create request body: multipart/form-data
// when the request says so, else JSON.
func decodeCreate(r *http.Request, limit int64) (CreateRequest, error) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		return decodeMultipart(r, limit)
	}
	var req CreateRequest
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, limit))
	if err != nil {
		return req, bodyError(err, limit)
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

// bodyError names a failed read of a body bounded by limit.
func bodyError(err error, limit int64) error {
	if errors.As(err, new(*http.MaxBytesError)) {
		return fmt.Errorf("request body is over %d bytes: %w", limit, fractal.ErrTooLarge)
	}
	var fe *fractal.FieldError
	if errors.As(err, &fe) {
		return err
	}
	return fmt.Errorf("read body: %v: %w", err, fractal.ErrInvalid)
}

// jsonError names the field a JSON decoding error is about.
func jsonError(err error) error {
	var ute *json.UnmarshalTypeError
	var fe *fractal.FieldError
	switch {
	case errors.As(err, &fe):
		return fe
	case errors.As(err, &ute) && ute.Field != "":
		return fractal.Errorf(ute.Field, "must be a JSON %s", ute.Type)
	case errors.As(err, &ute):
		return fractal.Errorf("body", "must be a JSON object")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		if field == "" {
			return fractal.Errorf("body", "has a field with an empty name")
		}
		return fractal.Errorf(field, "is not a known field (%s)", createFields)
	}
	return fractal.Errorf("body", "is not valid JSON: %v", err)
}

// ServedModel is the model id (the profile id of the reference engine)
// the grid serves; a create naming another model is refused.
const ServedModel = refengine.ProfileID

// servedModels lists the models a create may name.
var servedModels = []string{ServedModel}

// Spec turns the request into a validated spec; seed is used when the
// request names none.
func (c CreateRequest) Spec(seed uint64) (fractal.Spec, error) {
	s := fractal.DefaultSpec(c.Prompt, seed)
	if c.Model != "" && !slices.Contains(servedModels, c.Model) {
		return s, fractal.Errorf("model", "must be one of the served models (%s), got %q", strings.Join(servedModels, ", "), c.Model)
	}
	if len(c.InputReference) > 0 && string(c.InputReference) != "null" {
		return s, errNoImageInput
	}
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
		n, err := framesOf(float64(*c.Seconds), s.FPS)
		if err != nil {
			return s, err
		}
		s.Frames = n
	}
	if c.Steps != nil {
		s.Steps = *c.Steps
	}
	if err := s.Validate(); err != nil {
		return s, err
	}
	return s, nil
}

// errNoImageInput refuses input_reference: no served model takes image
// conditioning.
var errNoImageInput = fractal.Errorf("input_reference", "is unsupported: no served model (%s) takes image conditioning", ServedModel)

// framesOf maps seconds to frames: seconds × fps must be a whole number of
// frames the model makes (1–64), so at 8 fps seconds is a multiple of
// 0.125 up to 8.
func framesOf(sec float64, fps int) (int, error) {
	if fps < fractal.MinFPS || fps > fractal.MaxFPS {
		return 0, fractal.Errorf("fps", "must be between %d and %d, got %d", fractal.MinFPS, fractal.MaxFPS, fps)
	}
	f := sec * float64(fps)
	n := math.Round(f)
	if math.IsNaN(f) || math.Abs(f-n) > 1e-6 || n < fractal.MinFrames || n > fractal.MaxFrames {
		return 0, fractal.Errorf("seconds", "must give a whole number of %d–%d frames at %d fps: a multiple of 1/%d up to %s (such as %s), got %s",
			fractal.MinFrames, fractal.MaxFrames, fps, fps, formatSeconds(fractal.MaxFrames, fps), allowedSeconds(fps), strconv.FormatFloat(sec, 'f', -1, 64))
	}
	return int(n), nil
}

// allowedSeconds lists the whole seconds the model makes at fps.
func allowedSeconds(fps int) string {
	var out []string
	for sec := 1; sec*fps <= fractal.MaxFrames; sec++ {
		out = append(out, strconv.Itoa(sec))
	}
	if len(out) == 0 {
		return formatSeconds(fractal.MaxFrames, fps)
	}
	return strings.Join(out, ", ")
}

// formatSeconds writes frames ÷ fps as the API shows seconds.
func formatSeconds(frames, fps int) string {
	return strconv.FormatFloat(float64(frames)/float64(max(fps, 1)), 'f', -1, 64)
}

// parseSize reads "WxH" and checks it is a size the model serves.
func parseSize(v string) (int, int, error) {
	ws, hs, ok := strings.Cut(strings.ToLower(v), "x")
	w, err1 := strconv.Atoi(ws)
	h, err2 := strconv.Atoi(hs)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, fractal.Errorf("size", "must be WIDTHxHEIGHT such as 256x256, got %q", v)
	}
	if !servedSide(w) || !servedSide(h) {
		return 0, 0, fractal.Errorf("size", "%s is not served: %s makes WxH with each side a multiple of %d from %d to %d (such as 256x256, 512x512, 1024x576)",
			v, ServedModel, fractal.SideMultiple, fractal.MinSide, fractal.MaxSide)
	}
	return w, h, nil
}

func servedSide(v int) bool {
	return v >= fractal.MinSide && v <= fractal.MaxSide && v%fractal.SideMultiple == 0
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

// Video is a job as the API shows it: the fields of the OpenAI SDKs'
// Video type, then Fractal's own.
type Video struct {
	ID                 string      `json:"id"`
	Object             string      `json:"object"`
	Status             string      `json:"status"` // queued, in_progress, completed or failed (a cancelled job: failed, error code "cancelled")
	Progress           int         `json:"progress"`
	Model              string      `json:"model"`
	Seconds            string      `json:"seconds"`
	Size               string      `json:"size"`
	CreatedAt          int64       `json:"created_at"`
	CompletedAt        *int64      `json:"completed_at"`
	ExpiresAt          *int64      `json:"expires_at"`
	Error              *VideoError `json:"error"`
	RemixedFromVideoID *string     `json:"remixed_from_video_id"`

	Prompt     string            `json:"prompt"`
	Seed       uint64            `json:"seed"`
	Frames     int               `json:"frames"`
	FPS        int               `json:"fps"`
	Steps      int               `json:"steps"`
	Digest     string            `json:"digest,omitempty"`
	Miner      *MinerInfo        `json:"miner,omitempty"`
	Attempts   int               `json:"attempts"`
	Timings    *TimingsMs        `json:"timings,omitempty"`
	WebhookURL string            `json:"webhook_url,omitempty"`
	Links      map[string]string `json:"links"`
}

// VideoError says why a video failed or was cancelled.
type VideoError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
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
		ID: j.ID, Object: "video", Status: string(j.Status), Progress: j.Progress, Model: ServedModel,
		Seconds: formatSeconds(j.Spec.Frames, j.Spec.FPS), Size: fmt.Sprintf("%dx%d", j.Spec.Width, j.Spec.Height),
		CreatedAt: j.Created.Unix(), Error: videoError(j),
		Prompt: j.Spec.Prompt, Seed: j.Spec.Seed, Frames: j.Spec.Frames, FPS: j.Spec.FPS, Steps: j.Spec.Steps,
		Attempts: len(j.Attempts), WebhookURL: j.WebhookURL,
		Links: map[string]string{
			"self":   "/v1/videos/" + j.ID,
			"events": "/v1/videos/" + j.ID + "/events",
		},
	}
	if j.Status == fractal.JobCancelled {
		v.Status = string(fractal.JobFailed)
	}
	if !j.Finished.IsZero() {
		at := j.Finished.Unix()
		v.CompletedAt = &at
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

// videoError is the error of a failed or cancelled job, nil otherwise.
func videoError(j *fractal.Job) *VideoError {
	switch j.Status {
	case fractal.JobFailed:
		return &VideoError{Code: "failed", Message: j.Error}
	case fractal.JobCancelled:
		msg := j.Error
		if msg == "" {
			msg = "the video was cancelled"
		}
		return &VideoError{Code: "cancelled", Message: msg}
	}
	return nil
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

// Bounds of a multipart create. The whole body is bounded by the gateway's
// body limit as a JSON one is; parts are read one at a time as they
// arrive, so nothing beyond one field is held.
const (
	maxCreateParts = 16      // form fields in one request
	maxFieldBytes  = 4 << 10 // one text field
)

// createFields names the fields of a create, in either encoding.
const createFields = "prompt, model, seconds, size, input_reference, seed, frames, fps, steps, webhook_url"

// decodeMultipart reads a multipart/form-data create, streaming its parts.
func decodeMultipart(r *http.Request, limit int64) (CreateRequest, error) {
	var req CreateRequest
	r.Body = http.MaxBytesReader(nil, r.Body, limit)
	mr, err := r.MultipartReader()
	if err != nil {
		return req, fractal.Errorf("body", "is not valid multipart/form-data: %v", err)
	}
	seen := map[string]bool{}
	for n := 0; ; n++ {
		part, err := mr.NextPart()
		if err == io.EOF {
			return req, nil
		}
		if err != nil {
			if errors.As(err, new(*http.MaxBytesError)) {
				return req, bodyError(err, limit)
			}
			return req, fractal.Errorf("body", "is not valid multipart/form-data: %v", err)
		}
		if n >= maxCreateParts {
			return req, fractal.Errorf("body", "has more than %d parts", maxCreateParts)
		}
		name := part.FormName()
		if name == "input_reference" {
			// Refused before its bytes are read: no model takes an image.
			return req, errNoImageInput
		}
		if seen[name] {
			return req, fractal.Errorf(name, "is given more than once")
		}
		seen[name] = true
		if part.FileName() != "" {
			return req, fractal.Errorf(name, "must be a text field, not a file")
		}
		value, err := readField(part, name, limit)
		if err != nil {
			return req, err
		}
		if err := req.set(name, value); err != nil {
			return req, err
		}
	}
}

// readField reads one text part of at most maxFieldBytes.
func readField(part io.Reader, name string, limit int64) (string, error) {
	b, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
	switch {
	case err != nil:
		return "", bodyError(err, limit)
	case len(b) > maxFieldBytes:
		return "", fractal.Errorf(name, "must be at most %d bytes", maxFieldBytes)
	case !utf8.Valid(b):
		return "", fractal.Errorf(name, "must be valid UTF-8")
	}
	return string(b), nil
}

// set stores one multipart field.
func (c *CreateRequest) set(name, v string) error {
	switch name {
	case "prompt":
		c.Prompt = v
	case "model":
		c.Model = v
	case "size":
		c.Size = v
	case "webhook_url":
		c.WebhookURL = v
	case "seconds":
		c.Seconds = new(Seconds)
		return c.Seconds.parse(v)
	case "seed":
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return fractal.Errorf(name, "must be a whole number from 0 to 2^64-1, got %q", v)
		}
		c.Seed = &n
	case "frames", "fps", "steps":
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return fractal.Errorf(name, "must be a whole number, got %q", v)
		}
		switch name {
		case "frames":
			c.Frames = &n
		case "fps":
			c.FPS = &n
		default:
			c.Steps = &n
		}
	case "":
		return fractal.Errorf("body", "has a part with no name")
	default:
		return fractal.Errorf(name, "is not a known field (%s)", createFields)
	}
	return nil
}
