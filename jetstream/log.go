package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/fractal-grid/fractal"
	"github.com/nats-io/nats.go/jetstream"
)

// AuditLog is the audit log: a limits stream under "fractal.audit.>".
type AuditLog struct {
	s      *Store
	stream jetstream.Stream
}

var _ fractal.AuditLog = (*AuditLog)(nil)

func openLog(ctx context.Context, s *Store) (*AuditLog, error) {
	var st jetstream.Stream
	err := s.do(ctx, "create audit stream", func(ctx context.Context) error {
		var err error
		st, err = s.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
			Name: auditStream, Description: "fractal audit log",
			Subjects: []string{auditSubjects + ">"}, Retention: jetstream.LimitsPolicy,
			MaxAge: s.cfg.AuditMaxAge, MaxBytes: s.cfg.AuditMaxBytes, Discard: jetstream.DiscardOld,
			Storage: s.storage(), Replicas: s.cfg.Replicas,
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return &AuditLog{s: s, stream: st}, nil
}

// Append stores record as JSON under subject and returns its sequence.
func (l *AuditLog) Append(ctx context.Context, subject string, record any) (uint64, error) {
	if err := fractal.ValidateKey(subject); err != nil {
		return 0, fmt.Errorf("audit append: %w", err)
	}
	data, err := json.Marshal(record)
	if err != nil {
		return 0, fmt.Errorf("audit append %s: %w", subject, err)
	}
	msgID := nonce()
	var seq uint64
	err = l.s.do(ctx, "audit append "+subject, func(ctx context.Context) error {
		ack, err := l.s.js.Publish(ctx, auditSubjects+subject, data, jetstream.WithMsgID(msgID), jetstream.WithExpectStream(auditStream))
		if err == nil {
			seq = ack.Sequence
		}
		return err
	})
	return seq, err
}

// Read returns up to limit records from sequence from on whose subject
// matches filter ("" for all).
func (l *AuditLog) Read(ctx context.Context, filter string, from uint64, limit int) ([]fractal.AuditRecord, error) {
	if limit < 1 {
		return nil, fmt.Errorf("audit read: %w", fractal.Errorf("limit", "must be positive, got %d", limit))
	}
	if filter == "" {
		filter = ">"
	}
	if err := validateFilter(filter); err != nil {
		return nil, fmt.Errorf("audit read: %w", err)
	}
	var out []fractal.AuditRecord
	seq := max(from, 1)
	for len(out) < limit {
		var msg *jetstream.RawStreamMsg
		err := l.s.do(ctx, "audit read", func(ctx context.Context) error {
			var err error
			msg, err = l.stream.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(auditSubjects+filter))
			return err
		})
		if errors.Is(err, fractal.ErrNotFound) {
			break
		}
		if err != nil {
			return nil, err
		}
		out = append(out, fractal.AuditRecord{
			Seq: msg.Sequence, Subject: strings.TrimPrefix(msg.Subject, auditSubjects),
			Time: msg.Time, Data: json.RawMessage(msg.Data),
		})
		seq = msg.Sequence + 1
	}
	return out, nil
}

// validateFilter checks a subject filter: key tokens, "*" tokens, and ">"
// as the last token.
func validateFilter(filter string) error {
	toks := strings.Split(filter, ".")
	for i, tok := range toks {
		if tok == "*" || tok == ">" && i == len(toks)-1 {
			continue
		}
		if err := fractal.ValidateKey(tok); err != nil {
			return fractal.Errorf("filter", "%q: token %q is not a key token, '*' or a final '>'", filter, tok)
		}
	}
	return nil
}
