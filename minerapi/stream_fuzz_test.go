package minerapi_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"

	"github.com/fractal-grid/fractal/minerapi"
)

// FuzzStreamReader reads arbitrary bytes as a generation stream. Never a
// panic; every error wraps ErrStream; every event read is well formed; a
// frames payload is exactly as long as announced; and the events, written
// again with a StreamWriter, read back as the same JSON.
func FuzzStreamReader(f *testing.F) {
	for _, s := range []string{
		`{"type":"accepted","queue_position":2,"eta_ms":900}` + "\n" + `{"type":"started"}` + "\n" +
			`{"type":"progress","step":1,"steps":2}` + "\n" + `{"type":"frames","bytes":3}` + "\nabc",
		`{"type":"error","error":{"code":"overloaded","message":"busy"}}` + "\n",
		`{"type":"result","result":{"profile":{},"receipt":{}}}` + "\n",
		`{"type":"progress","step":3,"steps":2}` + "\n",
		`{"type":"frames","bytes":10}` + "\nab",
		`{"type":"nope"}` + "\n",
		`{"type":"accepted","extra":1}` + "\n",
		`{"type":"started"}`,
	} {
		f.Add([]byte(s))
	}
	const maxFrames = 1 << 16
	f.Fuzz(func(t *testing.T, stream []byte) {
		events, payloads := readStream(t, stream, maxFrames)
		var again bytes.Buffer
		w := minerapi.NewStreamWriter(&again)
		for i, e := range events {
			var err error
			if e.Type == minerapi.EventFrames {
				err = w.Frames(payloads[i])
			} else {
				err = w.Event(e)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		back, backPayloads := readStream(t, again.Bytes(), maxFrames)
		if len(back) != len(events) {
			t.Fatalf("rewritten stream holds %d events, want %d", len(back), len(events))
		}
		for i := range events {
			a, _ := json.Marshal(back[i])
			want := events[i]
			if want.Type == minerapi.EventFrames {
				want = minerapi.Event{Type: minerapi.EventFrames, Bytes: want.Bytes} // Frames writes only these
			}
			b, _ := json.Marshal(want)
			if !bytes.Equal(a, b) || !bytes.Equal(backPayloads[i], payloads[i]) {
				t.Fatalf("event %d: got %s, want %s", i, a, b)
			}
		}
	})
}

// readStream reads events (and frames payloads, by event index) until the
// end or the first error, checking each.
func readStream(t *testing.T, stream []byte, maxFrames int64) ([]minerapi.Event, map[int][]byte) {
	t.Helper()
	r := minerapi.NewStreamReader(bytes.NewReader(stream), maxFrames)
	var events []minerapi.Event
	payloads := map[int][]byte{}
	for {
		e, err := r.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, minerapi.ErrStream) {
				t.Fatalf("got error %v, want EOF or ErrStream", err)
			}
			return events, payloads
		}
		if e.Type == minerapi.EventFrames {
			p, err := r.Payload()
			if err != nil {
				if !errors.Is(err, minerapi.ErrStream) {
					t.Fatalf("payload: got %v, want ErrStream", err)
				}
				return events, payloads
			}
			if int64(len(p)) != e.Bytes || e.Bytes > maxFrames {
				t.Fatalf("frames event announces %d bytes, payload holds %d", e.Bytes, len(p))
			}
			payloads[len(events)] = p
		}
		events = append(events, e)
	}
}
