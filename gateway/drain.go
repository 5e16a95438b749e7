package gateway

import (
	"io"
	"net/http"
	"time"
)

// Bounds on reading what is left of a refused request's body; drainTime
// applies only on a server without a read timeout.
const (
	drainBytes = 32 << 20
	drainTime  = 10 * time.Second
)

// drainBodies reads and discards what a handler left of a request body,
// after it answered: up to drainBytes, within the server's whole-request
// read timeout (or drainTime after the handler began, on a server without
// one). A create refused on its first part (an input_reference, a body over
// the limit) answers at once; if the server then closed the connection with
// the upload half sent, the client would meet a broken pipe instead of
// reading the 400.
// Draining streams into nothing, so memory stays bounded however many
// uploads are refused at once; a body beyond the bound still gets the
// connection closed.
func drainBodies(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		began := time.Now()
		h.ServeHTTP(w, r)
		if r.Body == nil || r.Body == http.NoBody {
			return
		}
		rc := http.NewResponseController(w)
		rc.Flush() // the answer goes out before the drain
		// A server with a read timeout set the connection's deadline for
		// the whole request when it began reading it: the drain keeps it,
		// so a slow client is cut off as it would be without the drain
		// (and many fast uploads refused at once on a busy machine get the
		// whole timeout to finish, not a part of it).
		if srv, _ := r.Context().Value(http.ServerContextKey).(*http.Server); srv == nil || srv.ReadTimeout <= 0 {
			deadline := began.Add(drainTime)
			if !time.Now().Before(deadline) {
				return
			}
			rc.SetReadDeadline(deadline)
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, drainBytes)) // what is left is not ours to judge
	})
}
