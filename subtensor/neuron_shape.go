package subtensor

import (
	"fmt"

	"github.com/centrifuge/go-substrate-rpc-client/v4/types"
)

// decodeNeuronsLite decodes a get_neurons_lite result in the shape the
// runtime's metadata V15 gives its output: a Vec<u8> wrapping the encoded
// neurons (spec 218, whose metadata does not describe them) or a typed
// vector of records, read field by field by name. Without V15 the shape is
// told from the bytes (DecodeNeuronsLite).
func (rt *Runtime) decodeNeuronsLite(b []byte) ([]NeuronInfoLite, error) {
	m, err := rt.runtimeAPI(neuronAPI, neuronsLite)
	if err != nil || m == nil {
		if err != nil {
			return nil, err
		}
		return DecodeNeuronsLite(b)
	}
	t, err := rt.typ(m.Output)
	if err != nil {
		return nil, err
	}
	if !t.Def.IsSequence {
		return nil, fmt.Errorf("neurons_lite: the runtime returns %s, not a vector", typeName(t))
	}
	if rt.isU8(t.Def.Sequence.Type) {
		r := newReader(b)
		inner := r.bytes(r.length(1))
		if r.err == nil && r.remaining() != 0 {
			r.fail(fmt.Errorf("%d trailing bytes", r.remaining()))
		}
		if r.err != nil {
			return nil, fmt.Errorf("neurons_lite: opaque result: %w", r.err)
		}
		return decodeNeuronsLiteTyped(inner)
	}
	r := newReader(b)
	v, err := rt.decodeValue(r, m.Output, 0)
	if err == nil && r.remaining() != 0 {
		err = fmt.Errorf("%d trailing bytes", r.remaining())
	}
	if err != nil {
		return nil, fmt.Errorf("neurons_lite: %w", err)
	}
	vs, _ := v.([]any)
	out := make([]NeuronInfoLite, len(vs))
	for i := range vs {
		d := &recordReader{rt: rt}
		out[i] = d.neuron(t.Def.Sequence.Type, vs[i])
		if d.err != nil {
			return nil, fmt.Errorf("neurons_lite: neuron %d: %w", i, d.err)
		}
	}
	return out, nil
}

// recordReader reads values decoded by decodeValue by their registry types'
// field names. The first error sticks.
type recordReader struct {
	rt  *Runtime
	err error
}

func (d *recordReader) neuron(id types.Si1LookupTypeID, v any) NeuronInfoLite {
	f := func(name string) (types.Si1LookupTypeID, any) { return d.field(id, v, name) }
	n := NeuronInfoLite{
		Hotkey: d.account(f("hotkey")), Coldkey: d.account(f("coldkey")),
		UID: uint16(d.uint(f("uid"))), NetUID: uint16(d.uint(f("netuid"))), Active: d.bool(f("active")),
		Rank: uint16(d.uint(f("rank"))), Emission: d.uint(f("emission")), Incentive: uint16(d.uint(f("incentive"))),
		Consensus: uint16(d.uint(f("consensus"))), Trust: uint16(d.uint(f("trust"))),
		ValidatorTrust: uint16(d.uint(f("validator_trust"))), Dividends: uint16(d.uint(f("dividends"))),
		LastUpdate: d.uint(f("last_update")), ValidatorPermit: d.bool(f("validator_permit")),
		PruningScore: uint16(d.uint(f("pruning_score"))),
	}
	aid, av := f("axon_info")
	a := func(name string) (types.Si1LookupTypeID, any) { return d.field(aid, av, name) }
	n.Axon = AxonInfo{Block: d.uint(a("block")), Version: uint32(d.uint(a("version"))), IP: d.u128(a("ip")),
		Port: uint16(d.uint(a("port"))), IPType: uint8(d.uint(a("ip_type"))), Protocol: uint8(d.uint(a("protocol"))),
		Placeholder1: uint8(d.uint(a("placeholder1"))), Placeholder2: uint8(d.uint(a("placeholder2")))}
	pid, pv := f("prometheus_info")
	p := func(name string) (types.Si1LookupTypeID, any) { return d.field(pid, pv, name) }
	n.Prometheus = PrometheusInfo{Block: d.uint(p("block")), Version: uint32(d.uint(p("version"))), IP: d.u128(p("ip")),
		Port: uint16(d.uint(p("port"))), IPType: uint8(d.uint(p("ip_type")))}
	n.Stake = d.stake(f("stake"))
	return n
}

// field returns the value and type of field name of the composite v of
// type id.
func (d *recordReader) field(id types.Si1LookupTypeID, v any, name string) (types.Si1LookupTypeID, any) {
	if d.err != nil {
		return id, nil
	}
	t, err := d.rt.typ(id)
	if err != nil {
		d.err = err
		return id, nil
	}
	vs, ok := v.([]any)
	if !t.Def.IsComposite || !ok || len(vs) != len(t.Def.Composite.Fields) {
		d.err = fmt.Errorf("%s is not a record", typeName(t))
		return id, nil
	}
	for i, f := range t.Def.Composite.Fields {
		if string(f.Name) == name {
			return f.Type, vs[i]
		}
	}
	d.err = fmt.Errorf("%s has no field %s", typeName(t), name)
	return id, nil
}

// inner unwraps newtypes (single-field records) down to the value inside.
func (d *recordReader) inner(id types.Si1LookupTypeID, v any) any {
	for depth := 0; d.err == nil && depth < maxDepth; depth++ {
		t, err := d.rt.typ(id)
		if err != nil {
			d.err = err
			return nil
		}
		vs, ok := v.([]any)
		if !t.Def.IsComposite || len(t.Def.Composite.Fields) != 1 || !ok || len(vs) != 1 {
			return v
		}
		id, v = t.Def.Composite.Fields[0].Type, vs[0]
	}
	return v
}

func (d *recordReader) uint(id types.Si1LookupTypeID, v any) uint64 {
	x, ok := d.inner(id, v).(uint64)
	if !ok && d.err == nil {
		d.err = fmt.Errorf("type %d is not an unsigned integer of up to 64 bits", id.Int64())
	}
	return x
}

func (d *recordReader) bool(id types.Si1LookupTypeID, v any) bool {
	x, ok := d.inner(id, v).(bool)
	if !ok && d.err == nil {
		d.err = fmt.Errorf("type %d is not a bool", id.Int64())
	}
	return x
}

func (d *recordReader) bytesN(id types.Si1LookupTypeID, v any, n int) []byte {
	x, ok := d.inner(id, v).([]byte)
	if (!ok || len(x) != n) && d.err == nil {
		d.err = fmt.Errorf("type %d is not %d bytes", id.Int64(), n)
	}
	return x
}

func (d *recordReader) account(id types.Si1LookupTypeID, v any) (a [32]byte) {
	copy(a[:], d.bytesN(id, v, 32))
	return a
}

func (d *recordReader) u128(id types.Si1LookupTypeID, v any) (x [16]byte) {
	copy(x[:], d.bytesN(id, v, 16))
	return x
}

// stake reads a Vec<(AccountId, Compact<u64>)>.
func (d *recordReader) stake(id types.Si1LookupTypeID, v any) []StakeEntry {
	t, err := d.rt.typ(id)
	if d.err != nil || err != nil || !t.Def.IsSequence {
		if d.err == nil {
			d.err = fmt.Errorf("stake of type %d is not a vector", id.Int64())
		}
		return nil
	}
	et, err := d.rt.typ(t.Def.Sequence.Type)
	if err != nil || !et.Def.IsTuple || len(et.Def.Tuple) != 2 {
		d.err = fmt.Errorf("stake entries of type %d are not pairs", t.Def.Sequence.Type.Int64())
		return nil
	}
	vs, _ := v.([]any)
	var out []StakeEntry
	for _, e := range vs {
		pair, _ := e.([]any)
		if len(pair) != 2 {
			d.err = fmt.Errorf("stake entry is not a pair")
			return nil
		}
		out = append(out, StakeEntry{Coldkey: d.account(et.Def.Tuple[0], pair[0]), Amount: d.uint(et.Def.Tuple[1], pair[1])})
	}
	return out
}
