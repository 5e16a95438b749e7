package apierr

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
)

// HeaderRequestID is the response header that carries a request's id.
const HeaderRequestID = "X-Request-Id"

// Log keys.
const (
	logKeyRequestID = "request_id"
	logKeyMethod    = "method"
	logKeyPath      = "path"
	logKeyError     = "err"
)

// Middleware gives every request an id, sent in the X-Request-Id header,
// and hands next a ResponseWriter through which Write finds that id and
// logger: an internal error is logged there with the id its reply shows.
// A nil logger discards.
func Middleware(logger *slog.Logger, next http.Handler) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := &responseWriter{ResponseWriter: w, id: newRequestID(), method: r.Method, path: r.URL.Path, log: logger}
		w.Header().Set(HeaderRequestID, rw.id)
		next.ServeHTTP(rw, r)
	})
}

// RequestID returns the id Middleware gave the request w answers, or "".
func RequestID(w http.ResponseWriter) string {
	if rw := requestOf(w); rw != nil {
		return rw.id
	}
	return ""
}

// responseWriter carries a request's id and logger to Write.
type responseWriter struct {
	http.ResponseWriter
	id, method, path string
	log              *slog.Logger
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush keeps w an http.Flusher for streaming handlers.
func (w *responseWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

// requestOf finds the Middleware's writer in w or in what w wraps.
func requestOf(w http.ResponseWriter) *responseWriter {
	for w != nil {
		if rw, ok := w.(*responseWriter); ok {
			return rw
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return nil
		}
		w = u.Unwrap()
	}
	return nil
}

// logInternal logs err with the request's id and returns the id; without
// Middleware it makes up an id and logs nowhere.
func logInternal(w http.ResponseWriter, err error) string {
	rw := requestOf(w)
	if rw == nil {
		return newRequestID()
	}
	rw.log.Error("internal error", slog.String(logKeyRequestID, rw.id), slog.String(logKeyMethod, rw.method),
		slog.String(logKeyPath, rw.path), slog.Any(logKeyError, err))
	return rw.id
}

// newRequestID returns "req_" and 24 random hex digits.
func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // never fails
	return "req_" + hex.EncodeToString(b[:])
}
