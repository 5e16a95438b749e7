package engineapi_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/engineapi"
)

// FuzzReader reads arbitrary bodies as engine protocol records. Never a
// panic; every error is a clean end, invalid input or too large; each
// record's payload has the length its line announced; and the records,
// written again with WriteRecord, read back the same.
func FuzzReader(f *testing.F) {
	for _, s := range []string{
		`{"type":"progress","step":1,"steps":4}` + "\n" + `{"type":"end"}` + "\n",
		`{"type":"state","bytes":4,"shape":[1],"dtype":"float32"}` + "\n" + "\x00\x00\x80\x3f" + `{"type":"end"}`,
		`{"type":"frames","bytes":3}` + "\n" + "ab",
		`{"type":"x","bytes":-1}` + "\n",
		`{"type":"x","bytes":99999999999}` + "\n",
		"not json\n",
		"{\"type\":\"end\"}\r\n",
		"",
	} {
		f.Add([]byte(s))
	}
	const maxPayload = 1 << 16
	f.Fuzz(func(t *testing.T, body []byte) {
		recs := readAll(t, body, maxPayload)
		var again bytes.Buffer
		for _, r := range recs {
			if err := engineapi.WriteRecord(&again, json.RawMessage(r.Line), r.Payload); err != nil {
				t.Fatalf("rewrite %s: %v", r.Line, err)
			}
		}
		back := readAll(t, again.Bytes(), maxPayload)
		if len(back) != len(recs) {
			t.Fatalf("rewritten body holds %d records, want %d", len(back), len(recs))
		}
		for i := range recs {
			if back[i].Type != recs[i].Type || !bytes.Equal(back[i].Payload, recs[i].Payload) {
				t.Fatalf("record %d: got %q with %d bytes, want %q with %d", i, back[i].Type, len(back[i].Payload), recs[i].Type, len(recs[i].Payload))
			}
		}
	})
}

// readAll reads records until the first error, checking each one.
func readAll(t *testing.T, body []byte, maxPayload int64) []*engineapi.Record {
	t.Helper()
	r := engineapi.NewReader(bytes.NewReader(body), maxPayload)
	var out []*engineapi.Record
	for {
		rec, err := r.Next()
		if err != nil {
			if !errors.Is(err, engineapi.ErrNoRecord) && !errors.Is(err, fractal.ErrInvalid) && !errors.Is(err, fractal.ErrTooLarge) {
				t.Fatalf("got error %v, want end, invalid or too large", err)
			}
			return out
		}
		var env struct {
			Bytes int64 `json:"bytes"`
		}
		if err := json.Unmarshal(rec.Line, &env); err != nil {
			t.Fatalf("record line %q was accepted but is not JSON: %v", rec.Line, err)
		}
		if int64(len(rec.Payload)) != max(env.Bytes, 0) || env.Bytes > maxPayload {
			t.Fatalf("record announces %d bytes, carries %d", env.Bytes, len(rec.Payload))
		}
		out = append(out, rec)
	}
}
