package fractal_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"

	"github.com/fractal-grid/fractal"
)

func items(n int) []fractal.Digest {
	out := make([]fractal.Digest, n)
	for i := range out {
		out[i] = sha256.Sum256([]byte(fmt.Sprint(i)))
	}
	return out
}

func TestMerkleProofs(t *testing.T) {
	for _, n := range []int{1, 2, 3, 5, 8, 17, 21} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			its := items(n)
			tree := fractal.NewMerkleTree(its)
			root := tree.Root()
			if root != fractal.MerkleRoot(its) {
				t.Fatal("MerkleRoot differs from tree root")
			}
			for i := range its {
				p, err := tree.Proof(i)
				if err != nil {
					t.Fatal(err)
				}
				if err := p.Verify(root, its[i]); err != nil {
					t.Errorf("leaf %d: valid proof refused: %v", i, err)
				}
				// Wrong item, wrong index and tampered siblings must fail.
				if err := p.Verify(root, its[(i+1)%n]); n > 1 && !errors.Is(err, fractal.ErrMismatch) {
					t.Errorf("leaf %d: wrong item: got %v, want ErrMismatch", i, err)
				}
				if len(p.Siblings) > 0 {
					bad := p
					bad.Siblings = append([]fractal.Digest(nil), p.Siblings...)
					bad.Siblings[0][0] ^= 1
					if err := bad.Verify(root, its[i]); !errors.Is(err, fractal.ErrMismatch) {
						t.Errorf("leaf %d: tampered sibling: got %v, want ErrMismatch", i, err)
					}
					short := p
					short.Siblings = p.Siblings[1:]
					if err := short.Verify(root, its[i]); !errors.Is(err, fractal.ErrMismatch) {
						t.Errorf("leaf %d: missing sibling: got %v, want ErrMismatch", i, err)
					}
				}
				moved := p
				moved.Index = (i + 1) % n
				if err := moved.Verify(root, its[i]); n > 1 && !errors.Is(err, fractal.ErrMismatch) {
					t.Errorf("leaf %d: moved index: got %v, want ErrMismatch", i, err)
				}
			}
			if _, err := tree.Proof(n); !errors.Is(err, fractal.ErrInvalid) {
				t.Errorf("proof past the end: got %v, want ErrInvalid", err)
			}
		})
	}
}

func TestMerkleLeafIsNotNode(t *testing.T) {
	// A two-leaf root must not verify as a single leaf of a one-leaf tree.
	its := items(2)
	root := fractal.MerkleRoot(its)
	p := fractal.MerkleProof{Index: 0, Count: 1}
	if err := p.Verify(root, root); !errors.Is(err, fractal.ErrMismatch) {
		t.Errorf("got %v, want ErrMismatch", err)
	}
}
