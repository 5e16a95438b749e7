// Package storetest holds the contract test suites of Fractal's store
// interfaces (fractal.JobStore, JobQueue, BlobStore, KV, Log). Every
// implementation runs every suite from its own tests, against each way it
// can be deployed (embedded, external server):
//
//	storetest.JobStore(t, func(t *testing.T) fractal.JobStore { return openStore(t).Jobs() })
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/internal/testenv"
)

// Logger returns a logger that writes warnings and errors to t.Log.
func Logger(tb testing.TB) *slog.Logger { return testenv.Logger(tb, slog.LevelWarn) }

// Context returns a context that ends after d or with the test.
func Context(tb testing.TB, d time.Duration) context.Context {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	tb.Cleanup(cancel)
	return ctx
}

// wantErr fails unless errors.Is(err, want).
func wantErr(tb testing.TB, err, want error) {
	tb.Helper()
	if !errors.Is(err, want) {
		tb.Fatalf("got error %v, want %v", err, want)
	}
}

// must fails the test on err.
func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// jsonOf returns v as JSON, for comparing records field by field.
func jsonOf(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	must(tb, err)
	return string(b)
}

// testJob returns a valid queued job with a time-ordered ID (n) for owner.
func testJob(owner string, n int, now time.Time) *fractal.Job {
	spec := fractal.DefaultSpec(fmt.Sprintf("a red ball bouncing over the ocean %d", n), uint64(n))
	job := fractal.NewJob(fmt.Sprintf("job-%06d", n), owner, spec, now)
	job.WebhookURL = "https://example.com/hook"
	return job
}
