package jetstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/nats-io/nats.go/jetstream"
)

// maxChunk is the object-store chunk size where the server allows it.
const maxChunk = 4 << 20

// chunkHeadroom leaves room for headers within the server's max payload.
const chunkHeadroom = 64 << 10

// BlobStore keeps result blobs in an object store whose objects expire
// Config.BlobTTL after they were written.
type BlobStore struct {
	s     *Store
	obs   jetstream.ObjectStore
	chunk int
}

var (
	_ fractal.BlobStore  = (*BlobStore)(nil)
	_ fractal.BlobLister = (*BlobStore)(nil)
)

func openBlobStore(ctx context.Context, s *Store) (*BlobStore, error) {
	obs, err := s.openObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket: blobsBucket, Description: "fractal results", TTL: s.cfg.BlobTTL,
		Storage: s.storage(), Replicas: s.cfg.Replicas,
	})
	if err != nil {
		return nil, err
	}
	chunk := min(maxChunk, int(s.nc.MaxPayload())-chunkHeadroom)
	return &BlobStore{s: s, obs: obs, chunk: chunk}, nil
}

// TTL returns how long blobs are kept, as configured on the server.
func (b *BlobStore) TTL(ctx context.Context) (time.Duration, error) {
	var ttl time.Duration
	err := b.s.do(ctx, "blob store status", func(ctx context.Context) error {
		st, err := b.obs.Status(ctx)
		if err == nil {
			ttl = st.TTL()
		}
		return err
	})
	return ttl, err
}

// BlobInfo describes a stored blob.
type BlobInfo struct {
	Size     int64
	Chunks   int
	Modified time.Time
}

// Stat describes the blob under key; fractal.ErrNotFound when there is none.
func (b *BlobStore) Stat(ctx context.Context, key string) (BlobInfo, error) {
	var info BlobInfo
	err := b.s.do(ctx, "stat blob "+key, func(ctx context.Context) error {
		oi, err := b.obs.GetInfo(ctx, key)
		if err == nil {
			info = BlobInfo{Size: int64(oi.Size), Chunks: int(oi.Chunks), Modified: oi.ModTime}
		}
		return err
	})
	return info, err
}

// Put stores r under key in chunks of up to 4 MiB. ctx bounds the upload.
func (b *BlobStore) Put(ctx context.Context, key string, r io.Reader) error {
	if key == "" || len(key) > fractal.MaxKeyBytes {
		return fmt.Errorf("put blob: %w", fractal.Errorf("key", "must be 1–%d bytes, got %d", fractal.MaxKeyBytes, len(key)))
	}
	meta := jetstream.ObjectMeta{Name: key, Opts: &jetstream.ObjectMetaOptions{ChunkSize: uint32(b.chunk)}}
	// A reader that returns short reads would make short chunks; fill each.
	if _, err := b.obs.Put(ctx, meta, &fullReader{r: r}); err != nil {
		return fmt.Errorf("put blob %s: %w", key, mapError(err))
	}
	return nil
}

// Get opens the blob under key; ctx bounds the whole read.
func (b *BlobStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	rc, err := b.obs.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("get blob %s: %w", key, mapError(err))
	}
	return rc, nil
}

// Delete removes the blob under key.
func (b *BlobStore) Delete(ctx context.Context, key string) error {
	return b.s.do(ctx, "delete blob "+key, func(ctx context.Context) error {
		return b.obs.Delete(ctx, key)
	})
}

// BlobKeys lists the keys under prefix, sorted. It reads the description
// of every object in the store (not their data).
func (b *BlobStore) BlobKeys(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	err := b.s.do(ctx, "list blobs", func(ctx context.Context) error {
		infos, err := b.obs.List(ctx)
		if errors.Is(err, jetstream.ErrNoObjectsFound) {
			infos, err = nil, nil
		}
		keys = keys[:0]
		for _, oi := range infos {
			if strings.HasPrefix(oi.Name, prefix) {
				keys = append(keys, oi.Name)
			}
		}
		return err
	})
	slices.Sort(keys)
	return keys, err
}

// fullReader fills p completely unless the underlying reader ends or fails.
type fullReader struct{ r io.Reader }

func (f *fullReader) Read(p []byte) (int, error) {
	n, err := io.ReadFull(f.r, p)
	if err == io.ErrUnexpectedEOF {
		err = io.EOF
	}
	return n, err
}
