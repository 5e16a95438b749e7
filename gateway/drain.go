package gateway

import (
	"io"
	"net/http"
	"time"
)

// Bounds on reading what is left of a refused request's body.
const (
	drainBytes = 32 << 20
	drainTime  = 10 * time.Second
)

// drainBodies reads and discards what a handler left of a request body,
// after it answered: up to drainBytes, until drainTime after the handler
// began. A create refused on its first part (an input_reference, a body
// over the limit) answers at once; if the server then closed the connection
// with the upload half sent, the client would meet a broken pipe instead of
// reading the 400.
// Draining streams into nothing, so memory stays bounded however many
// uploads are refused at once; a body beyond the bound still gets the
// connection closed.
func drainBodies(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The drain ends drainTime after the request reached the handler,
		// within the server's whole-request read timeout: a slow client is
		// cut off as it would be without the drain.
		deadline := time.Now().Add(drainTime)
		h.ServeHTTP(w, r)
		if r.Body == nil || r.Body == http.NoBody || !time.Now().Before(deadline) {
			return
		}
		rc := http.NewResponseController(w)
		rc.Flush() // the answer goes out before the drain
		rc.SetReadDeadline(deadline)
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, drainBytes)) // what is left is not ours to judge
	})
}
