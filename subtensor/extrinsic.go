package subtensor

import (
	"fmt"

	"github.com/centrifuge/go-substrate-rpc-client/v4/types"
	"golang.org/x/crypto/blake2b"

	"github.com/fractal-grid/fractal"
)

// Transaction extensions whose data the client fills in; every other
// extension of the runtime gets its type's zero value (a zero tip, None,
// an empty struct), and must add nothing to the signed data.
const (
	extSpecVersion  = "CheckSpecVersion"
	extTxVersion    = "CheckTxVersion"
	extGenesis      = "CheckGenesis"
	extMortality    = "CheckMortality"
	extNonce        = "CheckNonce"
	extMetadataHash = "CheckMetadataHash"
)

// extrinsicVersion is the signed extrinsic format the client writes (v4).
const extrinsicVersion = 4

// Payload is the data of one signed extrinsic before signing.
type Payload struct {
	Call       []byte // pallet index, call index, arguments
	Extra      []byte // the signed extensions' extra data, in order
	Additional []byte // the signed extensions' additional signed data
}

// Bytes returns call ++ extra ++ additional.
func (p *Payload) Bytes() []byte {
	b := make([]byte, 0, len(p.Call)+len(p.Extra)+len(p.Additional))
	return append(append(append(b, p.Call...), p.Extra...), p.Additional...)
}

// SigningMessage returns what the signer signs: the payload, or its
// blake2b-256 hash when it is longer than 256 bytes.
func (p *Payload) SigningMessage() []byte {
	b := p.Bytes()
	if len(b) > 256 {
		h := blake2b.Sum256(b)
		return h[:]
	}
	return b
}

// NewPayload builds the payload of call for an immortal extrinsic with the
// given nonce and no tip, from the runtime's list of signed extensions.
func (rt *Runtime) NewPayload(call []byte, nonce uint64) (*Payload, error) {
	if v := rt.v14().Extrinsic.Version; v != extrinsicVersion {
		return nil, fmt.Errorf("runtime uses extrinsic version %d, only %d is supported", v, extrinsicVersion)
	}
	p := &Payload{Call: call}
	for _, ext := range rt.v14().Extrinsic.SignedExtensions {
		var err error
		switch id := string(ext.Identifier); id {
		case extSpecVersion:
			p.Additional = appendU32(p.Additional, rt.SpecVersion)
		case extTxVersion:
			p.Additional = appendU32(p.Additional, rt.TransactionVersion)
		case extGenesis:
			p.Additional = append(p.Additional, rt.Genesis[:]...)
		case extMortality:
			// Immortal era; its checkpoint is the genesis block.
			p.Extra = append(p.Extra, 0)
			p.Additional = append(p.Additional, rt.Genesis[:]...)
		case extNonce:
			p.Extra = appendCompact(p.Extra, nonce)
		case extMetadataHash:
			// Mode disabled, no metadata hash.
			p.Extra = append(p.Extra, 0)
			p.Additional = append(p.Additional, 0)
		default:
			if p.Extra, err = rt.appendZero(p.Extra, ext.Type, 0); err != nil {
				return nil, fmt.Errorf("signed extension %s: %w", id, err)
			}
			if !rt.zeroSized(ext.AdditionalSigned, 0) {
				return nil, fmt.Errorf("signed extension %s signs additional data this client does not know how to fill", id)
			}
		}
	}
	return p, nil
}

// Sign signs p with signer and returns the encoded extrinsic.
func (p *Payload) Sign(signer fractal.Signer) ([]byte, error) {
	sig, err := signer.Sign(p.SigningMessage())
	if err != nil {
		return nil, fmt.Errorf("sign extrinsic: %w", err)
	}
	if len(sig) != 64 {
		return nil, fmt.Errorf("sign extrinsic: signature is %d bytes, want 64", len(sig))
	}
	return p.Assemble(signer.PublicKey(), sig), nil
}

// Assemble encodes the signed extrinsic: length, version byte 0x84 (signed,
// v4), MultiAddress::Id(signer), MultiSignature::Sr25519(sig), extra, call.
func (p *Payload) Assemble(signer [32]byte, sig []byte) []byte {
	body := make([]byte, 0, 2+32+1+64+len(p.Extra)+len(p.Call))
	body = append(body, 0x80|extrinsicVersion, 0x00)
	body = append(body, signer[:]...)
	body = append(body, 0x01)
	body = append(body, sig...)
	body = append(append(body, p.Extra...), p.Call...)
	return append(appendCompact(nil, uint64(len(body))), body...)
}

// appendZero appends the zero value of a type: zero integers, false, empty
// sequences, the first variant (None, Immortal) with zero fields.
func (rt *Runtime) appendZero(b []byte, id types.Si1LookupTypeID, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("type %d nests too deeply", id.Int64())
	}
	t, err := rt.typ(id)
	if err != nil {
		return nil, err
	}
	d := &t.Def
	var fields []types.Si1LookupTypeID
	switch {
	case d.IsPrimitive:
		size := map[types.Si0TypeDefPrimitive]int{types.IsBool: 1, types.IsU8: 1, types.IsU16: 2, types.IsU32: 4,
			types.IsU64: 8, types.IsU128: 16, types.IsU256: 32, types.IsI8: 1, types.IsI16: 2, types.IsI32: 4,
			types.IsI64: 8, types.IsI128: 16, types.IsI256: 32, types.IsStr: 1}[d.Primitive.Si0TypeDefPrimitive]
		return append(b, make([]byte, size)...), nil
	case d.IsCompact, d.IsSequence, d.IsBitSequence:
		return append(b, 0), nil
	case d.IsComposite:
		for _, f := range d.Composite.Fields {
			fields = append(fields, f.Type)
		}
	case d.IsTuple:
		fields = d.Tuple
	case d.IsArray:
		for range d.Array.Len {
			fields = append(fields, d.Array.Type)
		}
	case d.IsVariant:
		if len(d.Variant.Variants) == 0 {
			return nil, fmt.Errorf("%s has no variants", typeName(t))
		}
		first := d.Variant.Variants[0]
		for _, v := range d.Variant.Variants {
			if v.Index < first.Index {
				first = v
			}
		}
		b = append(b, uint8(first.Index))
		for _, f := range first.Fields {
			fields = append(fields, f.Type)
		}
	default:
		return nil, fmt.Errorf("no zero value for %s", typeName(t))
	}
	for _, f := range fields {
		if b, err = rt.appendZero(b, f, depth+1); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// zeroSized reports whether a type encodes to no bytes at all.
func (rt *Runtime) zeroSized(id types.Si1LookupTypeID, depth int) bool {
	t, err := rt.typ(id)
	if err != nil || depth > maxDepth {
		return false
	}
	d := &t.Def
	switch {
	case d.IsComposite:
		for _, f := range d.Composite.Fields {
			if !rt.zeroSized(f.Type, depth+1) {
				return false
			}
		}
		return true
	case d.IsTuple:
		for _, e := range d.Tuple {
			if !rt.zeroSized(e, depth+1) {
				return false
			}
		}
		return true
	case d.IsArray:
		return d.Array.Len == 0 || rt.zeroSized(d.Array.Type, depth+1)
	}
	return false
}
