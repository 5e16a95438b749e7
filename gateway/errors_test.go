package gateway_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestErrorShape asks every endpoint for an error and checks each reply is
// OpenAI's {"error": {"message", "type", "param", "code"}} with the type the
// OpenAI SDKs expect of its status, param the field (null when none), and
// Fractal's code and field beside them.
func TestErrorShape(t *testing.T) {
	e := start(t) // no miners: videos stay queued
	queued := e.create(t, `{"prompt": "a quiet pond", `+small+`}`)
	_, slowKey, err := e.gw.Keys().Create(context.Background(), "slow", 0.001, 1, 8)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, method, path, body string
		key                      string // "" the test key, "-" none
		status                   int
		typ, code, param         string
	}{
		{"no key", "GET", "/v1/videos", "", "-", 401, "authentication_error", "unauthorized", ""},
		{"wrong key", "GET", "/v1/videos", "", "fk_wrong", 401, "authentication_error", "unauthorized", ""},
		{"bad size", "POST", "/v1/videos", `{"prompt": "x", "size": "big"}`, "", 400, "invalid_request_error", "invalid", "size"},
		{"not json", "POST", "/v1/videos", `{`, "", 400, "invalid_request_error", "invalid", "body"},
		{"too large", "POST", "/v1/videos", `{"prompt": "` + strings.Repeat("a", 20<<10) + `"}`, "", 413, "invalid_request_error", "too_large", ""},
		{"bad limit", "GET", "/v1/videos?limit=0", "", "", 400, "invalid_request_error", "invalid", "limit"},
		{"unknown video", "GET", "/v1/videos/vid_nope", "", "", 404, "not_found_error", "not_found", ""},
		{"content too early", "GET", "/v1/videos/" + queued.ID + "/content", "", "", 409, "conflict_error", "conflict", ""},
		{"bad variant", "GET", "/v1/videos/" + queued.ID + "/content?variant=avi", "", "", 400, "invalid_request_error", "invalid", "variant"},
		{"unknown events", "GET", "/v1/videos/vid_nope/events", "", "", 404, "not_found_error", "not_found", ""},
		{"unknown cancel", "POST", "/v1/videos/vid_nope/cancel", "", "", 404, "not_found_error", "not_found", ""},
		{"unknown delete", "DELETE", "/v1/videos/vid_nope", "", "", 404, "not_found_error", "not_found", ""},
		{"unknown remix", "POST", "/v1/videos/vid_nope/remix", `{"prompt": "x"}`, "", 404, "not_found_error", "not_found", ""},
		{"unknown model", "GET", "/v1/models/sora-2", "", "", 404, "not_found_error", "not_found", ""},
		{"unknown endpoint", "GET", "/v1/images", "", "", 404, "not_found_error", "not_found", ""},
		{"unknown endpoint post", "POST", "/v1/images/generations", "{}", "", 404, "not_found_error", "not_found", ""},
		{"wrong method", "PUT", "/v1/videos", "{}", "", 405, "invalid_request_error", "method_not_allowed", ""},
		{"rate limited", "GET", "/v1/videos", "", slowKey, 429, "rate_limit_error", "overloaded", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			saved := e.key
			defer func() { e.key = saved }()
			switch tc.key {
			case "-":
				e.key = ""
			case "":
			default:
				e.key = tc.key
			}
			if tc.name == "rate limited" {
				e.do(t, tc.method, tc.path, tc.body, nil) // spends the burst of one
			}
			resp, b := e.do(t, tc.method, tc.path, tc.body, map[string]string{"Content-Type": "application/json"})
			if resp.StatusCode != tc.status {
				t.Fatalf("got %d %s, want %d", resp.StatusCode, b, tc.status)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("content type %q, want application/json", ct)
			}
			var raw struct{ Error map[string]json.RawMessage }
			if err := json.Unmarshal(b, &raw); err != nil || raw.Error == nil {
				t.Fatalf("body %s is not {\"error\": {...}}: %v", b, err)
			}
			for _, k := range []string{"message", "type", "param", "code"} {
				if _, ok := raw.Error[k]; !ok {
					t.Errorf("body %s lacks %q", b, k)
				}
			}
			eb := errorOf(t, b)
			param := ""
			if eb.Param != nil {
				param = *eb.Param
			}
			if eb.Type != tc.typ || eb.Code != tc.code || param != tc.param || eb.Field != tc.param || eb.Message == "" {
				t.Errorf("got %s, want type %s, code %s, param and field %q, a message", b, tc.typ, tc.code, tc.param)
			}
		})
	}
	if resp, b := e.do(t, "PUT", "/v1/videos", "{}", nil); resp.Header.Get("Allow") != "GET, POST" {
		t.Errorf("405 Allow %q, want \"GET, POST\" (%s)", resp.Header.Get("Allow"), b)
	}
}
