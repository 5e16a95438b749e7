package apierr_test

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/apierr"
)

// TestOpenAIShape writes every kind of the video API's table and checks the
// body has OpenAI's four keys, the type the OpenAI SDKs expect of its
// status, param naming the field (null when none), and Fractal's code.
func TestOpenAIShape(t *testing.T) {
	types := map[int]string{
		400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
		404: "not_found_error", 405: "invalid_request_error", 409: "conflict_error", 410: "invalid_request_error",
		413: "invalid_request_error", 422: "invalid_request_error", 429: "rate_limit_error",
		500: "server_error", 503: "server_error",
	}
	for _, r := range apiRows {
		t.Run(r.code, func(t *testing.T) {
			rec := httptest.NewRecorder()
			apierr.API.Write(rec, fmt.Errorf("video vid_1: %w", r.err))
			var reply map[string]map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &reply); err != nil {
				t.Fatalf("body %s: %v", rec.Body, err)
			}
			e := reply["error"]
			for _, k := range []string{"message", "type", "param", "code"} {
				if _, ok := e[k]; !ok {
					t.Errorf("body %s has no %q", rec.Body, k)
				}
			}
			if e["type"] != types[r.status] || e["code"] != r.code || e["param"] != nil {
				t.Errorf("got %s, want type %s, code %s, param null", rec.Body, types[r.status], r.code)
			}
		})
	}
	t.Run("field", func(t *testing.T) {
		rec := httptest.NewRecorder()
		apierr.API.Write(rec, fractal.Errorf("size", "must be WxH"))
		var reply struct{ Error map[string]any }
		json.Unmarshal(rec.Body.Bytes(), &reply)
		e := reply.Error
		if e["param"] != "size" || e["field"] != "size" || e["type"] != "invalid_request_error" || e["message"] != "size: must be WxH" {
			t.Errorf("got %s, want param and field size", rec.Body)
		}
	})
}

// TestOtherProtocolsKeepTheirShape: the miner and engine protocols do not
// grow OpenAI's keys.
func TestOtherProtocolsKeepTheirShape(t *testing.T) {
	for _, p := range []*apierr.Protocol{apierr.Miner, apierr.Engine} {
		rec := httptest.NewRecorder()
		p.Write(rec, fractal.Errorf("steps", "too many"))
		var reply struct{ Error map[string]any }
		json.Unmarshal(rec.Body.Bytes(), &reply)
		if _, ok := reply.Error["type"]; ok || reply.Error["param"] != nil || reply.Error["field"] != "steps" {
			t.Errorf("got %s, want code, message and field only", rec.Body)
		}
	}
}
