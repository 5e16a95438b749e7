package storetest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/fractal-grid/fractal"
)

// BlobStore runs the fractal.BlobStore contract. newStore returns an empty
// store for each subtest.
func BlobStore(t *testing.T, newStore func(t *testing.T) fractal.BlobStore) {
	t.Run("PutGet", func(t *testing.T) {
		st, ctx := newStore(t), Context(t, 60*time.Second)
		rng := rand.New(rand.NewPCG(1, 2))
		tests := []struct {
			name string
			size int
			r    func([]byte) io.Reader
		}{
			{"empty", 0, plain},
			{"one byte", 1, plain},
			{"100 KiB", 100 << 10, plain},
			{"one byte reads", 300 << 10, func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) }},
			{"5 MiB across chunks", 5 << 20, plain},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				data := make([]byte, tt.size)
				for i := range data {
					data[i] = byte(rng.Uint32())
				}
				key := "videos/job-1/" + tt.name
				must(t, st.Put(ctx, key, tt.r(data)))
				if got := readBlob(t, ctx, st, key); !bytes.Equal(got, data) {
					t.Fatalf("got %d bytes back, want the %d bytes stored", len(got), len(data))
				}
			})
		}
	})
	t.Run("Overwrite", func(t *testing.T) {
		st, ctx := newStore(t), Context(t, 30*time.Second)
		must(t, st.Put(ctx, "k", bytes.NewReader([]byte("first version, longer"))))
		must(t, st.Put(ctx, "k", bytes.NewReader([]byte("second"))))
		if got := string(readBlob(t, ctx, st, "k")); got != "second" {
			t.Fatalf("got %q, want %q", got, "second")
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		st, ctx := newStore(t), Context(t, 30*time.Second)
		_, err := st.Get(ctx, "missing")
		wantErr(t, err, fractal.ErrNotFound)
		wantErr(t, st.Delete(ctx, "missing"), fractal.ErrNotFound)
	})
	t.Run("Delete", func(t *testing.T) {
		st, ctx := newStore(t), Context(t, 30*time.Second)
		must(t, st.Put(ctx, "k", bytes.NewReader([]byte("video"))))
		must(t, st.Delete(ctx, "k"))
		_, err := st.Get(ctx, "k")
		wantErr(t, err, fractal.ErrNotFound)
	})
	t.Run("Keys", func(t *testing.T) {
		st, ctx := newStore(t), Context(t, 30*time.Second)
		lister, ok := st.(fractal.BlobLister)
		if !ok {
			t.Fatalf("%T is not a fractal.BlobLister", st)
		}
		if keys, err := lister.BlobKeys(ctx, ""); err != nil || len(keys) != 0 {
			t.Fatalf("empty store: got %q, %v, want no keys", keys, err)
		}
		for _, k := range []string{"video.b.mp4", "frames.b", "frames.a.2", "frames.a.1", "framesx"} {
			must(t, st.Put(ctx, k, bytes.NewReader([]byte(k))))
		}
		must(t, st.Delete(ctx, "frames.b"))
		for _, tc := range []struct{ prefix, want string }{
			{"frames.", "frames.a.1 frames.a.2"},
			{"", "frames.a.1 frames.a.2 framesx video.b.mp4"},
			{"none.", ""},
		} {
			keys, err := lister.BlobKeys(ctx, tc.prefix)
			must(t, err)
			if got := strings.Join(keys, " "); got != tc.want {
				t.Errorf("prefix %q: got %q, want %q", tc.prefix, got, tc.want)
			}
		}
	})
	t.Run("FailedReaderStoresNothing", func(t *testing.T) {
		st, ctx := newStore(t), Context(t, 30*time.Second)
		errBroken := errors.New("connection reset")
		r := io.MultiReader(bytes.NewReader(make([]byte, 10_000)), iotest.ErrReader(errBroken))
		if err := st.Put(ctx, "k", r); !errors.Is(err, errBroken) {
			t.Fatalf("got error %v, want %v", err, errBroken)
		}
		_, err := st.Get(ctx, "k")
		wantErr(t, err, fractal.ErrNotFound)
	})
}

func plain(b []byte) io.Reader { return bytes.NewReader(b) }

func readBlob(t *testing.T, ctx context.Context, st fractal.BlobStore, key string) []byte {
	t.Helper()
	rc, err := st.Get(ctx, key)
	must(t, err)
	defer rc.Close()
	b, err := io.ReadAll(rc)
	must(t, err)
	return b
}
