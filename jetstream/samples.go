package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/fractal-grid/fractal"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// sharedLog names one stream that gateways share with validators: a limits
// stream that keeps records for fractal.SampleMaxAge, with one durable pull
// consumer per validator.
type sharedLog struct {
	stream, subject, about string
}

// The shared logs: users' finished jobs (samples), and attempts of users'
// jobs that failed by the miner's doing (failures). Each has a stream of
// its own, so a validator that reads only samples is shown no failure.
var (
	sampleLog  = sharedLog{"FRACTAL_SAMPLES", "fractal.samples", "fractal users' finished jobs for validators to verify"}
	failureLog = sharedLog{"FRACTAL_FAILURES", "fractal.failures", "fractal users' jobs failed by a miner, for validators to count"}
)

// samples is the state of one shared log's stream, created on first use
// so that stores that never sample need none, and its consumers.
type samples struct {
	mu    sync.Mutex
	ready bool
	cons  map[string]jetstream.Consumer
}

var (
	_ fractal.SampleLog  = (*Queue)(nil)
	_ fractal.FailureLog = (*Queue)(nil)
)

// ensureLog creates l's stream once.
func (q *Queue) ensureLog(ctx context.Context, l sharedLog, st *samples) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.ready {
		return nil
	}
	err := q.s.do(ctx, "create stream "+l.stream, func(ctx context.Context) error {
		_, err := q.s.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
			Name: l.stream, Description: l.about,
			Subjects: []string{l.subject}, Retention: jetstream.LimitsPolicy,
			MaxAge: fractal.SampleMaxAge, Discard: jetstream.DiscardOld,
			Storage: q.s.storage(), Replicas: q.s.cfg.Replicas,
		})
		return err
	})
	if err != nil {
		return err
	}
	st.ready = true
	return nil
}

// publishLog stores a record under l's subject once per msgID.
func (q *Queue) publishLog(ctx context.Context, l sharedLog, st *samples, msgID string, record any) error {
	data, err := json.Marshal(record)
	if err != nil {
		return err
	}
	if err := q.ensureLog(ctx, l, st); err != nil {
		return err
	}
	return q.s.do(ctx, "publish "+msgID, func(ctx context.Context) error {
		_, err := q.s.js.Publish(ctx, l.subject, data, jetstream.WithMsgID(msgID), jetstream.WithExpectStream(l.stream))
		return err
	})
}

// PublishSample stores s in the sample stream.
func (q *Queue) PublishSample(ctx context.Context, s *fractal.Sample) error {
	if err := s.Validate(); err != nil {
		return fmt.Errorf("publish sample: %w", err)
	}
	if err := q.publishLog(ctx, sampleLog, &q.samples, "sample."+s.Claim.RequestID, s); err != nil {
		return fmt.Errorf("publish sample: %w", err)
	}
	return nil
}

// PublishFailure stores f in the failure stream.
func (q *Queue) PublishFailure(ctx context.Context, f *fractal.AttemptFailure) error {
	if err := f.Validate(); err != nil {
		return fmt.Errorf("publish failure: %w", err)
	}
	if err := q.publishLog(ctx, failureLog, &q.failures, "failure."+f.RequestID, f); err != nil {
		return fmt.Errorf("publish failure: %w", err)
	}
	return nil
}

// consumer returns consumer's durable pull consumer of l, creating it.
func (q *Queue) consumer(ctx context.Context, l sharedLog, st *samples, name string) (jetstream.Consumer, error) {
	if err := fractal.ValidateToken("consumer", name); err != nil {
		return nil, err
	}
	if err := q.ensureLog(ctx, l, st); err != nil {
		return nil, err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if c, ok := st.cons[name]; ok {
		return c, nil
	}
	var cons jetstream.Consumer
	err := q.s.do(ctx, "create consumer "+name+" of "+l.stream, func(ctx context.Context) error {
		var err error
		cons, err = q.s.js.CreateOrUpdateConsumer(ctx, l.stream, jetstream.ConsumerConfig{
			Durable: name, Description: "a validator taking " + l.subject,
			AckPolicy: jetstream.AckExplicitPolicy, AckWait: q.s.cfg.AckWait,
			DeliverPolicy: jetstream.DeliverAllPolicy, MaxAckPending: -1, Replicas: q.s.cfg.Replicas,
			InactiveThreshold: 2 * fractal.SampleMaxAge,
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	if st.cons == nil {
		st.cons = map[string]jetstream.Consumer{}
	}
	st.cons[name] = cons
	return cons, nil
}

// NextSample blocks until consumer's next sample or the end of ctx. A
// sample is acknowledged as it is taken: a validator that stops before
// verifying it loses one sample, which sampling tolerates.
func (q *Queue) NextSample(ctx context.Context, consumer string) (*fractal.Sample, error) {
	var s fractal.Sample
	if err := q.nextLog(ctx, sampleLog, &q.samples, consumer, func(data []byte) error {
		s = fractal.Sample{}
		return json.Unmarshal(data, &s)
	}); err != nil {
		return nil, fmt.Errorf("next sample: %w", err)
	}
	return &s, nil
}

// NextFailure blocks until consumer's next failure or the end of ctx,
// acknowledging it as it is taken.
func (q *Queue) NextFailure(ctx context.Context, consumer string) (*fractal.AttemptFailure, error) {
	var f fractal.AttemptFailure
	if err := q.nextLog(ctx, failureLog, &q.failures, consumer, func(data []byte) error {
		f = fractal.AttemptFailure{}
		return json.Unmarshal(data, &f)
	}); err != nil {
		return nil, fmt.Errorf("next failure: %w", err)
	}
	return &f, nil
}

// nextLog blocks until consumer's next record of l that decode takes, or
// the end of ctx. Each record is acknowledged as it is taken; one that
// decode refuses is logged and skipped.
func (q *Queue) nextLog(ctx context.Context, l sharedLog, st *samples, consumer string, decode func([]byte) error) error {
	cons, err := q.consumer(ctx, l, st, consumer)
	if err != nil {
		return err
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		pctx, cancel := context.WithTimeout(ctx, pollWait)
		msg, err := cons.Next(jetstream.FetchContext(pctx))
		cancel()
		switch {
		case err == nil:
			derr := decode(msg.Data())
			if aerr := msg.Ack(); aerr != nil {
				q.s.log.Warn("ack failed", logKeyStream, l.stream, logKeyErr, aerr)
			}
			if derr != nil {
				q.s.log.Warn("record dropped: unreadable", logKeyStream, l.stream, logKeyErr, derr)
				continue
			}
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, nats.ErrTimeout), errors.Is(err, context.DeadlineExceeded), errors.Is(err, jetstream.ErrNoMessages):
			continue
		case retryable(err):
			q.s.log.Warn("next record failed; retrying", logKeyStream, l.stream, logKeyErr, err)
			if err := sleep(ctx, backoff(2)); err != nil {
				return err
			}
		default:
			return mapError(err)
		}
	}
}
