package subtensor

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/centrifuge/go-substrate-rpc-client/v4/types"
	"golang.org/x/crypto/blake2b"

	"github.com/fractal-grid/fractal/sr25519"
)

type extrinsicVector struct {
	Decoded struct {
		Call struct {
			Args struct {
				Dests      []uint16 `json:"dests"`
				NetUID     uint16   `json:"netuid"`
				VersionKey uint64   `json:"version_key"`
				Weights    []uint16 `json:"weights"`
			} `json:"args"`
			Call   string `json:"call"`
			Pallet string `json:"pallet"`
		} `json:"call"`
		CallHex   string `json:"call_hex"`
		ExtraHex  string `json:"extra_hex"`
		Nonce     uint64 `json:"nonce"`
		Signature string `json:"signature_hex"`
		Signer    struct {
			SS58 string `json:"ss58"`
		} `json:"signer"`
	} `json:"decoded"`
	ExtrinsicHex string `json:"extrinsic_hex"`
	TxHash       string `json:"tx_hash"`
	Signing      struct {
		Additional string `json:"additional_signed_hex"`
		Payload    string `json:"signing_payload_hex"`
	} `json:"signing"`
}

// TestSetWeightsPayload rebuilds the recorded set_weights extrinsic from its
// decoded fields and the metadata, and compares every part byte for byte.
func TestSetWeightsPayload(t *testing.T) {
	rt := runtime218(t)
	var v extrinsicVector
	vector(t, "set_weights_extrinsic.json", &v)
	a := v.Decoded.Call.Args
	call, err := rt.encodeCall(v.Decoded.Call.Pallet, v.Decoded.Call.Call, map[string]any{
		"netuid": a.NetUID, "dests": a.Dests, "weights": a.Weights, "version_key": a.VersionKey,
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := rt.NewPayload(call, v.Decoded.Nonce)
	if err != nil {
		t.Fatal(err)
	}
	parts := []struct {
		name string
		got  []byte
		want string
	}{
		{"call", p.Call, v.Decoded.CallHex},
		{"extra", p.Extra, v.Decoded.ExtraHex},
		{"additional signed", p.Additional, v.Signing.Additional},
		{"signing payload", p.SigningMessage(), v.Signing.Payload},
	}
	for _, part := range parts {
		if want := mustHex(t, part.want); !bytes.Equal(part.got, want) {
			t.Errorf("%s: got %x, want %x", part.name, part.got, want)
		}
	}
	sig := mustHex(t, v.Decoded.Signature)
	var verifier sr25519.Verifier
	if err := verifier.Verify(v.Decoded.Signer.SS58, p.SigningMessage(), sig); err != nil {
		t.Errorf("recorded signature over the rebuilt payload: %v", err)
	}
	pub, err := sr25519.ParseSS58(v.Decoded.Signer.SS58)
	if err != nil {
		t.Fatal(err)
	}
	xt := p.Assemble(pub, sig)
	if want := mustHex(t, v.ExtrinsicHex); !bytes.Equal(xt, want) {
		t.Errorf("extrinsic: got %x, want %x", xt, want)
	}
	if h := blake2b.Sum256(xt); "0x"+hex.EncodeToString(h[:]) != v.TxHash {
		t.Errorf("tx hash: got %x, want %s", h, v.TxHash)
	}
}

// TestSignVerifies signs a fresh payload with //Bob and checks it verifies,
// and that another key's signature does not.
func TestSignVerifies(t *testing.T) {
	rt := runtime218(t)
	call, err := rt.encodeCall("SubtensorModule", "set_weights", map[string]any{
		"netuid": uint16(3), "dests": []uint16{1}, "weights": []uint16{65535}, "version_key": uint64(7),
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := rt.NewPayload(call, 42)
	if err != nil {
		t.Fatal(err)
	}
	bob, _ := sr25519.FromURI("//Bob")
	xt, err := p.Sign(bob)
	if err != nil {
		t.Fatal(err)
	}
	// length prefix (2 bytes), version, address type, key, signature type.
	sig := xt[2+1+1+32+1 : 2+1+1+32+1+64]
	var verifier sr25519.Verifier
	if err := verifier.Verify(bob.SS58(), p.SigningMessage(), sig); err != nil {
		t.Errorf("own signature: %v", err)
	}
	alice, _ := sr25519.FromURI("//Alice")
	if err := verifier.Verify(alice.SS58(), p.SigningMessage(), sig); err == nil {
		t.Error("signature verified under another key")
	}
}

func TestLongPayloadIsHashed(t *testing.T) {
	p := &Payload{Call: make([]byte, 300)}
	if got := len(p.SigningMessage()); got != 32 {
		t.Errorf("got %d-byte message for a 300-byte payload, want 32", got)
	}
}

func TestEncodeCallErrors(t *testing.T) {
	rt := runtime218(t)
	tests := []struct {
		name string
		call string
		args map[string]any
	}{
		{"unknown call", "no_such_call", nil},
		{"missing argument", "set_weights", map[string]any{"netuid": uint16(1)}},
		{"wrong type", "set_weights", map[string]any{"netuid": "x", "dests": []uint16{}, "weights": []uint16{}, "version_key": uint64(0)}},
		{"overflow", "set_weights", map[string]any{"netuid": uint64(70000), "dests": []uint16{}, "weights": []uint16{}, "version_key": uint64(0)}},
		{"wrong name", "set_weights", map[string]any{"net": uint16(1), "dests": []uint16{}, "weights": []uint16{}, "version_key": uint64(0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if b, err := rt.encodeCall("SubtensorModule", tt.call, tt.args); err == nil {
				t.Errorf("got %x, want an error", b)
			}
		})
	}
}

// withExtensions returns a copy of rt whose metadata lists the given
// extensions; each takes the extra and additional types of the named
// spec-218 extension it copies.
func withExtensions(tb testing.TB, rt *Runtime, list [][2]string) *Runtime {
	tb.Helper()
	byName := map[string]types.SignedExtensionMetadataV14{}
	for _, e := range rt.Meta.AsMetadataV14.Extrinsic.SignedExtensions {
		byName[string(e.Identifier)] = e
	}
	meta := *rt.Meta
	var exts []types.SignedExtensionMetadataV14
	for _, pair := range list {
		src, ok := byName[pair[1]]
		if !ok {
			tb.Fatalf("spec 218 has no extension %s", pair[1])
		}
		src.Identifier = types.Text(pair[0])
		exts = append(exts, src)
	}
	meta.AsMetadataV14.Extrinsic.SignedExtensions = exts
	out := *rt
	out.Meta = &meta
	return &out
}

// TestNewerExtensionList builds a payload for the extension list of current
// mainnet runtimes (spec 425): the client fills the extensions it knows and
// gives the others their zero value, in the order the metadata lists them.
func TestNewerExtensionList(t *testing.T) {
	rt := withExtensions(t, runtime218(t), [][2]string{
		{"CheckNonZeroSender", "CheckNonZeroSender"}, {"CheckSpecVersion", "CheckSpecVersion"},
		{"CheckTxVersion", "CheckTxVersion"}, {"CheckGenesis", "CheckGenesis"},
		{"CheckMortality", "CheckMortality"}, {"CheckNonce", "CheckNonce"}, {"CheckWeight", "CheckWeight"},
		{"ChargeTransactionPaymentWrapper", "ChargeTransactionPayment"},
		{"SudoTransactionExtension", "SubtensorSignedExtension"},
		{"CheckShieldedTxValidity", "CommitmentsSignedExtension"},
		{"SubtensorTransactionExtension", "SubtensorSignedExtension"},
		{"DrandPriority", "CommitmentsSignedExtension"},
		{"CheckMetadataHash", "CheckMetadataHash"},
	})
	rt.SpecVersion = 425
	p, err := rt.NewPayload([]byte{7, 0}, 300)
	if err != nil {
		t.Fatal(err)
	}
	// era immortal, nonce compact(300), tip compact(0), metadata hash mode 0.
	wantExtra := []byte{0x00, 0xb1, 0x04, 0x00, 0x00}
	if !bytes.Equal(p.Extra, wantExtra) {
		t.Errorf("extra: got %x, want %x", p.Extra, wantExtra)
	}
	wantAdd := appendU32(nil, 425)
	wantAdd = appendU32(wantAdd, rt.TransactionVersion)
	wantAdd = append(append(append(wantAdd, rt.Genesis[:]...), rt.Genesis[:]...), 0x00)
	if !bytes.Equal(p.Additional, wantAdd) {
		t.Errorf("additional: got %x, want %x", p.Additional, wantAdd)
	}

	// An unknown extension that signs extra data cannot be filled in.
	bad := withExtensions(t, rt, [][2]string{{"CheckNonce", "CheckNonce"}, {"FutureCheck", "CheckGenesis"}})
	if _, err := bad.NewPayload([]byte{7, 0}, 1); err == nil {
		t.Error("an extension with unknown additional signed data was accepted")
	}
}
