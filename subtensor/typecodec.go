package subtensor

import (
	"encoding/binary"
	"fmt"

	"github.com/centrifuge/go-substrate-rpc-client/v4/types"
)

// Raw is an already SCALE-encoded value, appended as-is whatever the
// declared type (an inner call of sudo, for instance).
type Raw []byte

// Variant is a decoded enum value.
type Variant struct {
	Name   string
	Index  uint8
	Fields []any
}

// maxDepth bounds recursion through the type registry.
const maxDepth = 64

// encodeValue appends v encoded as registry type id. It accepts Go integers,
// bool, [32]byte, []byte, []uint16, [16]byte (a little-endian u128), []any
// for tuples and multi-field structs, and Raw. Single-field structs (such as
// AccountId32 or NetUid newtypes) take their field's value.
func (rt *Runtime) encodeValue(b []byte, id types.Si1LookupTypeID, v any, depth int) ([]byte, error) {
	if raw, ok := v.(Raw); ok {
		return append(b, raw...), nil
	}
	if depth > maxDepth {
		return nil, fmt.Errorf("type %d nests too deeply", id.Int64())
	}
	t, err := rt.typ(id)
	if err != nil {
		return nil, err
	}
	d := &t.Def
	switch {
	case d.IsPrimitive:
		return encodePrimitive(b, d.Primitive.Si0TypeDefPrimitive, v)
	case d.IsCompact:
		u, ok := toUint64(v)
		if !ok {
			return nil, fmt.Errorf("compact wants an unsigned integer, got %T", v)
		}
		return appendCompact(b, u), nil
	case d.IsComposite && len(d.Composite.Fields) == 1:
		return rt.encodeValue(b, d.Composite.Fields[0].Type, v, depth+1)
	case d.IsComposite:
		ids := make([]types.Si1LookupTypeID, len(d.Composite.Fields))
		for i, f := range d.Composite.Fields {
			ids[i] = f.Type
		}
		return rt.encodeTuple(b, ids, v, depth)
	case d.IsTuple:
		return rt.encodeTuple(b, d.Tuple, v, depth)
	case d.IsArray:
		if p, ok := bytesOf(v); ok && rt.isU8(d.Array.Type) {
			if len(p) != int(d.Array.Len) {
				return nil, fmt.Errorf("array wants %d bytes, got %d", d.Array.Len, len(p))
			}
			return append(b, p...), nil
		}
	case d.IsSequence:
		if p, ok := bytesOf(v); ok && rt.isU8(d.Sequence.Type) {
			return append(appendCompact(b, uint64(len(p))), p...), nil
		}
		if s, ok := v.([]uint16); ok {
			b = appendCompact(b, uint64(len(s)))
			for _, e := range s {
				if b, err = rt.encodeValue(b, d.Sequence.Type, e, depth+1); err != nil {
					return nil, err
				}
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("cannot encode %T as %s", v, typeName(t))
}

func (rt *Runtime) encodeTuple(b []byte, ids []types.Si1LookupTypeID, v any, depth int) ([]byte, error) {
	vs, ok := v.([]any)
	if !ok && len(ids) == 0 {
		return b, nil
	}
	if len(vs) != len(ids) {
		return nil, fmt.Errorf("tuple of %d values wants %d", len(vs), len(ids))
	}
	var err error
	for i, id := range ids {
		if b, err = rt.encodeValue(b, id, vs[i], depth+1); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func (rt *Runtime) isU8(id types.Si1LookupTypeID) bool {
	t, err := rt.typ(id)
	return err == nil && t.Def.IsPrimitive && t.Def.Primitive.Si0TypeDefPrimitive == types.IsU8
}

func bytesOf(v any) ([]byte, bool) {
	switch p := v.(type) {
	case []byte:
		return p, true
	case [32]byte:
		return p[:], true
	}
	return nil, false
}

func toUint64(v any) (uint64, bool) {
	switch x := v.(type) {
	case uint8:
		return uint64(x), true
	case uint16:
		return uint64(x), true
	case uint32:
		return uint64(x), true
	case uint64:
		return x, true
	case int:
		return uint64(x), x >= 0
	}
	return 0, false
}

func encodePrimitive(b []byte, p types.Si0TypeDefPrimitive, v any) ([]byte, error) {
	if p == types.IsBool {
		x, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("bool wants a bool, got %T", v)
		}
		return appendBool(b, x), nil
	}
	if p == types.IsU128 {
		if x, ok := v.([16]byte); ok {
			return append(b, x[:]...), nil
		}
	}
	size := map[types.Si0TypeDefPrimitive]int{types.IsU8: 1, types.IsU16: 2, types.IsU32: 4, types.IsU64: 8, types.IsU128: 16}[p]
	u, ok := toUint64(v)
	if size == 0 || !ok {
		return nil, fmt.Errorf("cannot encode %T as primitive %d", v, p)
	}
	if size < 8 && u>>(8*size) != 0 {
		return nil, fmt.Errorf("%d overflows a %d-byte integer", u, size)
	}
	var buf [16]byte
	binary.LittleEndian.PutUint64(buf[:8], u)
	return append(b, buf[:size]...), nil
}

func typeName(t *types.Si1Type) string {
	if len(t.Path) > 0 {
		return string(t.Path[len(t.Path)-1])
	}
	d := &t.Def
	switch {
	case d.IsPrimitive:
		return fmt.Sprintf("primitive %d", d.Primitive.Si0TypeDefPrimitive)
	case d.IsSequence:
		return "sequence"
	case d.IsArray:
		return fmt.Sprintf("array of %d", d.Array.Len)
	case d.IsTuple:
		return "tuple"
	case d.IsCompact:
		return "compact"
	}
	return "type"
}

// decodeValue decodes registry type id from r into plain Go values: uint64
// for integers up to 64 bits, []byte for wider integers and byte arrays or
// sequences, bool, string, []any for structs, tuples and sequences, and
// Variant for enums.
func (rt *Runtime) decodeValue(r *reader, id types.Si1LookupTypeID, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("type %d nests too deeply", id.Int64())
	}
	t, err := rt.typ(id)
	if err != nil {
		return nil, err
	}
	d := &t.Def
	switch {
	case d.IsPrimitive:
		return decodePrimitive(r, d.Primitive.Si0TypeDefPrimitive)
	case d.IsCompact:
		return rt.decodeCompact(r)
	case d.IsComposite:
		return rt.decodeFields(r, d.Composite.Fields, depth)
	case d.IsVariant:
		idx := r.u8()
		for _, v := range d.Variant.Variants {
			if uint8(v.Index) == idx && r.err == nil {
				fields, err := rt.decodeFields(r, v.Fields, depth)
				return Variant{Name: string(v.Name), Index: idx, Fields: fields}, err
			}
		}
		return nil, fmt.Errorf("%s has no variant %d", typeName(t), idx)
	case d.IsSequence:
		return rt.decodeSeq(r, d.Sequence.Type, -1, depth)
	case d.IsArray:
		return rt.decodeSeq(r, d.Array.Type, int(d.Array.Len), depth)
	case d.IsTuple:
		out := make([]any, len(d.Tuple))
		for i, e := range d.Tuple {
			if out[i], err = rt.decodeValue(r, e, depth+1); err != nil {
				return nil, err
			}
		}
		return out, nil
	case d.IsBitSequence:
		return rt.decodeBits(r, d.BitSequence.BitStoreType)
	}
	return nil, fmt.Errorf("cannot decode %s", typeName(t))
}

func (rt *Runtime) decodeFields(r *reader, fields []types.Si1Field, depth int) ([]any, error) {
	out := make([]any, len(fields))
	for i, f := range fields {
		v, err := rt.decodeValue(r, f.Type, depth+1)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, r.err
}

func (rt *Runtime) decodeCompact(r *reader) (any, error) {
	if r.err != nil || r.remaining() == 0 {
		r.fail(errShort)
		return nil, r.err
	}
	if r.b[r.off]&3 != 3 {
		return r.compact(), r.err
	}
	n := int(r.u8()>>2) + 4
	p := r.bytes(n)
	if n <= 8 && p != nil {
		var buf [8]byte
		copy(buf[:], p)
		return binary.LittleEndian.Uint64(buf[:]), nil
	}
	return p, r.err
}

func (rt *Runtime) decodeSeq(r *reader, elem types.Si1LookupTypeID, n, depth int) (any, error) {
	if n < 0 {
		minSize := 1
		if rt.zeroSized(elem, depth) {
			minSize = 0
		}
		n = r.length(minSize)
	}
	if rt.isU8(elem) {
		return r.bytes(n), r.err
	}
	if r.err != nil {
		return nil, r.err
	}
	if n > r.remaining() {
		return nil, fmt.Errorf("sequence of %d cannot fit in %d bytes", n, r.remaining())
	}
	out := make([]any, n)
	for i := range out {
		v, err := rt.decodeValue(r, elem, depth+1)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (rt *Runtime) decodeBits(r *reader, store types.Si1LookupTypeID) (any, error) {
	bitsN := r.compact()
	t, err := rt.typ(store)
	if err != nil {
		return nil, err
	}
	size := map[types.Si0TypeDefPrimitive]int{types.IsU8: 1, types.IsU16: 2, types.IsU32: 4, types.IsU64: 8}[t.Def.Primitive.Si0TypeDefPrimitive]
	if size == 0 {
		return nil, fmt.Errorf("bit sequence store is not an unsigned integer")
	}
	words := (bitsN + uint64(8*size) - 1) / uint64(8*size)
	if r.err != nil || words > uint64(r.remaining()/size) {
		return nil, fmt.Errorf("bit sequence of %d bits cannot fit in %d bytes", bitsN, r.remaining())
	}
	return r.bytes(int(words) * size), r.err
}

func decodePrimitive(r *reader, p types.Si0TypeDefPrimitive) (any, error) {
	switch p {
	case types.IsBool:
		return r.bool(), r.err
	case types.IsStr:
		return string(r.bytes(r.length(1))), r.err
	case types.IsU8, types.IsI8:
		return uint64(r.u8()), r.err
	case types.IsU16, types.IsI16:
		return uint64(r.u16()), r.err
	case types.IsU32, types.IsI32, types.IsChar:
		return uint64(r.u32()), r.err
	case types.IsU64, types.IsI64:
		return r.u64(), r.err
	case types.IsU128, types.IsI128:
		return r.bytes(16), r.err
	case types.IsU256, types.IsI256:
		return r.bytes(32), r.err
	}
	return nil, fmt.Errorf("unknown primitive %d", p)
}

// encodeCall encodes pallet.name with args given by argument name.
func (rt *Runtime) encodeCall(pallet, name string, args map[string]any) ([]byte, error) {
	idx, fields, err := rt.call(pallet, name)
	if err != nil {
		return nil, err
	}
	if len(fields) != len(args) {
		return nil, fmt.Errorf("call %s.%s takes %d arguments (%s), got %d", pallet, name, len(fields), fieldNames(fields), len(args))
	}
	b := []byte{idx.SectionIndex, idx.MethodIndex}
	for _, f := range fields {
		v, ok := args[string(f.Name)]
		if !ok {
			return nil, fmt.Errorf("call %s.%s: argument %s missing (it takes %s)", pallet, name, f.Name, fieldNames(fields))
		}
		if b, err = rt.encodeValue(b, f.Type, v, 0); err != nil {
			return nil, fmt.Errorf("call %s.%s: argument %s: %w", pallet, name, f.Name, err)
		}
	}
	return b, nil
}

func fieldNames(fields []types.Si1Field) string {
	s := ""
	for i, f := range fields {
		if i > 0 {
			s += ", "
		}
		s += string(f.Name)
	}
	return s
}
