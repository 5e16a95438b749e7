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

// Names of the sample stream.
const (
	samplesStream  = "FRACTAL_SAMPLES"
	samplesSubject = "fractal.samples"
)

// samples is the sample stream: a limits stream that keeps samples for
// fractal.SampleMaxAge, with one durable pull consumer per validator. The
// stream is created on first use, so stores that never sample need none.
type samples struct {
	mu    sync.Mutex
	ready bool
	cons  map[string]jetstream.Consumer
}

var _ fractal.SampleLog = (*Queue)(nil)

// ensure creates the stream once.
func (q *Queue) ensureSamples(ctx context.Context) error {
	q.samples.mu.Lock()
	defer q.samples.mu.Unlock()
	if q.samples.ready {
		return nil
	}
	err := q.s.do(ctx, "create sample stream", func(ctx context.Context) error {
		_, err := q.s.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
			Name: samplesStream, Description: "fractal users' finished jobs for validators to verify",
			Subjects: []string{samplesSubject}, Retention: jetstream.LimitsPolicy,
			MaxAge: fractal.SampleMaxAge, Discard: jetstream.DiscardOld,
			Storage: q.s.storage(), Replicas: q.s.cfg.Replicas,
		})
		return err
	})
	if err != nil {
		return err
	}
	q.samples.ready = true
	return nil
}

// PublishSample stores s in the sample stream.
func (q *Queue) PublishSample(ctx context.Context, s *fractal.Sample) error {
	if err := s.Validate(); err != nil {
		return fmt.Errorf("publish sample: %w", err)
	}
	data, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("publish sample: %w", err)
	}
	if err := q.ensureSamples(ctx); err != nil {
		return fmt.Errorf("publish sample: %w", err)
	}
	msgID := "sample." + s.Claim.RequestID
	return q.s.do(ctx, "publish sample "+s.Claim.RequestID, func(ctx context.Context) error {
		_, err := q.s.js.Publish(ctx, samplesSubject, data, jetstream.WithMsgID(msgID), jetstream.WithExpectStream(samplesStream))
		return err
	})
}

// consumer returns consumer's durable pull consumer, creating it.
func (q *Queue) consumer(ctx context.Context, name string) (jetstream.Consumer, error) {
	if err := fractal.ValidateToken("consumer", name); err != nil {
		return nil, err
	}
	if err := q.ensureSamples(ctx); err != nil {
		return nil, err
	}
	q.samples.mu.Lock()
	defer q.samples.mu.Unlock()
	if c, ok := q.samples.cons[name]; ok {
		return c, nil
	}
	var cons jetstream.Consumer
	err := q.s.do(ctx, "create sample consumer "+name, func(ctx context.Context) error {
		var err error
		cons, err = q.s.js.CreateOrUpdateConsumer(ctx, samplesStream, jetstream.ConsumerConfig{
			Durable: name, Description: "a validator taking users' jobs to verify",
			AckPolicy: jetstream.AckExplicitPolicy, AckWait: q.s.cfg.AckWait,
			DeliverPolicy: jetstream.DeliverAllPolicy, MaxAckPending: -1, Replicas: q.s.cfg.Replicas,
			InactiveThreshold: 2 * fractal.SampleMaxAge,
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	if q.samples.cons == nil {
		q.samples.cons = map[string]jetstream.Consumer{}
	}
	q.samples.cons[name] = cons
	return cons, nil
}

// NextSample blocks until consumer's next sample or the end of ctx. A
// sample is acknowledged as it is taken: a validator that stops before
// verifying it loses one sample, which sampling tolerates.
func (q *Queue) NextSample(ctx context.Context, consumer string) (*fractal.Sample, error) {
	cons, err := q.consumer(ctx, consumer)
	if err != nil {
		return nil, fmt.Errorf("next sample: %w", err)
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("next sample: %w", err)
		}
		pctx, cancel := context.WithTimeout(ctx, pollWait)
		msg, err := cons.Next(jetstream.FetchContext(pctx))
		cancel()
		switch {
		case err == nil:
			var s fractal.Sample
			uerr := json.Unmarshal(msg.Data(), &s)
			if aerr := msg.Ack(); aerr != nil {
				q.s.log.Warn("sample ack failed", logKeyErr, aerr)
			}
			if uerr != nil {
				q.s.log.Warn("sample dropped: not a sample", logKeyErr, uerr)
				continue
			}
			return &s, nil
		case ctx.Err() != nil:
			return nil, fmt.Errorf("next sample: %w", ctx.Err())
		case errors.Is(err, nats.ErrTimeout), errors.Is(err, context.DeadlineExceeded), errors.Is(err, jetstream.ErrNoMessages):
			continue
		case retryable(err):
			q.s.log.Warn("next sample failed; retrying", logKeyErr, err)
			if err := sleep(ctx, backoff(2)); err != nil {
				return nil, fmt.Errorf("next sample: %w", err)
			}
		default:
			return nil, fmt.Errorf("next sample: %w", mapError(err))
		}
	}
}
