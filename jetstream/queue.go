package jetstream

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// pollWait bounds one pull request of Dequeue; it loops until ctx ends.
const pollWait = 5 * time.Second

// Queue is the job queue: a work-queue stream whose entries are job IDs,
// consumed through one durable pull consumer shared by every dispatcher.
type Queue struct {
	s          *Store
	subject    string
	stream     string
	cons       jetstream.Consumer
	samples    samples // users' finished jobs for validators (samples.go)
	failures   samples // users' jobs failed by miners, for validators (samples.go)
	challenges *Queue  // validators' challenges, apart from users' jobs
}

var (
	_ fractal.JobQueue        = (*Queue)(nil)
	_ fractal.ChallengeQueues = (*Queue)(nil)
)

// openQueue opens the users' job queue and the challenges' beside it.
func openQueue(ctx context.Context, s *Store) (*Queue, error) {
	q, err := openWorkQueue(ctx, s, queueStream, queueSubject, "fractal jobs waiting for a dispatcher")
	if err != nil {
		return nil, err
	}
	if q.challenges, err = openWorkQueue(ctx, s, challengeStream, challengeSubject, "fractal validators' challenges waiting for a gateway replica"); err != nil {
		return nil, err
	}
	return q, nil
}

// Challenges returns the queue of validators' challenges: jobs pinned to
// their miners, which replicas send as soon as they take them.
func (q *Queue) Challenges() fractal.JobQueue {
	if q.challenges == nil {
		return q // the challenges' queue itself
	}
	return q.challenges
}

// openWorkQueue opens one work-queue stream of job ids and its
// dispatchers' durable consumer.
func openWorkQueue(ctx context.Context, s *Store, stream, subject, description string) (*Queue, error) {
	var cons jetstream.Consumer
	err := s.do(ctx, "create queue stream "+stream, func(ctx context.Context) error {
		_, err := s.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
			Name: stream, Description: description,
			Subjects: []string{subject}, Retention: jetstream.WorkQueuePolicy,
			Storage: s.storage(), Replicas: s.cfg.Replicas, Duplicates: fractal.EnqueueDedupe,
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	err = s.do(ctx, "create queue consumer "+stream, func(ctx context.Context) error {
		var err error
		cons, err = s.js.CreateOrUpdateConsumer(ctx, stream, jetstream.ConsumerConfig{
			Durable: queueConsumer, Description: "gateway dispatchers",
			AckPolicy: jetstream.AckExplicitPolicy, AckWait: s.cfg.AckWait,
			MaxDeliver: s.cfg.MaxDeliver, MaxAckPending: -1, Replicas: s.cfg.Replicas,
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return &Queue{s: s, subject: subject, stream: stream, cons: cons}, nil
}

// Enqueue stores id in the queue before returning. The message id is the
// job's, so a retried publish, or the same job enqueued again within the
// stream's duplicate window (fractal.EnqueueDedupe), is stored once.
func (q *Queue) Enqueue(ctx context.Context, id string) error {
	if err := fractal.ValidateToken("id", id); err != nil {
		return fmt.Errorf("enqueue: %w", err)
	}
	msgID := "job." + id
	return q.s.do(ctx, "enqueue job "+id, func(ctx context.Context) error {
		_, err := q.s.js.Publish(ctx, q.subject, []byte(id), jetstream.WithMsgID(msgID), jetstream.WithExpectStream(q.stream))
		return err
	})
}

// Dequeue blocks until a job is delivered or ctx ends.
func (q *Queue) Dequeue(ctx context.Context) (fractal.Delivery, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("dequeue: %w", err)
		}
		pctx, cancel := context.WithTimeout(ctx, pollWait)
		msg, err := q.cons.Next(jetstream.FetchContext(pctx))
		cancel()
		switch {
		case err == nil:
			d, err := newDelivery(q.s, msg)
			if err != nil {
				return nil, err // not a typed nil in the interface
			}
			return d, nil
		case ctx.Err() != nil:
			return nil, fmt.Errorf("dequeue: %w", ctx.Err())
		case errors.Is(err, nats.ErrTimeout), errors.Is(err, context.DeadlineExceeded), errors.Is(err, jetstream.ErrNoMessages):
			continue // nothing within pollWait: ask again
		case retryable(err):
			q.s.log.Warn("dequeue failed; retrying", logKeyErr, err)
			if err := sleep(ctx, backoff(2)); err != nil {
				return nil, fmt.Errorf("dequeue: %w", err)
			}
		default:
			return nil, fmt.Errorf("dequeue: %w", mapError(err))
		}
	}
}

// delivery is one queue entry handed to one dispatcher.
type delivery struct {
	s       *Store
	msg     jetstream.Msg
	id      string
	attempt int
}

var _ fractal.Delivery = (*delivery)(nil)

func newDelivery(s *Store, msg jetstream.Msg) (*delivery, error) {
	md, err := msg.Metadata()
	if err != nil {
		return nil, fmt.Errorf("dequeue: metadata: %w", err)
	}
	return &delivery{s: s, msg: msg, id: string(msg.Data()), attempt: int(md.NumDelivered)}, nil
}

func (d *delivery) JobID() string { return d.id }
func (d *delivery) Attempt() int  { return d.attempt }

// Ack removes the entry, waiting for the server to confirm it.
func (d *delivery) Ack(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, d.s.cfg.CallTimeout)
	defer cancel()
	if err := d.msg.DoubleAck(cctx); err != nil {
		return fmt.Errorf("ack job %s: %w", d.id, mapError(err))
	}
	return nil
}

// Nak returns the entry for redelivery after delay.
func (d *delivery) Nak(ctx context.Context, delay time.Duration) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("nak job %s: %w", d.id, err)
	}
	var err error
	if delay > 0 {
		err = d.msg.NakWithDelay(delay)
	} else {
		err = d.msg.Nak()
	}
	if err != nil {
		return fmt.Errorf("nak job %s: %w", d.id, mapError(err))
	}
	return nil
}

// InProgress restarts the AckWait timer.
func (d *delivery) InProgress(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("job %s in progress: %w", d.id, err)
	}
	if err := d.msg.InProgress(); err != nil {
		return fmt.Errorf("job %s in progress: %w", d.id, mapError(err))
	}
	return nil
}
