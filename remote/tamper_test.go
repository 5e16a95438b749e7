package remote_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/engineapi"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/remote"
)

// edit changes one record of a real reply; it returns false to drop it.
type edit func(t *testing.T, rec *engineapi.Record) bool

// tampering rewrites the real server's 200 replies on path record by record.
func tampering(t *testing.T, path string, ed edit) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			if r.URL.Path != path || rec.Code != http.StatusOK {
				w.WriteHeader(rec.Code)
				w.Write(rec.Body.Bytes())
				return
			}
			rd := engineapi.NewReader(rec.Body, 1<<30)
			for {
				one, err := rd.Next()
				if errors.Is(err, engineapi.ErrNoRecord) {
					return
				}
				if err != nil {
					t.Errorf("tampering: %v", err)
					return
				}
				if ed(t, one) {
					w.Write(append(one.Line, '\n'))
					w.Write(one.Payload)
				}
			}
		})
	}
}

// set changes one JSON field of a record.
func set(t *testing.T, rec *engineapi.Record, key string, value any) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(rec.Line, &m); err != nil {
		t.Fatal(err)
	}
	m[key] = value
	line, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	rec.Line = line
}

// on applies f to the records of type typ (the n-th one when n >= 0).
func on(typ string, n int, f func(t *testing.T, rec *engineapi.Record) bool) edit {
	seen := 0
	return func(t *testing.T, rec *engineapi.Record) bool {
		if rec.Type != typ {
			return true
		}
		seen++
		if n >= 0 && seen-1 != n {
			return true
		}
		return f(t, rec)
	}
}

// cutAfterFrames ends the stream in the middle of the frames payload.
func cutAfterFrames() edit {
	cut := false
	return func(t *testing.T, rec *engineapi.Record) bool {
		if rec.Type == engineapi.TypeFrames {
			rec.Payload, cut = rec.Payload[:10], true
			return true
		}
		return !cut
	}
}

func flip(t *testing.T, rec *engineapi.Record) bool {
	rec.Payload[len(rec.Payload)/2] ^= 1
	return true
}
func drop(t *testing.T, rec *engineapi.Record) bool { return false }

var otherDigest = fractal.Digest{1, 2, 3}.String()

func TestGenerateRefusesTampering(t *testing.T) {
	tests := []struct {
		name string
		ed   edit
		want error
	}{
		{"FramePixel", on(engineapi.TypeFrames, 0, flip), fractal.ErrMismatch},
		{"FramesDigestInResult", on(engineapi.TypeResult, 0, func(t *testing.T, r *engineapi.Record) bool {
			set(t, r, "frames_digest", otherDigest)
			return true
		}), fractal.ErrMismatch},
		{"StatePayload", on(engineapi.TypeState, 2, flip), fractal.ErrMismatch},
		{"CommittedStateDigest", on(engineapi.TypeResult, 0, func(t *testing.T, r *engineapi.Record) bool {
			var ev engineapi.ResultEvent
			json.Unmarshal(r.Line, &ev)
			ev.StateDigests[1] = fractal.Digest{9}
			set(t, r, "state_digests", ev.StateDigests)
			return true
		}), fractal.ErrMismatch},
		{"ProfileVersion", on(engineapi.TypeResult, 0, func(t *testing.T, r *engineapi.Record) bool {
			p := refengine.New().Profile()
			p.Version += "x"
			set(t, r, "profile", p)
			return true
		}), fractal.ErrMismatch},
		{"SpecSeed", on(engineapi.TypeResult, 0, func(t *testing.T, r *engineapi.Record) bool {
			s := smallSpec
			s.Seed++
			set(t, r, "spec", s)
			return true
		}), fractal.ErrMismatch},
		{"FramesWidth", on(engineapi.TypeFrames, 0, func(t *testing.T, r *engineapi.Record) bool {
			set(t, r, "width", smallSpec.Width+8)
			return true
		}), remote.ErrProtocol},
		{"FramesTruncated", cutAfterFrames(), remote.ErrProtocol},
		{"NoEnd", on(engineapi.TypeEnd, 0, drop), remote.ErrProtocol},
		{"MissingProgress", on(engineapi.TypeProgress, 1, drop), remote.ErrProtocol},
		{"MissingState", on(engineapi.TypeState, 3, drop), remote.ErrProtocol},
		{"StatesOutOfOrder", on(engineapi.TypeState, 1, func(t *testing.T, r *engineapi.Record) bool {
			set(t, r, "t", 2)
			return true
		}), remote.ErrProtocol},
		{"UnknownEncoding", on(engineapi.TypeFrames, 0, func(t *testing.T, r *engineapi.Record) bool {
			set(t, r, "encoding", "zstd")
			return true
		}), remote.ErrProtocol},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rem := open(t, serve(t, refengine.New(), engineapi.DefaultConfig(), tampering(t, "/v1/generate", tc.ed)))
			_, err := rem.Generate(t.Context(), smallSpec, fractal.GenerateOptions{KeepStates: true})
			if !errors.Is(err, tc.want) {
				t.Errorf("got error %v, want %v", err, tc.want)
			}
		})
	}
}

func TestStepAndDecodeRefuseTampering(t *testing.T) {
	direct := refengine.New()
	g, err := direct.Generate(t.Context(), smallSpec, fractal.GenerateOptions{KeepStates: true})
	if err != nil {
		t.Fatal(err)
	}
	final := g.States[smallSpec.Steps]
	step := func(rem *remote.Engine) error { _, err := rem.Step(t.Context(), smallSpec, 2, g.States[1]); return err }
	decode := func(rem *remote.Engine) error { _, err := rem.Decode(t.Context(), smallSpec, final); return err }
	frame := func(rem *remote.Engine) error {
		_, err := rem.DecodeFrame(t.Context(), smallSpec, final, 1)
		return err
	}
	tests := []struct {
		name, path string
		ed         edit
		call       func(*remote.Engine) error
		want       error
	}{
		{"StepPayload", "/v1/step", on(engineapi.TypeState, 0, flip), step, fractal.ErrMismatch},
		{"StepT", "/v1/step", on(engineapi.TypeState, 0, func(t *testing.T, r *engineapi.Record) bool {
			set(t, r, "t", 3)
			return true
		}), step, remote.ErrProtocol},
		{"StepNoDigest", "/v1/step", on(engineapi.TypeState, 0, func(t *testing.T, r *engineapi.Record) bool {
			set(t, r, "digest", fractal.Digest{}.String())
			return true
		}), step, remote.ErrProtocol},
		{"StepShape", "/v1/step", on(engineapi.TypeState, 0, func(t *testing.T, r *engineapi.Record) bool {
			set(t, r, "shape", []int{1, 2})
			return true
		}), step, remote.ErrProtocol},
		{"DecodePixel", "/v1/decode", on(engineapi.TypeFrames, 0, flip), decode, fractal.ErrMismatch},
		{"DecodeEmpty", "/v1/decode", on(engineapi.TypeFrames, 0, drop), decode, remote.ErrProtocol},
		{"DecodeWrongRecord", "/v1/decode", on(engineapi.TypeFrames, 0, func(t *testing.T, r *engineapi.Record) bool {
			set(t, r, "type", engineapi.TypeFrame)
			return true
		}), decode, remote.ErrProtocol},
		{"FrameIndex", "/v1/decode_frame", on(engineapi.TypeFrame, 0, func(t *testing.T, r *engineapi.Record) bool {
			set(t, r, "index", 0)
			return true
		}), frame, remote.ErrProtocol},
		{"FrameShort", "/v1/decode_frame", on(engineapi.TypeFrame, 0, func(t *testing.T, r *engineapi.Record) bool {
			r.Payload = r.Payload[:len(r.Payload)-3]
			set(t, r, "bytes", len(r.Payload))
			return true
		}), frame, remote.ErrProtocol},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rem := open(t, serve(t, direct, engineapi.DefaultConfig(), tampering(t, tc.path, tc.ed)))
			if err := tc.call(rem); !errors.Is(err, tc.want) {
				t.Errorf("got error %v, want %v", err, tc.want)
			}
		})
	}
}

// TestStateLimit: the client refuses a state larger than it allows before
// reading it.
func TestStateLimit(t *testing.T) {
	rem := open(t, serve(t, refengine.New(), engineapi.DefaultConfig(), nil))
	rem.Config.MaxStateBytes = 64
	_, err := rem.Step(t.Context(), smallSpec, 0, fractal.State{})
	if !errors.Is(err, remote.ErrProtocol) || !bytes.Contains([]byte(err.Error()), []byte(strconv.Itoa(64))) {
		t.Errorf("got error %v, want %v naming the 64-byte limit", err, remote.ErrProtocol)
	}
}
