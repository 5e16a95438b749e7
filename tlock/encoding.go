package tlock

import (
	"encoding/binary"
	"fmt"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fp"
)

// Compressed point sizes and the flag bits of the first byte. ark-bls12-381
// 0.4 (the version the tle crate builds on) serializes BLS12-381 points in
// the zcash format, not arkworks' generic one (little-endian x with flags in
// the last byte): x big-endian, c1 before c0 in G2, and the three top bits
// of the first byte are
//
//	0x80 compressed, 0x40 point at infinity, 0x20 y is the larger of y and -y
//
// where "larger" compares c1 first, then c0. gnark-crypto's compressed
// encoding uses the same bits and the same order, so the two agree byte for
// byte; decodeG1/decodeG2 still check the flags themselves, because gnark
// also accepts uncompressed encodings, which an ark compressed reader
// rejects.
const (
	g1Size = bls.SizeOfG1AffineCompressed // 48
	g2Size = bls.SizeOfG2AffineCompressed // 96

	flagCompressed byte = 0x80
	flagInfinity   byte = 0x40
	flagLargest    byte = 0x20
	flagMask            = flagCompressed | flagInfinity | flagLargest
)

// checkFlags validates the flag bits of a compressed point encoding.
func checkFlags(b []byte, size int) error {
	if len(b) != size {
		return fmt.Errorf("point is %d bytes, want %d: %w", len(b), size, ErrMalformed)
	}
	f := b[0] & flagMask
	switch {
	case f&flagCompressed == 0:
		return fmt.Errorf("point is not compressed (flags %#02x): %w", f, ErrMalformed)
	case f&flagInfinity != 0 && f&flagLargest != 0:
		return fmt.Errorf("infinity with the sort flag (flags %#02x): %w", f, ErrMalformed)
	}
	return nil
}

func decodeG1(b []byte) (g1, error) {
	var p g1
	if err := checkFlags(b, g1Size); err != nil {
		return p, err
	}
	if _, err := p.SetBytes(b); err != nil {
		return p, fmt.Errorf("g1 point: %v: %w", err, ErrMalformed)
	}
	return p, nil
}

func decodeG2(b []byte) (g2, error) {
	var p g2
	if err := checkFlags(b, g2Size); err != nil {
		return p, err
	}
	if _, err := p.SetBytes(b); err != nil {
		return p, fmt.Errorf("g2 point: %v: %w", err, ErrMalformed)
	}
	return p, nil
}

// marshalGT writes a pairing value as arkworks serializes Fp12 (compressed
// and uncompressed alike): the twelve Fp coefficients in tower order
// c0.c0.c0, c0.c0.c1, c0.c1.c0, …, c1.c2.c1, each 48 bytes little-endian.
// Both libraries build Fp12 = Fp6[w]/(w²-v), Fp6 = Fp2[v]/(v³-(u+1)),
// Fp2 = Fp[u]/(u²+1), so the coefficients correspond one to one.
func marshalGT(gt *bls.GT) (out [12 * fp.Bytes]byte) {
	coeffs := [12]*fp.Element{
		&gt.C0.B0.A0, &gt.C0.B0.A1, &gt.C0.B1.A0, &gt.C0.B1.A1, &gt.C0.B2.A0, &gt.C0.B2.A1,
		&gt.C1.B0.A0, &gt.C1.B0.A1, &gt.C1.B1.A0, &gt.C1.B1.A1, &gt.C1.B2.A0, &gt.C1.B2.A1,
	}
	for i, c := range coeffs {
		be := c.Bytes()
		copy(out[i*fp.Bytes:], reversed(be[:]))
	}
	return out
}

// ciphertext is TLECiphertext<TinyBLS381> with its body (AESOutput) opened.
type ciphertext struct {
	header header
	body   []byte // AES-GCM ciphertext || tag
	nonce  []byte
	suite  []byte
}

func (c *ciphertext) marshal() []byte {
	var body []byte
	body = appendVec(body, c.body)
	body = appendVec(body, c.nonce)

	u := c.header.u.Bytes()
	out := make([]byte, 0, g2Size+3*8+2*keySize+len(body)+8+len(c.suite))
	out = append(out, u[:]...)
	out = appendVec(out, c.header.v[:])
	out = appendVec(out, c.header.w[:])
	out = appendVec(out, body)
	out = appendVec(out, c.suite)
	return out
}

// appendVec appends an ark-serialize Vec<u8>: a u64 little-endian length,
// then the bytes.
func appendVec(dst, b []byte) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, uint64(len(b)))
	return append(dst, b...)
}

// reader walks serialized bytes; every read checks the length left first,
// so hostile lengths never allocate or index past the input.
type reader struct {
	b   []byte
	off int
}

func (r *reader) take(n int, what string) ([]byte, error) {
	if n < 0 || n > len(r.b)-r.off {
		return nil, fmt.Errorf("%s at offset %d: need %d bytes, have %d: %w",
			what, r.off, n, len(r.b)-r.off, ErrMalformed)
	}
	out := r.b[r.off : r.off+n]
	r.off += n
	return out, nil
}

func (r *reader) vec(what string) ([]byte, error) {
	lb, err := r.take(8, what+" length")
	if err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint64(lb)
	if n > uint64(len(r.b)-r.off) {
		return nil, fmt.Errorf("%s at offset %d: length %d exceeds the %d bytes left: %w",
			what, r.off, n, len(r.b)-r.off, ErrMalformed)
	}
	return r.take(int(n), what)
}

func (r *reader) end(what string) error {
	if r.off != len(r.b) {
		return fmt.Errorf("%s: %d trailing bytes: %w", what, len(r.b)-r.off, ErrMalformed)
	}
	return nil
}

// fixedVec reads a Vec<u8> that must hold exactly n bytes.
func (r *reader) fixedVec(n int, what string) ([]byte, error) {
	b, err := r.vec(what)
	if err != nil {
		return nil, err
	}
	if len(b) != n {
		return nil, fmt.Errorf("%s is %d bytes, want %d: %w", what, len(b), n, ErrMalformed)
	}
	return b, nil
}

func unmarshalCiphertext(b []byte) (ciphertext, error) {
	var c ciphertext
	r := &reader{b: b}
	ub, err := r.take(g2Size, "U")
	if err != nil {
		return c, err
	}
	if c.header.u, err = decodeG2(ub); err != nil {
		return c, fmt.Errorf("U: %w", err)
	}
	v, err := r.fixedVec(keySize, "v")
	if err != nil {
		return c, err
	}
	w, err := r.fixedVec(keySize, "w")
	if err != nil {
		return c, err
	}
	copy(c.header.v[:], v)
	copy(c.header.w[:], w)
	body, err := r.vec("body")
	if err != nil {
		return c, err
	}
	if c.suite, err = r.vec("cipher suite"); err != nil {
		return c, err
	}
	if err := r.end("ciphertext"); err != nil {
		return c, err
	}
	if string(c.suite) != cipherSuite {
		return c, fmt.Errorf("cipher suite %q, want %q: %w", c.suite, cipherSuite, ErrMalformed)
	}
	br := &reader{b: body}
	if c.body, err = br.vec("aes ciphertext"); err != nil {
		return c, fmt.Errorf("body: %w", err)
	}
	if c.nonce, err = br.fixedVec(nonceSize, "aes nonce"); err != nil {
		return c, fmt.Errorf("body: %w", err)
	}
	if err := br.end("body"); err != nil {
		return c, err
	}
	if len(c.body) < 16 {
		return c, fmt.Errorf("body: aes ciphertext is %d bytes, shorter than its tag: %w", len(c.body), ErrMalformed)
	}
	return c, nil
}
