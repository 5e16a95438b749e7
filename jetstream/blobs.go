package jetstream

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io"
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
	s      *Store
	obs    jetstream.ObjectStore
	stream jetstream.Stream // the store's stream
	chunk  int
	wait   time.Duration // chunkWait
}

var (
	_ fractal.BlobStore  = (*BlobStore)(nil)
	_ fractal.BlobLister = (*BlobStore)(nil)
)

func openBlobStore(ctx context.Context, s *Store) (*BlobStore, error) {
	obs, stream, err := s.openObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket: blobsBucket, Description: "fractal results", TTL: s.cfg.BlobTTL,
		Storage: s.storage(), Replicas: s.cfg.Replicas,
	})
	if err != nil {
		return nil, err
	}
	chunk := min(maxChunk, int(s.nc.MaxPayload())-chunkHeadroom)
	return &BlobStore{s: s, obs: obs, stream: stream, chunk: chunk, wait: chunkWait}, nil
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
	oi, err := b.info(ctx, key)
	if err != nil {
		return BlobInfo{}, err
	}
	return BlobInfo{Size: int64(oi.Size), Chunks: int(oi.Chunks), Modified: oi.ModTime}, nil
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

// Get opens the blob under key; ctx bounds the whole read. The description
// comes from the stream leader, and the reader returns exactly the chunks it
// names, checking their size and digest at the end. (The object store's own
// Get stops when its consumer's replica has nothing more; on a replicated
// stream that replica may still lack the last chunks of a blob just
// written, and the read ends short with a digest mismatch.)
func (b *BlobStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	info, err := b.info(ctx, key)
	if err != nil {
		return nil, err
	}
	if info.Opts != nil && info.Opts.Link != nil {
		return nil, fmt.Errorf("get blob %s: a link, which this store never writes", key)
	}
	r := &blobReader{b: b, key: key, info: info, left: int(info.Chunks), hash: sha256.New()}
	if r.left == 0 {
		return r, nil
	}
	rctx, cancel := context.WithCancel(ctx)
	err = b.s.do(ctx, "get blob "+key, func(context.Context) error {
		cons, err := b.s.js.OrderedConsumer(rctx, b.stream.CachedInfo().Config.Name, jetstream.OrderedConsumerConfig{
			FilterSubjects: []string{fmt.Sprintf("$O.%s.C.%s", blobsBucket, info.NUID)},
		})
		if err != nil {
			return err
		}
		// Two chunks in flight bound the memory a read holds.
		r.msgs, err = cons.Messages(jetstream.PullMaxMessages(2), jetstream.PullHeartbeat(chunkHeartbeat))
		return err
	})
	if err != nil {
		cancel()
		return nil, err
	}
	r.ctx, r.cancel = rctx, cancel
	return r, nil
}

// info returns the description of the blob under key, from the stream
// leader; fractal.ErrNotFound when there is none.
func (b *BlobStore) info(ctx context.Context, key string) (*jetstream.ObjectInfo, error) {
	var info *jetstream.ObjectInfo
	err := b.s.do(ctx, "stat blob "+key, func(ctx context.Context) error {
		var err error
		info, err = b.obs.GetInfo(ctx, key)
		return err
	})
	return info, err
}

// blobReader reads a blob's chunks in order.
type blobReader struct {
	b      *BlobStore
	key    string
	info   *jetstream.ObjectInfo
	ctx    context.Context
	cancel context.CancelFunc
	msgs   jetstream.MessagesContext
	left   int    // chunks not yet read
	size   uint64 // bytes read
	hash   hash.Hash
	buf    []byte
	err    error
}

// chunkWait is how long a read waits for a chunk before it asks the leader
// whether the blob is still the one it reads.
const chunkWait = 5 * time.Second

// chunkHeartbeat is how often the server confirms a read's pull request
// while it has no chunk to send. The consumer is replaced after two missed
// heartbeats, counted within one wait for a chunk: a pull request can be
// lost (sent before the servers' routes knew of the new consumer), and a
// wait shorter than two heartbeats would never notice.
const chunkHeartbeat = time.Second

func (r *blobReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 && r.err == nil {
		if r.left == 0 {
			r.err = r.check()
			break
		}
		r.buf, r.err = r.next()
		r.left--
		r.size += uint64(len(r.buf))
		r.hash.Write(r.buf)
	}
	if len(r.buf) == 0 {
		return 0, r.err
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// next returns the next chunk. A chunk that is slow to come (the
// consumer's replica behind the leader) is waited for as long as the
// leader still describes the same blob.
func (r *blobReader) next() ([]byte, error) {
	for {
		wctx, cancel := context.WithTimeout(r.ctx, r.b.wait)
		msg, err := r.msgs.Next(jetstream.NextContext(wctx))
		cancel()
		if err == nil {
			return msg.Data(), nil
		}
		if r.ctx.Err() != nil || wctx.Err() == nil {
			return nil, fmt.Errorf("get blob %s: %w", r.key, mapError(cmp.Or(r.ctx.Err(), err)))
		}
		info, err := r.b.info(r.ctx, r.key)
		switch {
		case err != nil:
			return nil, fmt.Errorf("get blob %s: while reading: %w", r.key, err)
		case info.NUID != r.info.NUID:
			return nil, fmt.Errorf("get blob %s: replaced while reading: %w", r.key, fractal.ErrNotFound)
		}
	}
}

// check compares what was read with the blob's description.
func (r *blobReader) check() error {
	want, err := jetstream.DecodeObjectDigest(r.info.Digest)
	if err != nil {
		return fmt.Errorf("get blob %s: digest %q: %w", r.key, r.info.Digest, err)
	}
	if r.size != r.info.Size || !bytes.Equal(r.hash.Sum(nil), want) {
		return fmt.Errorf("get blob %s: read %d bytes that do not match the %d bytes and digest described", r.key, r.size, r.info.Size)
	}
	return io.EOF
}

func (r *blobReader) Close() error {
	if r.msgs != nil {
		r.msgs.Stop()
		r.cancel()
	}
	if r.err == nil {
		r.err = errors.New("read after close")
	}
	return nil
}

// Delete removes the blob under key.
func (b *BlobStore) Delete(ctx context.Context, key string) error {
	return b.s.do(ctx, "delete blob "+key, func(ctx context.Context) error {
		return b.obs.Delete(ctx, key)
	})
}

// BlobKeys lists the keys under prefix, sorted, as the stream leader holds
// them (see Store.leaderSubjects): a blob just written is among them, one
// just deleted is not. It reads the description of every blob under
// prefix (not their data).
func (b *BlobStore) BlobKeys(ctx context.Context, prefix string) ([]string, error) {
	head := "$O." + blobsBucket + ".M."
	subjects, err := b.s.leaderSubjects(ctx, b.stream, "list blobs", head+">")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, subj := range subjects {
		name, err := base64.URLEncoding.DecodeString(strings.TrimPrefix(subj, head))
		if err == nil && strings.HasPrefix(string(name), prefix) {
			names = append(names, string(name))
		}
	}
	keys, err := liveKeys(ctx, names, func(ctx context.Context, name string) error {
		_, err := b.info(ctx, name)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list blobs: %w", err)
	}
	return keys, nil
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
