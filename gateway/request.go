package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/fractal-grid/fractal"
)

// CreateRequest is the body of POST /v1/videos, sent as JSON or as
// multipart/form-data (as the OpenAI SDKs send it) with the same fields.
// Omitted fields take the default shape of the model's profile; an omitted seed
// is chosen at random and returned, so the result can be reproduced.
type CreateRequest struct {
	Prompt         string          `json:"prompt"`
	Model          string          `json:"model,omitempty"` // a pinned profile, "id" or "id@version"; "" for the default
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
	if mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		return decodeMultipart(r.Body, params["boundary"], limit)
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

// Spec turns the request into a spec for profile p (the model the request
// names, resolved by the caller) and checks it against p's limits; seed is
// used when the request names none. Every refusal names the field and the
// values p allows.
func (c CreateRequest) Spec(p fractal.Profile, seed uint64) (fractal.Spec, error) {
	s := p.DefaultSpec(c.Prompt, seed)
	if len(c.InputReference) > 0 && string(c.InputReference) != "null" {
		return s, errNoImageInput
	}
	if c.Seed != nil {
		s.Seed = *c.Seed
	}
	if c.Size != "" {
		w, h, err := parseSize(c.Size, p)
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
		n, err := framesOf(float64(*c.Seconds), s.FPS, p)
		if err != nil {
			return s, err
		}
		s.Frames = n
	}
	if c.Steps != nil {
		s.Steps = *c.Steps
	}
	if err := p.Check(s); err != nil {
		return s, forModel(err, p)
	}
	return s, nil
}

// forModel adds the model to a field error's reason: the same field may
// allow other values under another model.
func forModel(err error, p fractal.Profile) error {
	var fe *fractal.FieldError
	if !errors.As(err, &fe) {
		return err
	}
	return fractal.Errorf(fe.Field, "%s (model %s)", fe.Reason, p)
}

// errNoImageInput refuses input_reference: no served model takes image
// conditioning.
var errNoImageInput = fractal.Errorf("input_reference", "is unsupported: no served model takes image conditioning")

// framesOf maps seconds to frames: seconds × fps must be a number of frames
// p makes, so for frames between 1 and 64 at 8 fps seconds is a multiple of
// 0.125 up to 8.
func framesOf(sec float64, fps int, p fractal.Profile) (int, error) {
	l := p.Limits
	if !l.FPS.Contains(fps) {
		return 0, fractal.Errorf("fps", "must be %s, got %d (model %s)", l.FPS, fps, p)
	}
	f := sec * float64(fps)
	n := math.Round(f)
	if math.IsNaN(f) || math.Abs(f-n) > 1e-6 || n < 1 || n > float64(l.Frames.Largest()) || !l.Frames.Contains(int(n)) {
		return 0, fractal.Errorf("seconds", "× %d fps must be a number of frames %s makes (frames %s): seconds %s; got %s",
			fps, p, l.Frames, allowedSeconds(l.Frames, fps), strconv.FormatFloat(sec, 'f', -1, 64))
	}
	return int(n), nil
}

// parseSize reads "WxH" and checks that p makes that size.
func parseSize(v string, p fractal.Profile) (int, int, error) {
	ws, hs, ok := strings.Cut(strings.ToLower(v), "x")
	w, err1 := strconv.Atoi(ws)
	h, err2 := strconv.Atoi(hs)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, fractal.Errorf("size", "must be WIDTHxHEIGHT such as %s, got %q", defaultSize(p.Limits), v)
	}
	l := p.Limits
	if l.Width.Contains(w) && l.Height.Contains(h) {
		return w, h, nil
	}
	sides := fmt.Sprintf("the width must be %s and the height %s", l.Width, l.Height)
	if l.Width.String() == l.Height.String() {
		sides = fmt.Sprintf("each side must be %s", l.Width)
	}
	sizes := commonSizes(l)
	return 0, 0, fractal.Errorf("size", "%s is not a size %s makes: %s (such as %s)", v, p, sides, strings.Join(sizes[:min(4, len(sizes))], ", "))
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
