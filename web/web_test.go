package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/fractal-grid/fractal/web"
)

func get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	w := httptest.NewRecorder()
	web.Handler().ServeHTTP(w, httptest.NewRequest("GET", path, nil))
	resp := w.Result()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestPageAndAssets(t *testing.T) {
	tests := []struct {
		path, contentType string
		contains          []string
	}{
		{"/", "text/html", []string{`id="map"`, `id="model"`, `id="size"`, `id="frames"`, `id="steps"`}},
		// The controls are built from the models the grid serves.
		{"/assets/app.js", "javascript", []string{"/v1/grid", "fetch('/v1/models')", "m.limits", "m.sizes"}},
		{"/assets/app.css", "text/css", []string{"--accent"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := get(t, tt.path)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("got status %d, want 200", resp.StatusCode)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.Contains(ct, tt.contentType) {
				t.Errorf("got Content-Type %q, want %s", ct, tt.contentType)
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
				t.Errorf("got Content-Security-Policy %q, want default-src 'self'", csp)
			}
			for _, c := range tt.contains {
				if !strings.Contains(body, c) {
					t.Errorf("body lacks %q", c)
				}
			}
		})
	}
}

// TestPageWorksOffline checks that every asset the page names is embedded
// and that nothing is loaded from another host.
func TestPageWorksOffline(t *testing.T) {
	_, index := get(t, "/")
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(index, -1)
	if len(refs) < 2 {
		t.Fatalf("index names %d assets, want the script and the stylesheet", len(refs))
	}
	for _, r := range refs {
		if !strings.HasPrefix(r[1], "/assets/") {
			continue // API links (served by the gateway) and in-page links
		}
		if resp, _ := get(t, r[1]); resp.StatusCode != http.StatusOK {
			t.Errorf("asset %s: got status %d, want 200", r[1], resp.StatusCode)
		}
	}
	for _, path := range []string{"/", "/assets/app.js", "/assets/app.css"} {
		_, body := get(t, path)
		for _, u := range regexp.MustCompile(`https?://[^\s"')]+`).FindAllString(body, -1) {
			if u != "http://www.w3.org/2000/svg" {
				t.Errorf("%s loads %s from another host; the page must work offline", path, u)
			}
		}
	}
}
