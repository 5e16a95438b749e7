package jetstream

import "time"

// SetChunkWait sets how long a blob read waits for a chunk before it asks
// whether the blob is still the one it reads.
func (b *BlobStore) SetChunkWait(d time.Duration) { b.wait = d }
