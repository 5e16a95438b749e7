package jetstream

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/nats-io/nats.go"

	"github.com/fractal-grid/fractal"
)

var _ fractal.Feed = (*KV)(nil)

// feedBuffer is how many messages a subscriber may have unread before
// new ones are dropped.
const feedBuffer = 1024

// feedSubject is the NATS subject of a feed subject: plain NATS messages,
// not stored in a stream, under the bucket's name so that the processes
// sharing a bucket share its feed.
func (b *KV) feedSubject(subject string) string { return "fractal.feed." + b.name + "." + subject }

// validFeedSubject checks a subject, wildcards allowed when wild.
func validFeedSubject(subject string, wild bool) error {
	if wild {
		toks := strings.Split(subject, ".")
		for i, t := range toks {
			if t == "*" || (t == ">" && i == len(toks)-1) {
				toks[i] = "w"
			}
		}
		subject = strings.Join(toks, ".")
	}
	return fractal.ValidateKey(subject)
}

// Publish implements fractal.Feed.
func (b *KV) Publish(ctx context.Context, subject string, data []byte) error {
	if err := validFeedSubject(subject, false); err != nil {
		return fmt.Errorf("kv %s feed publish: %w", b.name, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := b.s.nc.Publish(b.feedSubject(subject), data); err != nil {
		return fmt.Errorf("kv %s feed publish %s: %w", b.name, subject, mapError(err))
	}
	return nil
}

// Subscribe implements fractal.Feed.
func (b *KV) Subscribe(ctx context.Context, subject string) (<-chan []byte, error) {
	if err := validFeedSubject(subject, true); err != nil {
		return nil, fmt.Errorf("kv %s feed subscribe: %w", b.name, err)
	}
	out := make(chan []byte, feedBuffer)
	var mu sync.Mutex // guards closed: NATS may run the handler once more after Unsubscribe
	closed := false
	sub, err := b.s.nc.Subscribe(b.feedSubject(subject), func(m *nats.Msg) {
		mu.Lock()
		defer mu.Unlock()
		if closed {
			return
		}
		select {
		case out <- m.Data:
		default: // a slow reader loses messages, as the interface says
		}
	})
	if err == nil { // the server knows of the subscription before we return
		fctx, cancel := context.WithTimeout(ctx, b.s.cfg.CallTimeout)
		err = b.s.nc.FlushWithContext(fctx)
		cancel()
		if err != nil {
			sub.Unsubscribe()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("kv %s feed subscribe %s: %w", b.name, subject, mapError(err))
	}
	context.AfterFunc(ctx, func() {
		sub.Unsubscribe()
		mu.Lock()
		defer mu.Unlock()
		closed = true
		close(out)
	})
	return out, nil
}
