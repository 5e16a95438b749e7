package subtensor

import (
	"fmt"
)

// Event is one record of System.Events.
type Event struct {
	Extrinsic int // index of the extrinsic that emitted it; -1 for block initialisation and finalisation
	Pallet    string
	Name      string
	Fields    []any // decoded as decodeValue does
}

// DecodeEvents decodes the value of System.Events with the metadata's types.
func (rt *Runtime) DecodeEvents(raw []byte) ([]Event, error) {
	e, err := rt.storageEntry("System", "Events")
	if err != nil {
		return nil, err
	}
	if !e.Type.IsPlainType {
		return nil, fmt.Errorf("System.Events is not a plain storage value")
	}
	r := newReader(raw)
	v, err := rt.decodeValue(r, e.Type.AsPlainType, 0)
	if err != nil {
		return nil, err
	}
	if r.remaining() != 0 {
		return nil, fmt.Errorf("%d trailing bytes after the events", r.remaining())
	}
	records, _ := v.([]any)
	out := make([]Event, 0, len(records))
	for i, rec := range records {
		ev, err := eventOf(rec)
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
		out = append(out, ev)
	}
	return out, nil
}

// eventOf reads an EventRecord {phase, event, topics}.
func eventOf(rec any) (Event, error) {
	fields, ok := rec.([]any)
	if !ok || len(fields) < 2 {
		return Event{}, fmt.Errorf("record is %T, want a struct of phase and event", rec)
	}
	phase, ok1 := fields[0].(Variant)
	outer, ok2 := fields[1].(Variant)
	if !ok1 || !ok2 || len(outer.Fields) != 1 {
		return Event{}, fmt.Errorf("record does not hold a phase and a pallet event")
	}
	inner, ok := outer.Fields[0].(Variant)
	if !ok {
		return Event{}, fmt.Errorf("%s event is not an enum", outer.Name)
	}
	ev := Event{Extrinsic: -1, Pallet: outer.Name, Name: inner.Name, Fields: inner.Fields}
	if phase.Name == "ApplyExtrinsic" && len(phase.Fields) == 1 {
		if idx, ok := phase.Fields[0].(uint64); ok {
			ev.Extrinsic = int(idx)
		}
	}
	return ev, nil
}

// dispatchError names a decoded sp_runtime::DispatchError.
func (rt *Runtime) dispatchError(v any) *DispatchError {
	de := &DispatchError{Pallet: "DispatchError", Name: "Unknown"}
	variant, ok := v.(Variant)
	if !ok {
		return de
	}
	de.Name = variant.Name
	if variant.Name != "Module" || len(variant.Fields) != 1 {
		// Token(FundsUnavailable), Arithmetic(Overflow) and the like.
		if len(variant.Fields) == 1 {
			if sub, ok := variant.Fields[0].(Variant); ok {
				de.Name += "." + sub.Name
			}
		}
		return de
	}
	pallet, index, ok := moduleErrorIndices(variant.Fields[0])
	if !ok {
		return de
	}
	name, errName, doc, err := rt.moduleError(pallet, index)
	if err != nil {
		de.Pallet, de.Name = "Module", fmt.Sprintf("%d.%d", pallet, index)
		return de
	}
	de.Pallet, de.Name, de.Doc = name, errName, doc
	return de
}

// moduleErrorIndices reads ModuleError {index: u8, error: [u8; 4] or u8}.
func moduleErrorIndices(v any) (pallet, index uint8, ok bool) {
	fields, isStruct := v.([]any)
	if !isStruct || len(fields) != 2 {
		return 0, 0, false
	}
	p, ok := fields[0].(uint64)
	if !ok {
		return 0, 0, false
	}
	switch e := fields[1].(type) {
	case []byte:
		if len(e) > 0 {
			return uint8(p), e[0], true
		}
	case uint64:
		return uint8(p), uint8(e), true
	}
	return 0, 0, false
}
