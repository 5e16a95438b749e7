package subtensor

import (
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/centrifuge/go-substrate-rpc-client/v4/types"
)

// metadataVersions is what each runtime answers to
// Metadata_metadata_versions: both offer V15 (spec 293 also an unstable
// V16, listed as u32::MAX).
var metadataVersions = map[string][]uint32{
	runtime218Spec.Name: {14, 15},
	runtime293Spec.Name: {14, 15, math.MaxUint32},
}

// neuronsLiteOutput is the type get_neurons_lite's V15 metadata gives its
// result: spec 218 returns opaque bytes, spec 293 typed records.
var neuronsLiteOutput = map[string]string{
	runtime218Spec.Name: "Vec<u8>",
	runtime293Spec.Name: "Vec<NeuronInfoLite>",
}

// TestChopsticksMetadataV15 reads each runtime's metadata both ways: the
// client picks V15 where offered, V15 describes the same pallets, calls,
// storage and signed extensions as V14 plus the runtime APIs, and a client
// held to V14 reads the same neurons as one on V15.
func TestChopsticksMetadataV15(t *testing.T) {
	forEachRuntime(t, testMetadataV15)
}

func testMetadataV15(t *testing.T, d *devnet) {
	ctx := testCtx(t, 2*time.Minute)
	c := d.client
	versions, err := c.MetadataVersions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("spec %s offers metadata versions %v", d.runtime.Name, versions)
	if want := metadataVersions[d.runtime.Name]; !slices.Equal(versions, want) {
		t.Errorf("metadata versions: got %v, want %v", versions, want)
	}
	rt, err := c.Runtime(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rt.MetadataVersion() != 15 || rt.V15 == nil {
		t.Fatalf("client read metadata V%d, want V15", rt.MetadataVersion())
	}

	var v14Hex string
	if err := c.Call(ctx, &v14Hex, "state_getMetadata"); err != nil {
		t.Fatal(err)
	}
	v14 := checkV14RoundTrip(t, mustHex(t, v14Hex))
	t.Logf("metadata V14: %d bytes; V15: %d runtime APIs", len(v14Hex)/2-1, len(rt.V15.APIs))
	compareMetadata(t, &rt.Meta.AsMetadataV14, &v14.AsMetadataV14)

	m, err := rt.runtimeAPI(neuronAPI, neuronsLite)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Inputs) != 1 || m.Inputs[0].Name != "netuid" || !isPrimitive(rt, m.Inputs[0].Type, types.IsU16) {
		t.Errorf("get_neurons_lite inputs: got %+v, want (netuid: u16)", m.Inputs)
	}
	if got, want := shapeName(rt, m.Output), neuronsLiteOutput[d.runtime.Name]; got != want {
		t.Errorf("get_neurons_lite output: got %s, want %s", got, want)
	}
	for name, id := range map[string]types.Si1LookupTypeID{"RuntimeCall": rt.V15.OuterEnums.Call,
		"RuntimeEvent": rt.V15.OuterEnums.Event, "RuntimeError": rt.V15.OuterEnums.Error} {
		if got := shapeName(rt, id); got != name {
			t.Errorf("outer enum: got %s, want %s", got, name)
		}
	}

	cfg := testConfig(d.node.url)
	cfg.MaxMetadata = 14
	old := mustClient(t, cfg)
	ort, err := old.Runtime(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ort.MetadataVersion() != 14 || ort.V15 != nil {
		t.Fatalf("client held to V14 read V%d", ort.MetadataVersion())
	}
	at, _, err := c.best(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n15, err := c.NeuronsLite(ctx, 1, at)
	if err != nil {
		t.Fatal(err)
	}
	n14, err := old.NeuronsLite(ctx, 1, at)
	if err != nil {
		t.Fatal(err)
	}
	if len(n15) == 0 || !reflect.DeepEqual(n15, n14) {
		t.Errorf("subnet 1 neurons: V15 client got %+v, V14 client %+v", n15, n14)
	}
	t.Logf("subnet 1 at %s: %d neurons read the same from V15 and V14 metadata", at, len(n15))
}

// compareMetadata checks that V15 (in V14's shape) and V14 of one runtime
// describe the same pallets, calls, storage items and signed extensions.
func compareMetadata(t *testing.T, got, want *types.MetadataV14) {
	t.Helper()
	exts := func(m *types.MetadataV14) []string {
		var out []string
		for _, e := range m.Extrinsic.SignedExtensions {
			out = append(out, string(e.Identifier))
		}
		return out
	}
	if !slices.Equal(exts(got), exts(want)) || got.Extrinsic.Version != want.Extrinsic.Version {
		t.Errorf("signed extensions: V15 %v, V14 %v", exts(got), exts(want))
	}
	if len(got.Pallets) != len(want.Pallets) {
		t.Fatalf("V15 has %d pallets, V14 %d", len(got.Pallets), len(want.Pallets))
	}
	gotRT, wantRT := &Runtime{Meta: &types.Metadata{AsMetadataV14: *got}}, &Runtime{Meta: &types.Metadata{AsMetadataV14: *want}}
	for i := range got.Pallets {
		g, w := &got.Pallets[i], &want.Pallets[i]
		if g.Name != w.Name || g.Index != w.Index || len(g.Storage.Items) != len(w.Storage.Items) {
			t.Errorf("pallet %d: V15 %s/%d with %d storage items, V14 %s/%d with %d", i, g.Name, g.Index,
				len(g.Storage.Items), w.Name, w.Index, len(w.Storage.Items))
			continue
		}
		if g.HasCalls != w.HasCalls {
			t.Errorf("pallet %s: calls in V15 %v, in V14 %v", g.Name, g.HasCalls, w.HasCalls)
			continue
		}
		if g.HasCalls && !slices.Equal(variantNames(gotRT, g.Calls.Type), variantNames(wantRT, w.Calls.Type)) {
			t.Errorf("pallet %s: calls differ", g.Name)
		}
	}
}

func variantNames(rt *Runtime, id types.Si1LookupTypeID) []string {
	t, err := rt.typ(id)
	if err != nil {
		return nil
	}
	var out []string
	for _, v := range t.Def.Variant.Variants {
		out = append(out, string(v.Name)+":"+fieldNames(v.Fields))
	}
	return out
}

func isPrimitive(rt *Runtime, id types.Si1LookupTypeID, p types.Si0TypeDefPrimitive) bool {
	t, err := rt.typ(id)
	return err == nil && t.Def.IsPrimitive && t.Def.Primitive.Si0TypeDefPrimitive == p
}

// shapeName names a type the way Rust writes it, one level deep: Vec<u8>,
// Vec<NeuronInfoLite>, RuntimeCall.
func shapeName(rt *Runtime, id types.Si1LookupTypeID) string {
	t, err := rt.typ(id)
	if err != nil {
		return err.Error()
	}
	if t.Def.IsSequence {
		if isPrimitive(rt, t.Def.Sequence.Type, types.IsU8) {
			return "Vec<u8>"
		}
		return "Vec<" + shapeName(rt, t.Def.Sequence.Type) + ">"
	}
	return typeName(t)
}
