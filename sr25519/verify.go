package sr25519

import (
	"bytes"
	"fmt"

	schnorrkel "github.com/ChainSafe/go-schnorrkel"
	r255 "github.com/gtank/ristretto255"

	"github.com/fractal-grid/fractal"
)

// verifyKey is a decoded public key kept by Verifier: its canonical bytes
// (what the transcript absorbs) and its negation (what the check
// multiplies), so neither is recomputed per signature.
type verifyKey struct {
	raw [32]byte
	neg *r255.Element
}

var (
	substrateContext = []byte("substrate")
	labelProto       = []byte("proto-name")
	protoSchnorr     = []byte("Schnorr-sig")
	labelPK          = []byte("sign:pk")
	labelR           = []byte("sign:R")
	labelChallenge   = []byte("sign:c")
)

func newVerifyKey(raw [32]byte, ss58 string) (*verifyKey, error) {
	pk := r255.NewElement()
	if err := pk.Decode(raw[:]); err != nil {
		return nil, fmt.Errorf("public key of %s: %v: %w", ss58, err, fractal.ErrInvalid)
	}
	if pk.Equal(r255.NewElement().Zero()) == 1 {
		return nil, fmt.Errorf("public key of %s is the identity: %w", ss58, fractal.ErrInvalid)
	}
	return &verifyKey{raw: raw, neg: r255.NewElement().Negate(pk)}, nil
}

// verify checks a schnorrkel signature (R ++ s, s marked with the top bit)
// over the "substrate" signing context, with the same outcome as
// go-schnorrkel's PublicKey.Verify: it computes R' = s·B − k·A and accepts
// when R' encodes to the signature's R bytes. Ristretto encodings are
// canonical, so this equals decoding R and comparing points, and it saves
// the two extra square roots (decoding R, re-encoding A) the library pays.
func (k *verifyKey) verify(msg []byte, sig *[64]byte) error {
	if sig[63]&128 == 0 {
		return schnorrkel.ErrSignatureNotMarkedSchnorrkel
	}
	var sBytes [32]byte
	copy(sBytes[:], sig[32:])
	sBytes[31] &= 127
	s := r255.NewScalar()
	if err := s.Decode(sBytes[:]); err != nil {
		return fmt.Errorf("signature scalar: %w", err)
	}
	t := schnorrkel.NewSigningContext(substrateContext, msg)
	t.AppendMessage(labelProto, protoSchnorr)
	t.AppendMessage(labelPK, k.raw[:])
	t.AppendMessage(labelR, sig[:32])
	c := r255.NewScalar().FromUniformBytes(t.ExtractBytes(labelChallenge, 64))
	r := r255.NewElement().VarTimeDoubleScalarBaseMult(c, k.neg, s)
	var enc [32]byte
	if !bytes.Equal(r.Encode(enc[:0]), sig[:32]) {
		return ErrBadSignature
	}
	return nil
}
