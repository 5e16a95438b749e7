// Package web is the grid's web page: submit a prompt, follow its progress,
// watch the video, and look at the grid map (miners placed by network
// coordinates, coloured by tier and health, sized by score) with a table of
// scores and weights and a plot of latency over time. Plain HTML, CSS and
// JavaScript embedded in the binary: no CDN, works offline.
package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// contentSecurityPolicy lets the page load only its own assets and play
// videos it fetched into blob: URLs.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// Handler serves the page at / and its assets under /assets/.
func Handler() http.Handler {
	root, err := fs.Sub(static, "static")
	if err != nil {
		panic("web: embedded assets missing: " + err.Error()) // cannot happen: the directory is embedded
	}
	files := http.FileServerFS(root)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
