package fractal

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
)

// Frames is the canonical, verifiable form of a video: uint8 RGB with shape
// (Count, Height, Width, 3), rows top to bottom, pixels left to right. Encoded
// files (MP4, WebM, GIF) are for people; only Frames are hashed.
type Frames struct {
	Count  int    `json:"frames"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	FPS    int    `json:"fps"`
	Pix    []byte `json:"-"`
}

// NewFrames allocates black frames of the given shape.
func NewFrames(count, width, height, fps int) *Frames {
	return &Frames{Count: count, Width: width, Height: height, FPS: fps, Pix: make([]byte, count*width*height*3)}
}

// FrameSize returns the bytes of one frame.
func (f *Frames) FrameSize() int { return f.Width * f.Height * 3 }

// Frame returns the bytes of frame i (shared with f).
func (f *Frames) Frame(i int) []byte {
	n := f.FrameSize()
	return f.Pix[i*n : (i+1)*n : (i+1)*n]
}

// Validate checks that the shape is within Spec limits and Pix has exactly
// the bytes the shape needs.
func (f *Frames) Validate() error {
	switch {
	case f.Count < MinFrames || f.Count > MaxFrames:
		return Errorf("frames", "must be between %d and %d, got %d", MinFrames, MaxFrames, f.Count)
	case f.Width < 1 || f.Width > MaxSide || f.Height < 1 || f.Height > MaxSide:
		return Errorf("size", "must be at most %d×%d, got %d×%d", MaxSide, MaxSide, f.Width, f.Height)
	case f.FPS < MinFPS || f.FPS > MaxFPS:
		return Errorf("fps", "must be between %d and %d, got %d", MinFPS, MaxFPS, f.FPS)
	case len(f.Pix) != f.Count*f.FrameSize():
		return Errorf("pixels", "shape %dx%dx%dx3 needs %d bytes, got %d", f.Count, f.Height, f.Width, f.Count*f.FrameSize(), len(f.Pix))
	}
	return nil
}

// header is the small prefix hashed before the pixels: the shape and fps.
func (f *Frames) header() []byte {
	b := make([]byte, 0, 32)
	b = append(b, "fractal/frames/v1"...)
	for _, v := range []int{f.Count, f.Height, f.Width, 3, f.FPS} {
		b = binary.BigEndian.AppendUint32(b, uint32(v))
	}
	return b
}

// Digest returns SHA-256 over the header (shape, fps) and all pixel bytes.
func (f *Frames) Digest() Digest {
	h := f.DigestHash()
	h.Write(f.Pix)
	var d Digest
	h.Sum(d[:0])
	return d
}

// DigestHash returns the hash behind Digest with f's header already
// written: fed the pixel bytes in order, in pieces of any size, it sums to
// f.Digest(). Readers use it to hash frames as they arrive.
func (f *Frames) DigestHash() hash.Hash {
	h := sha256.New()
	h.Write(f.header())
	return h
}

// FrameDigest returns the hash of frame i: SHA-256 over the header, the frame
// index and the frame's bytes.
func (f *Frames) FrameDigest(i int) Digest {
	return FrameDigest(f.header(), i, f.Frame(i))
}

// FrameDigest hashes one frame's bytes under a frames header and index.
func FrameDigest(header []byte, i int, pix []byte) Digest {
	h := sha256.New()
	h.Write(header)
	h.Write(binary.BigEndian.AppendUint32(nil, uint32(i)))
	h.Write(pix)
	var d Digest
	h.Sum(d[:0])
	return d
}

// FrameDigests returns the per-frame hashes, in order.
func (f *Frames) FrameDigests() []Digest {
	out := make([]Digest, f.Count)
	hdr := f.header()
	for i := range out {
		out[i] = FrameDigest(hdr, i, f.Frame(i))
	}
	return out
}

// FrameTree returns the Merkle tree over the per-frame hashes.
func (f *Frames) FrameTree() *MerkleTree { return NewMerkleTree(f.FrameDigests()) }

// VerifyFrame checks that pix is frame i of a video with the given shape and
// frames root, using proof.
func VerifyFrame(shape Frames, root Digest, i int, pix []byte, proof MerkleProof) error {
	if len(pix) != shape.FrameSize() {
		return fmt.Errorf("frame %d: %d bytes, want %d: %w", i, len(pix), shape.FrameSize(), ErrMismatch)
	}
	if proof.Index != i || proof.Count != shape.Count {
		return fmt.Errorf("frame %d: proof is for leaf %d of %d: %w", i, proof.Index, proof.Count, ErrMismatch)
	}
	return proof.Verify(root, FrameDigest(shape.header(), i, pix))
}
