package subtensor

import (
	"fmt"

	"github.com/centrifuge/go-substrate-rpc-client/v4/types"
)

// metadataMagic is "meta", the first four bytes of prefixed metadata.
const metadataMagic = 0x6174656d

// MetadataV15 is what metadata V15 adds to V14: the runtime APIs with the
// types of their inputs and results, the outer enums, custom data, and the
// extrinsic's parts as types. Pallet docs (also new in V15) are not kept.
type MetadataV15 struct {
	Extrinsic  ExtrinsicTypes
	APIs       []RuntimeAPI
	OuterEnums OuterEnums
	Custom     map[string]CustomValue
}

// ExtrinsicTypes are the registry types of an extrinsic's parts.
type ExtrinsicTypes struct {
	Address, Call, Signature, Extra types.Si1LookupTypeID
}

// RuntimeAPI is one runtime API trait, such as NeuronInfoRuntimeApi.
type RuntimeAPI struct {
	Name    string
	Methods []RuntimeAPIMethod
}

// RuntimeAPIMethod is one method of a runtime API; state_call names it
// Trait_method.
type RuntimeAPIMethod struct {
	Name   string
	Inputs []RuntimeAPIParam
	Output types.Si1LookupTypeID
}

// RuntimeAPIParam is one named input of a runtime API method.
type RuntimeAPIParam struct {
	Name string
	Type types.Si1LookupTypeID
}

// OuterEnums are the runtime's call, event and error enums.
type OuterEnums struct {
	Call, Event, Error types.Si1LookupTypeID
}

// CustomValue is one entry of V15's custom metadata: a value of a registry
// type, SCALE-encoded.
type CustomValue struct {
	Type  types.Si1LookupTypeID
	Value []byte
}

// ParseMetadata decodes prefixed metadata V14 or V15 (state_getMetadata, or
// the OpaqueMetadata of Metadata_metadata_at_version). Both come back in V14's
// shape, which everything that encodes calls and storage keys reads; V15's
// additions come back too, nil for V14.
func ParseMetadata(b []byte) (*types.Metadata, *MetadataV15, error) {
	r := newReader(b)
	if magic := r.u32(); r.err == nil && magic != metadataMagic {
		return nil, nil, fmt.Errorf("decode metadata: magic %#x is not \"meta\"", magic)
	}
	version := r.u8()
	if r.err != nil {
		return nil, nil, fmt.Errorf("decode metadata: %w", r.err)
	}
	if version != 14 && version != 15 {
		return nil, nil, fmt.Errorf("metadata version %d is not supported (want 14 or 15)", version)
	}
	m := &types.Metadata{MagicNumber: metadataMagic, Version: 14}
	v14 := &m.AsMetadataV14
	v14.Lookup.Types = decodeRegistry(r)
	v14.Pallets = decodeSeq(r, 4, func(r *reader) types.PalletMetadataV14 { return decodePallet(r, version) })
	var extra *MetadataV15
	if version == 14 {
		v14.Extrinsic.Type = typeID(r)
		v14.Extrinsic.Version = types.U8(r.u8())
	} else {
		extra = &MetadataV15{}
		v14.Extrinsic.Version = types.U8(r.u8())
		e := &extra.Extrinsic
		e.Address, e.Call, e.Signature, e.Extra = typeID(r), typeID(r), typeID(r), typeID(r)
	}
	v14.Extrinsic.SignedExtensions = decodeSeq(r, 3, func(r *reader) types.SignedExtensionMetadataV14 {
		return types.SignedExtensionMetadataV14{Identifier: types.Text(text(r)), Type: typeID(r), AdditionalSigned: typeID(r)}
	})
	v14.Type = typeID(r)
	if extra != nil {
		extra.APIs = decodeSeq(r, 2, decodeRuntimeAPI)
		o := &extra.OuterEnums
		o.Call, o.Event, o.Error = typeID(r), typeID(r), typeID(r)
		extra.Custom = map[string]CustomValue{}
		for range r.length(3) {
			k := text(r)
			extra.Custom[k] = CustomValue{Type: typeID(r), Value: r.bytes(r.length(1))}
		}
	}
	if r.err != nil {
		return nil, nil, fmt.Errorf("decode metadata V%d: %w", version, r.err)
	}
	if r.remaining() != 0 {
		return nil, nil, fmt.Errorf("decode metadata V%d: %d trailing bytes", version, r.remaining())
	}
	v14.EfficientLookup = make(map[int64]*types.Si1Type, len(v14.Lookup.Types))
	for i := range v14.Lookup.Types {
		t := &v14.Lookup.Types[i]
		v14.EfficientLookup[t.ID.Int64()] = &t.Type
	}
	return m, extra, nil
}

// decodeSeq decodes a SCALE vector whose elements take at least minSize
// bytes each.
func decodeSeq[T any](r *reader, minSize int, f func(*reader) T) []T {
	n := r.length(minSize)
	if n == 0 || r.err != nil {
		return nil
	}
	out := make([]T, n)
	for i := range out {
		out[i] = f(r)
		if r.err != nil {
			return nil
		}
	}
	return out
}

func text(r *reader) string { return string(r.bytes(r.length(1))) }

func texts(r *reader) []types.Text {
	return decodeSeq(r, 1, func(r *reader) types.Text { return types.Text(text(r)) })
}

// typeID decodes a registry type id, a compact u32.
func typeID(r *reader) types.Si1LookupTypeID {
	v := r.compact()
	if v > 1<<32-1 {
		r.fail(fmt.Errorf("type id %d overflows a u32", v))
	}
	return types.NewSi1LookupTypeIDFromUInt(v)
}

// option decodes an Option's tag: true for Some.
func option(r *reader) bool {
	switch tag := r.u8(); tag {
	case 0, 1:
		return tag == 1
	default:
		r.fail(fmt.Errorf("option tag %d", tag))
		return false
	}
}

// enumTag decodes an enum's variant index, failing on one past last.
func enumTag(r *reader, what string, last uint8) uint8 {
	tag := r.u8()
	if tag > last {
		r.fail(fmt.Errorf("%s has no variant %d", what, tag))
	}
	return tag
}
