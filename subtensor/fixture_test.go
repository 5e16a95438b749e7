package subtensor

import (
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/fractal-grid/fractal/internal/testenv"
)

// vector reads a JSON file of the recorded spec-218 responses into v.
func vector(tb testing.TB, name string, v any) {
	tb.Helper()
	b, err := os.ReadFile(testenv.Shared(tb, "vectors", "subtensor-218", name))
	if err != nil {
		tb.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
}

// mustHex decodes a 0x-prefixed hex string.
func mustHex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil {
		tb.Fatalf("hex %q: %v", s, err)
	}
	return b
}

var (
	metaOnce  sync.Once
	metaBytes []byte
	metaErr   error
)

// runtime218 returns the recorded spec-218 runtime: its metadata, versions
// and the genesis hash chopsticks reported.
func runtime218(tb testing.TB) *Runtime {
	tb.Helper()
	path := testenv.Shared(tb, "vectors", "subtensor-218", "metadata-v14.scale.gz")
	metaOnce.Do(func() {
		f, err := os.Open(path)
		if err != nil {
			metaErr = err
			return
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			metaErr = err
			return
		}
		metaBytes, metaErr = io.ReadAll(zr)
	})
	if metaErr != nil {
		tb.Fatal(metaErr)
	}
	meta, _, err := ParseMetadata(metaBytes)
	if err != nil {
		tb.Fatal(err)
	}
	var rv struct {
		GenesisHash string `json:"genesis_hash"`
		RPC         struct {
			Version struct {
				Response struct {
					Result struct {
						SpecVersion        uint32 `json:"specVersion"`
						TransactionVersion uint32 `json:"transactionVersion"`
					} `json:"result"`
				} `json:"response"`
			} `json:"state_getRuntimeVersion"`
		} `json:"rpc"`
	}
	vector(tb, "runtime.json", &rv)
	rt := &Runtime{Meta: meta, SpecVersion: rv.RPC.Version.Response.Result.SpecVersion,
		TransactionVersion: rv.RPC.Version.Response.Result.TransactionVersion}
	copy(rt.Genesis[:], mustHex(tb, rv.GenesisHash))
	return rt
}

func TestMetadataSignedExtensions(t *testing.T) {
	rt := runtime218(t)
	var want struct {
		SignedExtensions []string         `json:"signed_extensions"`
		CallIndices      map[string]uint8 `json:"subtensor_module_call_indices"`
		Pallets          []struct {
			Name  string `json:"name"`
			Index uint8  `json:"index"`
		} `json:"pallet_indices"`
	}
	vector(t, "runtime.json", &want)
	if got := rt.SignedExtensions(); strings.Join(got, ",") != strings.Join(want.SignedExtensions, ",") {
		t.Errorf("signed extensions: got %v, want %v", got, want.SignedExtensions)
	}
	for name, idx := range want.CallIndices {
		t.Run(name, func(t *testing.T) {
			ci, _, err := rt.call("SubtensorModule", name)
			if err != nil {
				t.Fatal(err)
			}
			if ci.MethodIndex != idx || ci.SectionIndex != 7 {
				t.Errorf("got call index %d.%d, want 7.%d", ci.SectionIndex, ci.MethodIndex, idx)
			}
		})
	}
	for _, p := range want.Pallets {
		got, err := rt.pallet(p.Name)
		if err != nil {
			t.Fatal(err)
		}
		if uint8(got.Index) != p.Index {
			t.Errorf("pallet %s: got index %d, want %d", p.Name, got.Index, p.Index)
		}
	}
	if _, _, err := rt.call("SubtensorModule", "no_such_call"); err == nil {
		t.Error("an unknown call was found")
	}
}

func TestStorageKeys(t *testing.T) {
	rt := runtime218(t)
	var st struct {
		Entries []struct {
			Pallet  string   `json:"pallet"`
			Item    string   `json:"item"`
			Args    []string `json:"key_args_hex"`
			FullKey string   `json:"full_storage_key"`
		} `json:"entries"`
	}
	vector(t, "storage.json", &st)
	if len(st.Entries) == 0 {
		t.Fatal("storage.json has no entries")
	}
	for _, e := range st.Entries {
		t.Run(e.Item, func(t *testing.T) {
			var args [][]byte
			for _, a := range e.Args {
				args = append(args, mustHex(t, a))
			}
			got, err := rt.StorageKey(e.Pallet, e.Item, args...)
			if err != nil {
				t.Fatal(err)
			}
			if want := mustHex(t, e.FullKey); !bytes.Equal(got, want) {
				t.Errorf("got key %x, want %x", got, want)
			}
		})
	}
}

// runtimeFacts is what a runtime's own records say it is.
type runtimeFacts struct {
	spec       uint32
	extensions []string
	genesis    [32]byte // zero: not recorded (chopsticks makes one up)
}

// wantRuntime reads runtime r's recorded facts: the recorded spec-218
// runtime, or ../shared/chain/metadata-summary-293.json.
func wantRuntime(tb testing.TB, r chainRuntime) runtimeFacts {
	tb.Helper()
	if r.Name == runtime218Spec.Name {
		rt := runtime218(tb)
		return runtimeFacts{spec: rt.SpecVersion, extensions: rt.SignedExtensions(), genesis: rt.Genesis}
	}
	var sum struct {
		SpecVersion      uint32 `json:"specVersion"`
		SignedExtensions []struct {
			ID string `json:"id"`
		} `json:"signedExtensions"`
	}
	b, err := os.ReadFile(testenv.Shared(tb, "chain", "metadata-summary-"+r.Name+".json"))
	if err != nil {
		tb.Fatal(err)
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		tb.Fatal(err)
	}
	f := runtimeFacts{spec: sum.SpecVersion}
	for _, e := range sum.SignedExtensions {
		f.extensions = append(f.extensions, e.ID)
	}
	return f
}
