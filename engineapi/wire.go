// Package engineapi is the engine protocol (docs/engine-protocol.md): the
// wire records both sides share, the one table that maps errors to HTTP
// statuses, and an http.Handler that serves any fractal.Engine over it.
//
// A body, in either direction, is a sequence of records. A record is one line
// of JSON (an object with a "type"), terminated by '\n', followed by exactly
// "bytes" raw bytes when the object has a positive "bytes" field.
package engineapi

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/apierr"
)

// Protocol identifies this version of the engine protocol. Version 2 adds the
// profile's limits, cost model and frame tolerance to the profile reply.
const Protocol = "fractal-engine/2"

// ProtocolV1 is the first version: its profile reply has no limits or cost
// model, and clients take the legacy ones (fractal.Profile.WithDefaults).
const ProtocolV1 = "fractal-engine/1"

// ContentType is the media type of record bodies.
const ContentType = "application/x-fractal-records"

// Capabilities an engine may advertise in its profile reply.
const CapDecodeFrame = "decode_frame"

// Record types.
const (
	TypeGenerate    = "generate"
	TypeStep        = "step"
	TypeDecode      = "decode"
	TypeDecodeFrame = "decode_frame"
	TypeProgress    = "progress"
	TypeResult      = "result"
	TypeFrames      = "frames"
	TypeFrame       = "frame"
	TypeState       = "state"
	TypeError       = "error"
	TypeEnd         = "end"
)

// Element types and encodings.
const (
	DTypeFloat32 = "float32" // little-endian IEEE-754, row-major
	EncodingRaw  = "raw"     // uint8 RGB, (frames, height, width, 3), row-major
)

// Limits every implementation honours.
const (
	MaxLineBytes = 64 << 10 // one JSON line, newline included
	MaxRank      = 8        // dimensions of a state shape
)

// ProfileReply is the body of GET /v1/profile: the profile's own fields plus
// the protocol version and optional capabilities.
type ProfileReply struct {
	fractal.Profile
	Protocol     string   `json:"protocol"`
	Capabilities []string `json:"capabilities,omitempty"`
	// ExecutionClassID names the engine's execution class (fractal.ClassOf);
	// empty for an engine that computes the same bits everywhere.
	ExecutionClassID string `json:"execution_class_id,omitempty"`
}

// StateHeader describes a state payload.
type StateHeader struct {
	Shape  []int          `json:"shape"`
	DType  string         `json:"dtype"`
	Digest fractal.Digest `json:"digest"`
}

// GenerateRequest is the body of POST /v1/generate (no payload).
type GenerateRequest struct {
	Type       string       `json:"type"`
	Spec       fractal.Spec `json:"spec"`
	KeepStates bool         `json:"keep_states,omitempty"`
}

// StepRequest is the body of POST /v1/step. For t == 0 State is nil and no
// payload follows; otherwise the payload is state t-1.
type StepRequest struct {
	Type  string       `json:"type"`
	Spec  fractal.Spec `json:"spec"`
	T     int          `json:"t"`
	State *StateHeader `json:"state,omitempty"`
	Bytes int64        `json:"bytes,omitempty"`
}

// DecodeRequest is the body of POST /v1/decode and, with Index,
// POST /v1/decode_frame. The payload is the final state.
type DecodeRequest struct {
	Type  string       `json:"type"`
	Spec  fractal.Spec `json:"spec"`
	Index int          `json:"index,omitempty"`
	State StateHeader  `json:"state"`
	Bytes int64        `json:"bytes"`
}

// ProgressEvent reports that Step of Steps sampling steps are done.
type ProgressEvent struct {
	Type string `json:"type"`
	fractal.Progress
}

// ResultEvent ends the sampling part of a generate stream.
type ResultEvent struct {
	Type         string           `json:"type"`
	Profile      fractal.Profile  `json:"profile"`
	Spec         fractal.Spec     `json:"spec"`
	StateDigests []fractal.Digest `json:"state_digests"`
	FramesDigest fractal.Digest   `json:"frames_digest"`
	States       int              `json:"states"` // state records that follow the frames
}

// FramesRecord carries canonical frames.
type FramesRecord struct {
	Type     string         `json:"type"`
	Frames   int            `json:"frames"`
	Height   int            `json:"height"`
	Width    int            `json:"width"`
	Channels int            `json:"channels"`
	FPS      int            `json:"fps"`
	Encoding string         `json:"encoding"`
	Digest   fractal.Digest `json:"digest"`
	Bytes    int64          `json:"bytes"`
}

// FrameRecord carries one decoded frame.
type FrameRecord struct {
	Type     string `json:"type"`
	Index    int    `json:"index"`
	Height   int    `json:"height"`
	Width    int    `json:"width"`
	Channels int    `json:"channels"`
	Encoding string `json:"encoding"`
	Bytes    int64  `json:"bytes"`
}

// StateRecord carries state T.
type StateRecord struct {
	Type string `json:"type"`
	T    int    `json:"t"`
	StateHeader
	Bytes int64 `json:"bytes"`
}

// ErrorBody is the error object of an error reply or an error record.
type ErrorBody = apierr.Body

// ErrorReply is the body of every non-200 reply, and (with Type "error") the
// record that ends a generate stream that failed after it started.
type ErrorReply struct {
	Type  string    `json:"type,omitempty"`
	Error ErrorBody `json:"error"`
}

// EndRecord closes a generate stream; a stream without it was truncated.
type EndRecord struct {
	Type string `json:"type"`
}

// envelope is what every record header has in common.
type envelope struct {
	Type  string `json:"type"`
	Bytes int64  `json:"bytes"`
}

// WriteRecord writes v as one JSON line followed by payload. v must carry a
// "bytes" field equal to len(payload) when payload is not empty.
func WriteRecord(w io.Writer, v any, payload []byte) error {
	line, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode record: %w", err)
	}
	line = append(line, '\n')
	if _, err := w.Write(line); err != nil {
		return err
	}
	if len(payload) > 0 {
		if _, err := w.Write(payload); err != nil {
			return err
		}
	}
	return nil
}

// RecordSize returns the bytes WriteRecord writes for v and a payload of n bytes.
func RecordSize(v any, n int) (int, error) {
	line, err := json.Marshal(v)
	if err != nil {
		return 0, fmt.Errorf("encode record: %w", err)
	}
	return len(line) + 1 + n, nil
}

// Record is one record read from a body.
type Record struct {
	Type    string
	Line    []byte // the JSON line, without its newline
	Payload []byte
}

// Decode unmarshals the record's JSON line into v.
func (r *Record) Decode(v any) error {
	if err := json.Unmarshal(r.Line, v); err != nil {
		return fmt.Errorf("%s record: %v: %w", r.Type, err, fractal.ErrInvalid)
	}
	return nil
}

// Reader reads records, bounding line and payload sizes.
type Reader struct {
	br         *bufio.Reader
	maxPayload int64
}

// NewReader returns a Reader that refuses payloads over maxPayload bytes.
func NewReader(r io.Reader, maxPayload int64) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, MaxLineBytes), maxPayload: maxPayload}
}

// ErrNoRecord is returned by Next at a clean end of input.
var ErrNoRecord = errors.New("no more records")

// Next reads one record. Malformed input wraps fractal.ErrInvalid; a payload
// over the limit wraps fractal.ErrTooLarge; a clean end returns ErrNoRecord.
func (r *Reader) Next() (*Record, error) {
	line, err := r.br.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return nil, fmt.Errorf("record line over %d bytes: %w", MaxLineBytes, fractal.ErrTooLarge)
	case err == io.EOF && len(line) == 0:
		return nil, ErrNoRecord
	case err == io.EOF:
		// A final line without its newline is accepted.
	case err != nil:
		return nil, err
	}
	rec := &Record{Line: append([]byte(nil), trimEOL(line)...)}
	var env envelope
	if err := json.Unmarshal(rec.Line, &env); err != nil {
		return nil, fmt.Errorf("record line: %v: %w", err, fractal.ErrInvalid)
	}
	rec.Type = env.Type
	switch {
	case env.Bytes < 0:
		return nil, fmt.Errorf("%s record: negative bytes %d: %w", env.Type, env.Bytes, fractal.ErrInvalid)
	case env.Bytes > r.maxPayload:
		return nil, fmt.Errorf("%s record: payload of %d bytes exceeds the limit of %d: %w", env.Type, env.Bytes, r.maxPayload, fractal.ErrTooLarge)
	case env.Bytes > 0:
		rec.Payload = make([]byte, env.Bytes)
		if _, err := io.ReadFull(r.br, rec.Payload); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("%s record: payload truncated: %w", env.Type, fractal.ErrInvalid)
			}
			return nil, err
		}
	}
	return rec, nil
}

// Rest reports whether any input follows the records read so far.
func (r *Reader) Rest() bool {
	_, err := r.br.Peek(1)
	return err == nil
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

// StatePayload checks a state header's shape and dtype against its payload
// and decodes it. It leaves the digest to the caller: a server refuses a
// request whose digest is wrong as invalid, a client calls it a mismatch.
func StatePayload(h StateHeader, payload []byte) (fractal.State, error) {
	if h.DType != DTypeFloat32 {
		return fractal.State{}, fractal.Errorf("state", "dtype must be %q, got %q", DTypeFloat32, h.DType)
	}
	n, err := ShapeElems(h.Shape, math.MaxInt64/4)
	if err != nil {
		return fractal.State{}, err
	}
	if int64(len(payload)) != 4*n {
		return fractal.State{}, fractal.Errorf("state", "shape %v needs %d bytes, got %d", h.Shape, 4*n, len(payload))
	}
	return fractal.StateFromBytes(h.Shape, payload)
}

// ShapeElems returns the elements a shape holds, refusing empty shapes, more
// than MaxRank dimensions, non-positive dimensions and more than limit elements.
func ShapeElems(shape []int, limit int64) (int64, error) {
	if len(shape) == 0 || len(shape) > MaxRank {
		return 0, fractal.Errorf("state", "shape must have 1 to %d dimensions, got %d", MaxRank, len(shape))
	}
	n := int64(1)
	for _, d := range shape {
		if d <= 0 {
			return 0, fractal.Errorf("state", "shape %v has a non-positive dimension", shape)
		}
		if n > limit/int64(d) {
			return 0, fmt.Errorf("state shape %v holds more than %d elements: %w", shape, limit, fractal.ErrTooLarge)
		}
		n *= int64(d)
	}
	return n, nil
}

// Header returns the wire header of a state.
func Header(s fractal.State) StateHeader {
	return StateHeader{Shape: s.Shape, DType: DTypeFloat32, Digest: s.Digest()}
}
