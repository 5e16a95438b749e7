package subtensor

import (
	"errors"
	"testing"

	"github.com/centrifuge/go-substrate-rpc-client/v4/types"

	"github.com/fractal-grid/fractal"
)

// variantOf finds the variant called name of enum type id.
func variantOf(tb testing.TB, rt *Runtime, id types.Si1LookupTypeID, name string) types.Si1Variant {
	tb.Helper()
	t, err := rt.typ(id)
	if err != nil {
		tb.Fatal(err)
	}
	for _, v := range t.Def.Variant.Variants {
		if string(v.Name) == name {
			return v
		}
	}
	tb.Fatalf("type %d has no variant %s", id.Int64(), name)
	return types.Si1Variant{}
}

// failedEvents encodes System.Events holding one System.ExtrinsicFailed for
// extrinsic index with a module error of pallet.errName, built from the
// runtime's own type definitions.
func failedEvents(tb testing.TB, rt *Runtime, index uint32, pallet, errName string) []byte {
	tb.Helper()
	entry, err := rt.storageEntry("System", "Events")
	if err != nil {
		tb.Fatal(err)
	}
	vec, _ := rt.typ(entry.Type.AsPlainType)
	record, _ := rt.typ(vec.Def.Sequence.Type)
	fields := record.Def.Composite.Fields // phase, event, topics
	b := appendCompact(nil, 1)
	phase := variantOf(tb, rt, fields[0].Type, "ApplyExtrinsic")
	b = appendU32(append(b, uint8(phase.Index)), index)
	system := variantOf(tb, rt, fields[1].Type, "System")
	failed := variantOf(tb, rt, system.Fields[0].Type, "ExtrinsicFailed")
	b = append(b, uint8(system.Index), uint8(failed.Index))
	module := variantOf(tb, rt, failed.Fields[0].Type, "Module")
	p, err := rt.pallet(pallet)
	if err != nil {
		tb.Fatal(err)
	}
	e := variantOf(tb, rt, p.Errors.Type, errName)
	b = append(b, uint8(module.Index))
	if b, err = rt.encodeValue(b, module.Fields[0].Type, []any{uint8(p.Index), []byte{uint8(e.Index), 0, 0, 0}}, 0); err != nil {
		tb.Fatal(err)
	}
	if b, err = rt.appendZero(b, failed.Fields[1].Type, 0); err != nil { // dispatch_info
		tb.Fatal(err)
	}
	return append(b, 0) // no topics
}

func TestDispatchErrorFromEvents(t *testing.T) {
	rt := runtime218(t)
	raw := failedEvents(t, rt, 1, palletSubtensor, "SettingWeightsTooFast")
	events, err := rt.DecodeEvents(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].Pallet != "System" || events[0].Name != "ExtrinsicFailed" || events[0].Extrinsic != 1 {
		t.Fatalf("got %+v, want one System.ExtrinsicFailed of extrinsic 1", events)
	}
	inc := &Inclusion{Block: 9, Index: 1, Events: events}
	err = inc.failure(rt)
	var de *DispatchError
	if !errors.As(err, &de) || de.Pallet != palletSubtensor || de.Name != "SettingWeightsTooFast" || de.Block != 9 {
		t.Fatalf("got %v, want SubtensorModule.SettingWeightsTooFast in block 9", err)
	}
	if de.Doc == "" || !errors.Is(err, fractal.ErrOverloaded) {
		t.Errorf("got doc %q and %v; want the runtime's doc line and ErrOverloaded", de.Doc, err)
	}
	for _, cut := range []int{1, len(raw) / 2, len(raw) - 1} {
		if _, err := rt.DecodeEvents(raw[:cut]); err == nil {
			t.Errorf("events cut to %d of %d bytes decoded without error", cut, len(raw))
		}
	}
}
