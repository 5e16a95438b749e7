package subtensor

import (
	"github.com/centrifuge/go-substrate-rpc-client/v4/types"
)

// decodeRegistry decodes the portable type registry (scale-info), which
// metadata V14 and V15 share.
func decodeRegistry(r *reader) []types.PortableTypeV14 {
	return decodeSeq(r, 5, func(r *reader) types.PortableTypeV14 {
		return types.PortableTypeV14{ID: typeID(r), Type: decodeType(r)}
	})
}

func decodeType(r *reader) types.Si1Type {
	var t types.Si1Type
	t.Path = texts(r)
	t.Params = decodeSeq(r, 2, func(r *reader) types.Si1TypeParameter {
		p := types.Si1TypeParameter{Name: types.Text(text(r))}
		if p.HasType = option(r); p.HasType {
			p.Type = typeID(r)
		}
		return p
	})
	t.Def = decodeTypeDef(r)
	t.Docs = texts(r)
	return t
}

func decodeTypeDef(r *reader) types.Si1TypeDef {
	var d types.Si1TypeDef
	switch enumTag(r, "type definition", 7) {
	case 0:
		d.IsComposite, d.Composite.Fields = true, decodeFields(r)
	case 1:
		d.IsVariant = true
		d.Variant.Variants = decodeSeq(r, 3, func(r *reader) types.Si1Variant {
			return types.Si1Variant{Name: types.Text(text(r)), Fields: decodeFields(r), Index: types.U8(r.u8()), Docs: texts(r)}
		})
	case 2:
		d.IsSequence, d.Sequence.Type = true, typeID(r)
	case 3:
		d.IsArray, d.Array.Len = true, types.U32(r.u32())
		d.Array.Type = typeID(r)
	case 4:
		d.IsTuple, d.Tuple = true, decodeSeq(r, 1, typeID)
	case 5:
		d.IsPrimitive = true
		d.Primitive.Si0TypeDefPrimitive = types.Si0TypeDefPrimitive(enumTag(r, "primitive", types.IsI256))
	case 6:
		d.IsCompact, d.Compact.Type = true, typeID(r)
	case 7:
		d.IsBitSequence = true
		d.BitSequence.BitStoreType, d.BitSequence.BitOrderType = typeID(r), typeID(r)
	}
	return d
}

func decodeFields(r *reader) []types.Si1Field {
	return decodeSeq(r, 3, func(r *reader) types.Si1Field {
		var f types.Si1Field
		if f.HasName = option(r); f.HasName {
			f.Name = types.Text(text(r))
		}
		f.Type = typeID(r)
		if f.HasTypeName = option(r); f.HasTypeName {
			f.TypeName = types.Text(text(r))
		}
		f.Docs = texts(r)
		return f
	})
}

// decodePallet decodes one pallet; V15 adds its docs at the end.
func decodePallet(r *reader, version uint8) types.PalletMetadataV14 {
	p := types.PalletMetadataV14{Name: types.Text(text(r))}
	if p.HasStorage = option(r); p.HasStorage {
		p.Storage.Prefix = types.Text(text(r))
		p.Storage.Items = decodeSeq(r, 5, decodeStorageEntry)
	}
	if p.HasCalls = option(r); p.HasCalls {
		p.Calls.Type = typeID(r)
	}
	if p.HasEvents = option(r); p.HasEvents {
		p.Events.Type = typeID(r)
	}
	p.Constants = decodeSeq(r, 4, func(r *reader) types.ConstantMetadataV14 {
		return types.ConstantMetadataV14{Name: types.Text(text(r)), Type: typeID(r), Value: r.bytes(r.length(1)), Docs: texts(r)}
	})
	if p.HasErrors = option(r); p.HasErrors {
		p.Errors.Type = typeID(r)
	}
	p.Index = types.U8(r.u8())
	if version >= 15 {
		texts(r)
	}
	return p
}

func decodeStorageEntry(r *reader) types.StorageEntryMetadataV14 {
	e := types.StorageEntryMetadataV14{Name: types.Text(text(r))}
	switch enumTag(r, "storage modifier", 1) {
	case 0:
		e.Modifier.IsOptional = true
	case 1:
		e.Modifier.IsDefault = true
	}
	if enumTag(r, "storage entry type", 1) == 0 {
		e.Type.IsPlainType, e.Type.AsPlainType = true, typeID(r)
	} else {
		e.Type.IsMap = true
		e.Type.AsMap.Hashers = decodeSeq(r, 1, decodeHasher)
		e.Type.AsMap.Key, e.Type.AsMap.Value = typeID(r), typeID(r)
	}
	e.Fallback = r.bytes(r.length(1))
	e.Documentation = texts(r)
	return e
}

func decodeHasher(r *reader) types.StorageHasherV10 {
	var h types.StorageHasherV10
	switch enumTag(r, "storage hasher", 6) {
	case 0:
		h.IsBlake2_128 = true
	case 1:
		h.IsBlake2_256 = true
	case 2:
		h.IsBlake2_128Concat = true
	case 3:
		h.IsTwox128 = true
	case 4:
		h.IsTwox256 = true
	case 5:
		h.IsTwox64Concat = true
	case 6:
		h.IsIdentity = true
	}
	return h
}

func decodeRuntimeAPI(r *reader) RuntimeAPI {
	a := RuntimeAPI{Name: text(r)}
	a.Methods = decodeSeq(r, 3, func(r *reader) RuntimeAPIMethod {
		m := RuntimeAPIMethod{Name: text(r)}
		m.Inputs = decodeSeq(r, 2, func(r *reader) RuntimeAPIParam {
			return RuntimeAPIParam{Name: text(r), Type: typeID(r)}
		})
		m.Output = typeID(r)
		texts(r)
		return m
	})
	texts(r)
	return a
}
