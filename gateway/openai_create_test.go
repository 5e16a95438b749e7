package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/fractal-grid/fractal/gateway"
	"github.com/fractal-grid/fractal/refengine"
)

// multipartBody writes fields, then files (name → content), as a form.
func multipartBody(t *testing.T, fields [][2]string, files map[string]string) (string, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range fields {
		mw.WriteField(f[0], f[1])
	}
	for name, content := range files {
		fw, err := mw.CreateFormFile(name, name+".png")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write([]byte(content))
	}
	mw.Close()
	return buf.String(), mw.FormDataContentType()
}

// TestOpenAICreateMultipart creates a video from a form as the SDKs send it.
func TestOpenAICreateMultipart(t *testing.T) {
	e := start(t)
	model := refengine.New().Profile().String()
	body, ctype := multipartBody(t, [][2]string{{"prompt", "a kite"}, {"model", model}, {"seconds", "2"}, {"size", "64x64"}, {"steps", "3"}, {"seed", "7"}}, nil)
	resp, b := e.do(t, "POST", "/v1/videos", body, map[string]string{"Content-Type": ctype})
	var v gateway.Video
	json.Unmarshal(b, &v)
	if resp.StatusCode != http.StatusAccepted || v.Frames != 16 || v.Seconds != "2" || v.Size != "64x64" || v.Seed != 7 || v.Model != model || v.Error != nil {
		t.Fatalf("got %d %s, want 202 with 16 frames of 64x64, seconds \"2\", seed 7, model %s", resp.StatusCode, b, model)
	}
}

// TestOpenAICreateRefused checks every refused create answers 4xx naming
// the field, and creates no job.
func TestOpenAICreateRefused(t *testing.T) {
	e := start(t)
	form := func(fields ...string) func(*testing.T) (string, string) {
		return func(t *testing.T) (string, string) {
			var kv [][2]string
			for i := 0; i+1 < len(fields); i += 2 {
				kv = append(kv, [2]string{fields[i], fields[i+1]})
			}
			return multipartBody(t, kv, nil)
		}
	}
	jsonBody := func(s string) func(*testing.T) (string, string) {
		return func(*testing.T) (string, string) { return s, "application/json" }
	}
	for _, tc := range []struct {
		name   string
		body   func(*testing.T) (string, string)
		status int
		field  string
		says   string
	}{
		{"unknown model json", jsonBody(`{"prompt": "x", "model": "sora-2"}`), 400, "model", "one of fractal-ref, fractal-ref@4"},
		{"unknown model form", form("prompt", "x", "model", "sora-2"), 400, "model", "one of fractal-ref, fractal-ref@4"},
		{"seconds over the frames", form("prompt", "x", "seconds", "12"), 400, "seconds", "whole seconds 1, 2, 3, 4, 5, 6, 7, 8"},
		{"seconds between frames", jsonBody(`{"prompt": "x", "seconds": "0.3"}`), 400, "seconds", "1/8"},
		{"seconds not a number", form("prompt", "x", "seconds", "four"), 400, "seconds", ""},
		{"size not served", form("prompt", "x", "size", "1280x720"), 400, "size", "a multiple of 8 between 64 and 1024"},
		{"input reference", func(t *testing.T) (string, string) {
			return multipartBody(t, [][2]string{{"prompt", "x"}}, map[string]string{"input_reference": "\x89PNG"})
		}, 400, "input_reference", "unsupported"},
		{"file for a text field", func(t *testing.T) (string, string) {
			return multipartBody(t, nil, map[string]string{"prompt": "x"})
		}, 400, "prompt", "text field"},
		{"unknown field", form("prompt", "x", "quality", "hd"), 400, "quality", ""},
		{"repeated field", form("prompt", "x", "prompt", "y"), 400, "prompt", ""},
		{"too many parts", form(strings.Split(strings.Repeat("prompt,x,", 40), ",")...), 400, "", ""},
		{"oversized", func(t *testing.T) (string, string) {
			body, ctype := multipartBody(t, [][2]string{{"prompt", "x"}}, nil)
			return strings.Repeat("preamble\r\n", 2<<10) + body, ctype // over the body limit
		}, 413, "", ""},
		{"oversized field", form("prompt", strings.Repeat("a", 5<<10)), 400, "prompt", "at most"},
		{"no boundary", func(*testing.T) (string, string) { return "--x\r\n", "multipart/form-data" }, 400, "body", "boundary"},
		{"10k parts", form(strings.Split(strings.TrimSuffix(strings.Repeat("seed,1,", 10_000), ","), ",")...), 400, "seed", "more than once"}, // refused at its second part
		{"input reference over the body limit", func(t *testing.T) (string, string) {
			return multipartBody(t, [][2]string{{"prompt", "x"}}, map[string]string{"input_reference": strings.Repeat("\x89PNG", 1<<20)})
		}, 400, "input_reference", "unsupported"},
		{"large file for a text field", func(t *testing.T) (string, string) {
			return multipartBody(t, nil, map[string]string{"prompt": strings.Repeat("a", 1<<20)})
		}, 400, "prompt", "text field"},
		{"part headers over the body limit", func(t *testing.T) (string, string) {
			return "--b\r\nContent-Disposition: form-data; name=\"prompt\"\r\nX-Pad: " + strings.Repeat("a", 32<<10) + "\r\n\r\nx\r\n--b--\r\n", "multipart/form-data; boundary=b"
		}, 413, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, ctype := tc.body(t)
			resp, b := e.do(t, "POST", "/v1/videos", body, map[string]string{"Content-Type": ctype})
			var eb struct {
				Error struct{ Message, Field string }
			}
			json.Unmarshal(b, &eb)
			if resp.StatusCode != tc.status || tc.field != "" && eb.Error.Field != tc.field || !strings.Contains(eb.Error.Message, tc.says) {
				t.Errorf("got %d %s, want %d naming %q and saying %q", resp.StatusCode, b, tc.status, tc.field, tc.says)
			}
		})
	}
	resp, b := e.do(t, "GET", "/v1/videos", "", nil)
	var page struct{ Data []gateway.Video }
	json.Unmarshal(b, &page)
	if resp.StatusCode != 200 || len(page.Data) != 0 {
		t.Errorf("got %d with %d videos after refused creates, want none: %s", resp.StatusCode, len(page.Data), fmt.Sprint(string(b)))
	}
}
