package gateway

import (
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/fractal-grid/fractal"
)

// Bounds of a multipart create. The whole body is bounded by the gateway's
// body limit as a JSON one is; parts are read one at a time as they
// arrive, so nothing beyond one field is held.
const (
	maxCreateParts = 16      // form fields in one request
	maxFieldBytes  = 4 << 10 // one text field
)

// createFields names the fields of a create, in either encoding.
const createFields = "prompt, model, seconds, size, input_reference, seed, frames, fps, steps, webhook_url"

// decodeMultipart reads a multipart/form-data create from body, streaming
// its parts. The request's Body stays the server's own: replaced by the
// bounded reader, the server would close a connection whose client is still
// uploading without first letting it read the refusal (a reset, not a 4xx).
func decodeMultipart(body io.Reader, boundary string, limit int64) (CreateRequest, error) {
	var req CreateRequest
	if boundary == "" {
		return req, fractal.Errorf("body", "is not valid multipart/form-data: the Content-Type names no boundary")
	}
	mr := multipart.NewReader(http.MaxBytesReader(nil, io.NopCloser(body), limit), boundary)
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
