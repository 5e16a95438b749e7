package jetstream_test

import (
	"context"
	"testing"
	"time"

	"github.com/fractal-grid/fractal/storetest"
)

func TestFeed(t *testing.T) {
	st := openEmbedded(t)
	ctx := storetest.Context(t, 30*time.Second)
	a, err := st.KV(ctx, "feeds", 0)
	if err != nil {
		t.Fatal(err)
	}
	other, err := st.KV(ctx, "other", 0)
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	all, err := a.Subscribe(sctx, "grid.>")
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	for _, tc := range []struct {
		kv interface {
			Publish(context.Context, string, []byte) error
		}
		subject string
		data    string
	}{
		{other, "grid.attempts", "another bucket's"}, // not this bucket's feed
		{a, "jobs.x", "another subject"},
		{a, "grid.attempts", "one"},
		{a, "grid.attempts.b", "two"},
	} {
		if err := tc.kv.Publish(ctx, tc.subject, []byte(tc.data)); err != nil {
			t.Fatalf("Publish(%s): %v", tc.subject, err)
		}
	}
	for _, want := range []string{"one", "two"} {
		select {
		case got := <-all:
			if string(got) != want {
				t.Fatalf("got %q, want %q", got, want)
			}
		case <-ctx.Done():
			t.Fatalf("no message %q", want)
		}
	}
	if err := a.Publish(ctx, "bad subject", nil); err == nil {
		t.Error("Publish to an invalid subject succeeded, want an error")
	}
	stop()
	for range all { // drains, then closes
	}
}
