package fractal_test

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"testing"

	"github.com/fractal-grid/fractal"
)

// FuzzMerkleProof builds a tree of n leaves from seed and checks leaf i:
// its proof verifies, survives a JSON round trip, and fails with
// ErrMismatch for a changed leaf, sibling, index or count. A proof decoded
// from arbitrary JSON never panics and verifies only what it proves.
func FuzzMerkleProof(f *testing.F) {
	f.Add(uint16(1), uint16(0), uint16(0), []byte("a"), []byte(`{"index":0,"count":1,"siblings":[]}`))
	f.Add(uint16(7), uint16(6), uint16(3), []byte("seed"), []byte(`{"index":6,"count":7,"siblings":[]}`))
	f.Add(uint16(64), uint16(33), uint16(9), []byte{0}, []byte(`{"index":-1,"count":9223372036854775807}`))
	f.Add(uint16(5), uint16(4), uint16(1), []byte{}, []byte(`{"index":4,"count":5,"siblings":["00"]}`))
	f.Fuzz(func(t *testing.T, n, i, flip uint16, seed, rawProof []byte) {
		n = n%300 + 1
		i %= n
		leaves := make([]fractal.Digest, n)
		for k := range leaves {
			leaves[k] = sha256.Sum256(append([]byte{byte(k), byte(k >> 8)}, seed...))
		}
		tree := fractal.NewMerkleTree(leaves)
		root := tree.Root()
		p, err := tree.Proof(int(i))
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Verify(root, leaves[i]); err != nil {
			t.Fatalf("honest proof of leaf %d of %d: %v", i, n, err)
		}
		b, _ := json.Marshal(p)
		var q fractal.MerkleProof
		if err := json.Unmarshal(b, &q); err != nil || q.Verify(root, leaves[i]) != nil {
			t.Fatalf("proof after a JSON round trip does not verify: %v", err)
		}
		mustMismatch := func(what string, p fractal.MerkleProof, item fractal.Digest) {
			t.Helper()
			if err := p.Verify(root, item); !errors.Is(err, fractal.ErrMismatch) {
				t.Fatalf("%s: got %v, want ErrMismatch", what, err)
			}
		}
		bad := leaves[i]
		bad[flip%32] ^= 1 << (flip % 8)
		mustMismatch("changed leaf", p, bad)
		if n > 1 {
			mustMismatch("another leaf", p, leaves[(int(i)+1)%int(n)])
			moved := p
			moved.Index = (p.Index + 1 + int(flip)%(int(n)-1)) % int(n)
			if moved.Index != p.Index && leaves[moved.Index] != leaves[p.Index] {
				mustMismatch("moved index", moved, leaves[i])
			}
		}
		if len(p.Siblings) > 0 {
			s := p
			s.Siblings = append([]fractal.Digest(nil), p.Siblings...)
			s.Siblings[int(flip)%len(s.Siblings)][flip%32] ^= 1
			mustMismatch("changed sibling", s, leaves[i])
			s.Siblings = s.Siblings[:len(s.Siblings)-1]
			mustMismatch("dropped sibling", s, leaves[i])
		}
		extra := p
		extra.Siblings = append(append([]fractal.Digest(nil), p.Siblings...), root)
		mustMismatch("extra sibling", extra, leaves[i])

		// Arbitrary proofs: never a panic, and every refusal is a mismatch.
		var arb fractal.MerkleProof
		if json.Unmarshal(rawProof, &arb) == nil {
			if err := arb.Verify(root, leaves[i]); err != nil && !errors.Is(err, fractal.ErrMismatch) {
				t.Fatalf("arbitrary proof: got %v, want nil or ErrMismatch", err)
			}
		}
	})
}
