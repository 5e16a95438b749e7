package subtensor

import (
	"fmt"
	"strings"

	"github.com/centrifuge/go-substrate-rpc-client/v4/types"
)

// Runtime is what a client knows about the runtime a node runs: its
// metadata, versions and the chain's genesis hash. Everything the client
// encodes (call indices, argument types, signed extensions, storage hashers,
// error names) and the result shapes of the runtime APIs it calls are looked
// up here by name, never hard-coded.
type Runtime struct {
	// Meta is the metadata in V14's shape, whichever version was read.
	Meta *types.Metadata
	// V15 holds what metadata V15 adds (runtime APIs, outer enums, custom
	// data); nil when the runtime offers V14 only.
	V15                *MetadataV15
	SpecVersion        uint32
	TransactionVersion uint32
	Genesis            [32]byte
}

// MetadataVersion is the metadata version the runtime was read at.
func (rt *Runtime) MetadataVersion() int {
	if rt.V15 != nil {
		return 15
	}
	return 14
}

// runtimeAPI returns method of runtime API trait api as the metadata
// describes it; nil and no error when the metadata has no runtime-API
// section (V14).
func (rt *Runtime) runtimeAPI(api, method string) (*RuntimeAPIMethod, error) {
	if rt.V15 == nil {
		return nil, nil
	}
	for i := range rt.V15.APIs {
		a := &rt.V15.APIs[i]
		if a.Name != api {
			continue
		}
		for j := range a.Methods {
			if a.Methods[j].Name == method {
				return &a.Methods[j], nil
			}
		}
	}
	return nil, fmt.Errorf("runtime has no runtime API %s_%s", api, method)
}

// runtimeArgs encodes the arguments of runtime API api_method as its inputs'
// types declare them (V15), or as fallback encodes them (V14).
func (rt *Runtime) runtimeArgs(api, method string, fallback []byte, args ...any) ([]byte, error) {
	m, err := rt.runtimeAPI(api, method)
	if err != nil || m == nil {
		return fallback, err
	}
	if len(m.Inputs) != len(args) {
		return nil, fmt.Errorf("runtime API %s_%s takes %d arguments, got %d", api, method, len(m.Inputs), len(args))
	}
	var b []byte
	for i, in := range m.Inputs {
		if b, err = rt.encodeValue(b, in.Type, args[i], 0); err != nil {
			return nil, fmt.Errorf("runtime API %s_%s: argument %s: %w", api, method, in.Name, err)
		}
	}
	return b, nil
}

func (rt *Runtime) v14() *types.MetadataV14 { return &rt.Meta.AsMetadataV14 }

// typ returns the registry type with id.
func (rt *Runtime) typ(id types.Si1LookupTypeID) (*types.Si1Type, error) {
	t, ok := rt.v14().EfficientLookup[id.Int64()]
	if !ok {
		return nil, fmt.Errorf("metadata has no type %d", id.Int64())
	}
	return t, nil
}

// pallet returns the pallet called name.
func (rt *Runtime) pallet(name string) (*types.PalletMetadataV14, error) {
	for i := range rt.v14().Pallets {
		if p := &rt.v14().Pallets[i]; string(p.Name) == name {
			return p, nil
		}
	}
	return nil, fmt.Errorf("runtime has no pallet %s", name)
}

// SignedExtensions returns the identifiers of the runtime's signed
// extensions, in the order their data is encoded.
func (rt *Runtime) SignedExtensions() []string {
	var out []string
	for _, e := range rt.v14().Extrinsic.SignedExtensions {
		out = append(out, string(e.Identifier))
	}
	return out
}

// call finds pallet.name among the pallet's calls and returns its indices
// and argument fields.
func (rt *Runtime) call(pallet, name string) (types.CallIndex, []types.Si1Field, error) {
	p, err := rt.pallet(pallet)
	if err != nil {
		return types.CallIndex{}, nil, err
	}
	if !p.HasCalls {
		return types.CallIndex{}, nil, fmt.Errorf("pallet %s has no calls", pallet)
	}
	t, err := rt.typ(p.Calls.Type)
	if err != nil {
		return types.CallIndex{}, nil, err
	}
	for _, v := range t.Def.Variant.Variants {
		if string(v.Name) == name {
			return types.CallIndex{SectionIndex: uint8(p.Index), MethodIndex: uint8(v.Index)}, v.Fields, nil
		}
	}
	return types.CallIndex{}, nil, fmt.Errorf("runtime has no call %s.%s", pallet, name)
}

// StorageKey returns the key of pallet.item with SCALE-encoded map keys
// args, hashed as the metadata declares.
func (rt *Runtime) StorageKey(pallet, item string, args ...[]byte) ([]byte, error) {
	k, err := types.CreateStorageKey(rt.Meta, pallet, item, args...)
	if err != nil {
		return nil, fmt.Errorf("storage key %s.%s: %w", pallet, item, err)
	}
	return k, nil
}

// storageEntry returns the metadata of pallet.item.
func (rt *Runtime) storageEntry(pallet, item string) (*types.StorageEntryMetadataV14, error) {
	p, err := rt.pallet(pallet)
	if err != nil {
		return nil, err
	}
	for i := range p.Storage.Items {
		if e := &p.Storage.Items[i]; string(e.Name) == item {
			return e, nil
		}
	}
	return nil, fmt.Errorf("runtime has no storage %s.%s", pallet, item)
}

// moduleError names error index idx of the pallet with index palletIndex,
// with the first line of its documentation.
func (rt *Runtime) moduleError(palletIndex, idx uint8) (pallet, name, doc string, err error) {
	for i := range rt.v14().Pallets {
		p := &rt.v14().Pallets[i]
		if uint8(p.Index) != palletIndex {
			continue
		}
		if !p.HasErrors {
			return string(p.Name), "", "", fmt.Errorf("pallet %s has no errors", p.Name)
		}
		t, err := rt.typ(p.Errors.Type)
		if err != nil {
			return string(p.Name), "", "", err
		}
		for _, v := range t.Def.Variant.Variants {
			if uint8(v.Index) == idx {
				if len(v.Docs) > 0 {
					doc = strings.TrimSpace(string(v.Docs[0]))
				}
				return string(p.Name), string(v.Name), doc, nil
			}
		}
		return string(p.Name), "", "", fmt.Errorf("pallet %s has no error %d", p.Name, idx)
	}
	return "", "", "", fmt.Errorf("runtime has no pallet with index %d", palletIndex)
}
