package subtensor

import (
	"math"
	"reflect"
	"slices"
	"strings"
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
	checkNeuronsShape(t, rt, d.runtime.Name)
	raw, err := c.metadataAtVersion(ctx, 15)
	if err != nil {
		t.Fatal(err)
	}
	checkTruncated(t, raw)
	if d.runtime.Name == runtime293Spec.Name {
		checkRenamedField(t, raw, m.Output)
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

// checkNeuronsShape decodes 256 neurons encoded the way runtime spec
// encodes get_neurons_lite (wrapped in a Vec<u8> on spec 218, typed on spec
// 293) in the shape the runtime's V15 metadata gives the result.
func checkNeuronsShape(t *testing.T, rt *Runtime, spec string) {
	t.Helper()
	want := neurons256(t)
	b := EncodeNeuronsLite(want)
	if spec == runtime218Spec.Name {
		b = wrap(b)
	}
	got, err := rt.decodeNeuronsLite(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("256 neurons decoded by the V15 shape differ from those encoded")
	}
	if _, err := rt.decodeNeuronsLite(append(b, 0)); err == nil || !strings.Contains(err.Error(), "trailing") {
		t.Errorf("a trailing byte: got %v, want an error saying so", err)
	}
}

// checkTruncated parses V15 metadata cut short at 64 places: every one is an
// error, none a panic.
func checkTruncated(t *testing.T, raw []byte) {
	t.Helper()
	for i := range 64 {
		n := len(raw) * i / 64
		if _, _, err := ParseMetadata(raw[:n]); err == nil {
			t.Errorf("metadata cut to %d of %d bytes parsed", n, len(raw))
		}
	}
}

// checkRenamedField renames the hotkey field of spec 293's NeuronInfoLite in
// a fresh copy of its metadata: the result no longer decodes, with an error
// naming the field, rather than decoding by position.
func checkRenamedField(t *testing.T, raw []byte, output types.Si1LookupTypeID) {
	t.Helper()
	meta, v15, err := ParseMetadata(raw)
	if err != nil {
		t.Fatal(err)
	}
	rt := &Runtime{Meta: meta, V15: v15}
	seq, err := rt.typ(output)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := rt.typ(seq.Def.Sequence.Type)
	if err != nil {
		t.Fatal(err)
	}
	rec.Def.Composite.Fields[0].Name = "hot_key"
	_, err = rt.decodeNeuronsLite(EncodeNeuronsLite(neurons256(t)[:2]))
	if err == nil || !strings.Contains(err.Error(), "no field hotkey") {
		t.Errorf("a record without a hotkey field: got %v, want an error naming it", err)
	}
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
