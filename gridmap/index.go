package gridmap

import (
	"math"
	"math/bits"
)

// The map keeps every miner in a few indexes, so that a router can find
// the miners predicted to finish a job soonest without looking at all of
// them. A job of cost c is predicted to take wait + c × service, where wait
// is RTT + backlog ÷ slots × service (how long until it would start, plus
// the round trip) and service is the time per unit of spec cost. Index i
// orders the miners by that prediction for the reference cost
// indexCosts[i]; the last orders them by service alone (cost → ∞). For a
// cost between two references the prediction is a weighted sum, with
// non-negative weights, of the two references' keys, so walking those two
// indexes from the bottom finds the best miners for that cost (the
// threshold algorithm): a miner not yet met scores at least the weighted
// sum of the two keys reached. Close references keep the walk short.
//
// Each index is a row of buckets whose bounds grow geometrically (32 per
// doubling, about 2% apart) from 1 ms; a bitmap marks the non-empty ones.
// Moving a miner is O(1). Keys are computed when something about the miner
// changes (an attempt, a probe, a merge); between events only the decay of
// the service time towards the miner's ETA moves them, downwards, and the
// next probe catches that up.
const (
	indexMin       = 1e-3 // seconds: keys below share the first bucket
	indexPerDouble = 32
	indexBuckets   = indexPerDouble * 24 // up to about 4.6 hours
)

// indexCosts are the reference costs of the indexes but the last, which
// orders by service time.
var indexCosts = [...]float64{0, 1, 4, 16}

// indexes is how many indexes the map keeps.
const indexes = len(indexCosts) + 1

// index is one ordering of the miners by a key in seconds.
type index struct {
	which   int // the miner's pos entry for this index
	buckets [indexBuckets][]*miner
	full    [indexBuckets / 64]uint64 // bit b: bucket b is not empty
}

// slot is where a miner sits in one index.
type slot struct {
	bucket, at int // at is the position in the bucket; bucket -1: absent
}

func bucketOf(key float64) int {
	if !(key > indexMin) { // NaN too
		return 0
	}
	return min(int(math.Log2(key/indexMin)*indexPerDouble), indexBuckets-1)
}

// floors[b] is the lowest key bucket b holds.
var floors = func() (f [indexBuckets]float64) {
	for b := 1; b < indexBuckets; b++ {
		f[b] = indexMin * math.Exp2(float64(b)/indexPerDouble)
	}
	return f
}()

// put moves x to the bucket for key, or inserts it.
func (ix *index) put(x *miner, key float64) {
	s := &x.pos[ix.which]
	b := bucketOf(key)
	if s.bucket == b {
		return
	}
	ix.remove(x)
	s.bucket, s.at = b, len(ix.buckets[b])
	ix.buckets[b] = append(ix.buckets[b], x)
	ix.full[b/64] |= 1 << (b % 64)
}

// remove takes x out of the index.
func (ix *index) remove(x *miner) {
	s := &x.pos[ix.which]
	if s.bucket < 0 {
		return
	}
	list := ix.buckets[s.bucket]
	last := len(list) - 1
	if s.at != last {
		moved := list[last]
		list[s.at] = moved
		moved.pos[ix.which].at = s.at
	}
	list[last] = nil
	ix.buckets[s.bucket] = list[:last]
	if last == 0 {
		ix.full[s.bucket/64] &^= 1 << (s.bucket % 64)
	}
	s.bucket = -1
}

// next returns the first non-empty bucket at or after b, or -1.
func (ix *index) next(b int) int {
	if b >= indexBuckets {
		return -1
	}
	for w := b / 64; w < len(ix.full); w++ {
		word := ix.full[w]
		if w == b/64 {
			word &^= 1<<(b%64) - 1
		}
		if word != 0 {
			return w*64 + bits.TrailingZeros64(word)
		}
	}
	return -1
}

// cursor walks an index from its lowest bucket.
type cursor struct {
	ix     *index
	bucket int // -1: exhausted
	at     int
}

func (c *cursor) start(ix *index) {
	c.ix, c.bucket, c.at = ix, ix.next(0), 0
}

// floor is a lower bound on the key of every miner not yet returned.
func (c *cursor) floor() float64 {
	if c.bucket < 0 {
		return math.Inf(1)
	}
	return floors[c.bucket]
}

// step returns the next miner, or nil when the index is exhausted.
func (c *cursor) step() *miner {
	for c.bucket >= 0 {
		if list := c.ix.buckets[c.bucket]; c.at < len(list) {
			c.at++
			return list[c.at-1]
		}
		c.bucket, c.at = c.ix.next(c.bucket+1), 0
	}
	return nil
}
