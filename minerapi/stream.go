package minerapi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// A generation stream is newline-delimited JSON events. The "frames" event
// is followed, right after its newline, by exactly Bytes bytes of a
// canonical frames file; then the stream ends.

// ContentTypeStream is the media type of a generation stream.
const ContentTypeStream = "application/x-ndjson"

// MaxEventBytes bounds one event line.
const MaxEventBytes = 64 << 10

// StreamWriter writes a generation stream, flushing after every event.
type StreamWriter struct {
	w io.Writer
	f http.Flusher
}

// NewStreamWriter starts a stream on w (flushed when w is an http.Flusher).
func NewStreamWriter(w io.Writer) *StreamWriter {
	f, _ := w.(http.Flusher)
	return &StreamWriter{w: w, f: f}
}

// Event writes one event line.
func (s *StreamWriter) Event(e Event) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if _, err := s.w.Write(append(b, '\n')); err != nil {
		return err
	}
	s.flush()
	return nil
}

// Frames writes the frames event and its payload.
func (s *StreamWriter) Frames(payload []byte) error {
	if err := s.Event(Event{Type: EventFrames, Bytes: int64(len(payload))}); err != nil {
		return err
	}
	if _, err := s.w.Write(payload); err != nil {
		return err
	}
	s.flush()
	return nil
}

func (s *StreamWriter) flush() {
	if s.f != nil {
		s.f.Flush()
	}
}

// ErrStream marks a malformed or truncated generation stream.
var ErrStream = errors.New("malformed generation stream")

// StreamReader reads a generation stream, bounding every read.
type StreamReader struct {
	r         *bufio.Reader
	maxFrames int64
	payload   io.Reader
}

// NewStreamReader reads events from r; a frames payload may hold at most
// maxFrames bytes.
func NewStreamReader(r io.Reader, maxFrames int64) *StreamReader {
	return &StreamReader{r: bufio.NewReaderSize(r, 16<<10), maxFrames: maxFrames}
}

// Next returns the next event. After a frames event, read the payload with
// Payload before calling Next again. At the end of the stream it returns
// io.EOF; a truncated or malformed stream gives an error wrapping ErrStream.
func (s *StreamReader) Next() (Event, error) {
	var e Event
	line, err := s.readLine()
	if err != nil {
		return e, err
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return e, fmt.Errorf("%w: event: %v", ErrStream, err)
	}
	if err := checkEvent(e, s.maxFrames); err != nil {
		return e, err
	}
	if e.Type == EventFrames {
		s.payload = io.LimitReader(s.r, e.Bytes)
	}
	return e, nil
}

// Payload returns the bytes that followed a frames event, failing if the
// stream ends before all of them arrived.
func (s *StreamReader) Payload() ([]byte, error) {
	if s.payload == nil {
		return nil, fmt.Errorf("%w: no frames event before the payload", ErrStream)
	}
	lr := s.payload.(*io.LimitedReader)
	want := lr.N
	buf := make([]byte, want)
	n, err := io.ReadFull(lr, buf)
	s.payload = nil
	if err != nil {
		return nil, fmt.Errorf("%w: frames payload truncated at %d of %d bytes", ErrStream, n, want)
	}
	return buf, nil
}

func (s *StreamReader) readLine() ([]byte, error) {
	var line []byte
	for {
		chunk, err := s.r.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > MaxEventBytes {
			return nil, fmt.Errorf("%w: event longer than %d bytes", ErrStream, MaxEventBytes)
		}
		switch {
		case err == nil:
			return line, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(line) == 0:
			return nil, io.EOF
		case errors.Is(err, io.EOF):
			return nil, fmt.Errorf("%w: stream ends inside an event", ErrStream)
		default:
			return nil, err
		}
	}
}

func checkEvent(e Event, maxFrames int64) error {
	switch e.Type {
	case EventAccepted, EventStarted:
		if e.QueuePosition < 0 || e.ETAMillis < 0 {
			return fmt.Errorf("%w: negative queue position or ETA", ErrStream)
		}
	case EventProgress:
		if e.Step < 1 || e.Steps < 1 || e.Step > e.Steps {
			return fmt.Errorf("%w: progress step %d of %d", ErrStream, e.Step, e.Steps)
		}
	case EventResult:
		if e.Result == nil {
			return fmt.Errorf("%w: result event without a result", ErrStream)
		}
	case EventFrames:
		if e.Bytes <= 0 || e.Bytes > maxFrames {
			return fmt.Errorf("%w: frames payload of %d bytes (limit %d)", ErrStream, e.Bytes, maxFrames)
		}
	case EventError:
		if e.Error == nil {
			return fmt.Errorf("%w: error event without an error", ErrStream)
		}
	default:
		return fmt.Errorf("%w: unknown event type %q", ErrStream, e.Type)
	}
	return nil
}
