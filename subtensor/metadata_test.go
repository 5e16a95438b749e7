package subtensor

import (
	"bytes"
	"strings"
	"testing"

	"github.com/centrifuge/go-substrate-rpc-client/v4/types"
	"github.com/centrifuge/go-substrate-rpc-client/v4/types/codec"
)

// TestParseMetadataV14Recorded decodes the recorded spec-218 metadata V14
// and encodes the result again with the SCALE codec of the substrate client
// library: the bytes must come back unchanged, so every field was read.
func TestParseMetadataV14Recorded(t *testing.T) {
	runtime218(t) // loads metaBytes
	checkV14RoundTrip(t, metaBytes)
}

func checkV14RoundTrip(t *testing.T, raw []byte) *types.Metadata {
	t.Helper()
	meta, v15, err := ParseMetadata(raw)
	if err != nil {
		t.Fatal(err)
	}
	if v15 != nil {
		t.Errorf("V14 bytes gave V15 additions")
	}
	again, err := codec.Encode(meta)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, raw) {
		t.Errorf("re-encoded metadata differs: %d bytes, want %d", len(again), len(raw))
	}
	var lib types.Metadata
	if err := codec.Decode(raw, &lib); err != nil {
		t.Fatal(err)
	}
	if got, want := len(meta.AsMetadataV14.EfficientLookup), len(lib.AsMetadataV14.EfficientLookup); got != want {
		t.Errorf("lookup has %d types, want %d", got, want)
	}
	return meta
}

// v15Skeleton is a hand-built metadata V15 with an empty registry and no
// pallets, whose tail (runtime APIs, outer enums, custom data) the cases vary.
func v15Skeleton(tail ...byte) []byte {
	b := appendU32(nil, metadataMagic)
	b = append(b, 15)
	b = append(b, 0, 0)                      // no types, no pallets
	b = append(b, 4, 1<<2, 2<<2, 3<<2, 4<<2) // extrinsic version 4; address, call, signature, extra types
	b = append(b, 0, 9<<2)                   // no signed extensions; runtime type 9
	return append(b, tail...)
}

func TestParseMetadataHandBuilt(t *testing.T) {
	api := []byte{4, 3 << 2, 'A', 'p', 'i', // one API "Api"
		4, 1 << 2, 'm', 4, 1 << 2, 'x', 5 << 2, 6 << 2, 0, // method "m"(x: type 5) -> type 6, no docs
		0} // no API docs
	enums := []byte{7 << 2, 8 << 2, 10 << 2}
	custom := []byte{4, 1 << 2, 'k', 11 << 2, 2 << 2, 0xab, 0xcd}
	meta, v15, err := ParseMetadata(v15Skeleton(append(append(append([]byte{}, api...), enums...), custom...)...))
	if err != nil {
		t.Fatal(err)
	}
	if v15 == nil {
		t.Fatal("V15 gave no V15 additions")
	}
	m := meta.AsMetadataV14
	if m.Extrinsic.Version != 4 || m.Type.Int64() != 9 || v15.Extrinsic.Extra.Int64() != 4 || v15.Extrinsic.Address.Int64() != 1 {
		t.Errorf("extrinsic: got version %d runtime type %d, extra type %d", m.Extrinsic.Version, m.Type.Int64(), v15.Extrinsic.Extra.Int64())
	}
	if len(v15.APIs) != 1 || v15.APIs[0].Name != "Api" || len(v15.APIs[0].Methods) != 1 {
		t.Fatalf("got APIs %+v, want one Api", v15.APIs)
	}
	meth := v15.APIs[0].Methods[0]
	if meth.Name != "m" || len(meth.Inputs) != 1 || meth.Inputs[0].Name != "x" || meth.Inputs[0].Type.Int64() != 5 || meth.Output.Int64() != 6 {
		t.Errorf("got method %+v, want m(x: 5) -> 6", meth)
	}
	if o := v15.OuterEnums; o.Call.Int64() != 7 || o.Event.Int64() != 8 || o.Error.Int64() != 10 {
		t.Errorf("got outer enums %d %d %d, want 7 8 10", o.Call.Int64(), o.Event.Int64(), o.Error.Int64())
	}
	if c, ok := v15.Custom["k"]; !ok || c.Type.Int64() != 11 || !bytes.Equal(c.Value, []byte{0xab, 0xcd}) {
		t.Errorf("got custom %+v, want k = type 11 abcd", v15.Custom)
	}
	rt := &Runtime{Meta: meta, V15: v15}
	if got, err := rt.runtimeAPI("Api", "m"); err != nil || got.Output.Int64() != 6 {
		t.Errorf("runtimeAPI(Api, m): got %+v, %v", got, err)
	}
	if _, err := rt.runtimeAPI("Api", "n"); err == nil {
		t.Error("an unknown runtime API method was found")
	}

	bad := []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "unexpected end"},
		{"bad magic", append([]byte("mexa"), 15), "magic"},
		{"version 16", append(appendU32(nil, metadataMagic), 16), "version 16"},
		{"version 13", append(appendU32(nil, metadataMagic), 13), "version 13"},
		{"truncated tail", v15Skeleton(api[:7]...), "V15"},
		{"trailing byte", v15Skeleton(append(append(append(append([]byte{}, api...), enums...), 0), 0)...), "trailing"},
		{"huge vector", v15Skeleton(0xfe, 0xff, 0xff, 0xff), "exceeds"},
		{"bad option tag", append(appendU32(nil, metadataMagic), 15, 4, 0, 0, 4, 0, 2), "option tag"},
		{"bad type def", append(appendU32(nil, metadataMagic), 15, 4, 0, 0, 0, 8, 0, 0), "type definition"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ParseMetadata(tt.b)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// FuzzParseMetadata parses arbitrary bytes as metadata: never a panic, and
// what parses has a lookup entry for every registry type.
func FuzzParseMetadata(f *testing.F) {
	f.Add(v15Skeleton(0, 0, 0, 0, 0))
	f.Add(v15Skeleton(4, 3<<2, 'A', 'p', 'i', 0, 0, 0, 0, 0, 0))
	f.Add(append(appendU32(nil, metadataMagic), 14, 4, 0, 0, 0, 5<<2, 3<<2, 0, 0, 0, 4, 0))
	f.Add([]byte("meta"))
	f.Fuzz(func(t *testing.T, b []byte) {
		meta, _, err := ParseMetadata(b)
		if err != nil {
			return
		}
		m := &meta.AsMetadataV14
		for _, ty := range m.Lookup.Types {
			if _, ok := m.EfficientLookup[ty.ID.Int64()]; !ok {
				t.Fatalf("type %d missing from the lookup", ty.ID.Int64())
			}
		}
	})
}
