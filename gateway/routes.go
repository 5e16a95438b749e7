package gateway

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/apierr"
)

// webPattern serves the web page: every GET no other route takes.
const webPattern = "GET /"

// routeMethods are the methods the API's routes use.
var routeMethods = []string{http.MethodGet, http.MethodPost, http.MethodDelete}

// routed serves mux, except that a request no route takes — an API path
// the web page would otherwise answer, or any path with a method no route
// takes — gets the API's JSON error: 405 with Allow when the path has
// routes for other methods, else 404. The mux itself would answer in plain
// text, which the OpenAI SDKs cannot read.
func routed(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pattern := mux.Handler(r)
		if pattern != "" && (pattern != webPattern || !strings.HasPrefix(r.URL.Path, "/v1/")) {
			mux.ServeHTTP(w, r)
			return
		}
		if allowed := allowedMethods(mux, r); len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			apierr.Write(w, fmt.Errorf("%s %s: this path takes %s: %w", r.Method, r.URL.Path, strings.Join(allowed, ", "), apierr.ErrMethodNotAllowed))
			return
		}
		apierr.Write(w, fmt.Errorf("no endpoint %s %s (see /v1/openapi.json): %w", r.Method, r.URL.Path, fractal.ErrNotFound))
	})
}

// allowedMethods lists the methods other than r's that a route other than
// the web page's takes on r's path.
func allowedMethods(mux *http.ServeMux, r *http.Request) []string {
	var out []string
	for _, m := range routeMethods {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := mux.Handler(probe); p != "" && p != webPattern {
			out = append(out, m)
		}
	}
	slices.Sort(out)
	return out
}
