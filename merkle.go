package fractal

import (
	"crypto/sha256"
	"fmt"
)

// Merkle trees here hash leaves and inner nodes with distinct prefixes so a
// leaf can never pass as a node. An odd node at the end of a level is carried
// up unchanged.
const (
	merkleLeaf = 0x00
	merkleNode = 0x01
)

// MerkleLeaf returns the leaf hash of a digest.
func MerkleLeaf(d Digest) Digest {
	var buf [33]byte
	buf[0] = merkleLeaf
	copy(buf[1:], d[:])
	return sha256.Sum256(buf[:])
}

func merkleParent(l, r Digest) Digest {
	var buf [65]byte
	buf[0] = merkleNode
	copy(buf[1:], l[:])
	copy(buf[33:], r[:])
	return sha256.Sum256(buf[:])
}

// MerkleTree is a binary hash tree over a list of digests.
type MerkleTree struct {
	levels [][]Digest // levels[0] are leaf hashes; the last level holds the root
}

// NewMerkleTree builds the tree over items. It must not be empty.
func NewMerkleTree(items []Digest) *MerkleTree {
	level := make([]Digest, len(items))
	for i, d := range items {
		level[i] = MerkleLeaf(d)
	}
	t := &MerkleTree{levels: [][]Digest{level}}
	for len(level) > 1 {
		next := make([]Digest, (len(level)+1)/2)
		for i := range next {
			if 2*i+1 < len(level) {
				next[i] = merkleParent(level[2*i], level[2*i+1])
			} else {
				next[i] = level[2*i]
			}
		}
		t.levels = append(t.levels, next)
		level = next
	}
	return t
}

// MerkleRoot returns the root over items.
func MerkleRoot(items []Digest) Digest { return NewMerkleTree(items).Root() }

// Len returns the number of leaves.
func (t *MerkleTree) Len() int { return len(t.levels[0]) }

// Root returns the root hash.
func (t *MerkleTree) Root() Digest {
	if len(t.levels[0]) == 0 {
		return Digest{}
	}
	return t.levels[len(t.levels)-1][0]
}

// MerkleProof proves that a digest is leaf Index of a tree with Count leaves.
type MerkleProof struct {
	Index    int      `json:"index"`
	Count    int      `json:"count"`
	Siblings []Digest `json:"siblings"`
}

// Proof returns the inclusion proof for leaf i.
func (t *MerkleTree) Proof(i int) (MerkleProof, error) {
	if i < 0 || i >= t.Len() {
		return MerkleProof{}, fmt.Errorf("merkle proof: leaf %d of %d: %w", i, t.Len(), ErrInvalid)
	}
	p := MerkleProof{Index: i, Count: t.Len()}
	idx := i
	for _, level := range t.levels[:len(t.levels)-1] {
		sib := idx ^ 1
		if sib < len(level) {
			p.Siblings = append(p.Siblings, level[sib])
		}
		idx /= 2
	}
	return p, nil
}

// Verify checks that item is leaf p.Index under root. It returns an error
// wrapping ErrMismatch when it is not.
func (p MerkleProof) Verify(root, item Digest) error {
	if p.Count <= 0 || p.Index < 0 || p.Index >= p.Count {
		return fmt.Errorf("merkle proof: leaf %d of %d: %w", p.Index, p.Count, ErrMismatch)
	}
	h := MerkleLeaf(item)
	idx, width, used := p.Index, p.Count, 0
	for width > 1 {
		sib := idx ^ 1
		if sib < width {
			if used >= len(p.Siblings) {
				return fmt.Errorf("merkle proof: too few siblings: %w", ErrMismatch)
			}
			if idx%2 == 0 {
				h = merkleParent(h, p.Siblings[used])
			} else {
				h = merkleParent(p.Siblings[used], h)
			}
			used++
		}
		idx /= 2
		width = (width + 1) / 2
	}
	if used != len(p.Siblings) {
		return fmt.Errorf("merkle proof: %d unused siblings: %w", len(p.Siblings)-used, ErrMismatch)
	}
	if h != root {
		return fmt.Errorf("merkle proof: root does not match: %w", ErrMismatch)
	}
	return nil
}
