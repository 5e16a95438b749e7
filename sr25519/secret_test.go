package sr25519_test

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/sr25519"
)

type walletVectors struct {
	Keys []struct {
		Name       string `json:"name"`
		SURI       string `json:"suri"`
		PublicKey  string `json:"public_key_hex"`
		SS58       string `json:"ss58_address"`
		MiniSecret string `json:"mini_secret_seed_hex"`
		PrivateKey string `json:"private_key_hex"`
	} `json:"keys"`
}

func mustUnhex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// The 64-byte secret key of a mnemonic or URI key must be what btcli writes
// as privateKey, and loading it back must give the same key.
func TestSecretKeyMatchesBtcli(t *testing.T) {
	raw, err := os.ReadFile(testenv.Shared(t, "vectors", "wallet", "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vec walletVectors
	if err := json.Unmarshal(raw, &vec); err != nil {
		t.Fatal(err)
	}
	if len(vec.Keys) == 0 {
		t.Fatal("no keys in expected.json")
	}
	for _, tc := range vec.Keys {
		t.Run(tc.Name, func(t *testing.T) {
			k, err := sr25519.FromURI(tc.SURI)
			if err != nil {
				t.Fatal(err)
			}
			if got := k.SS58(); got != tc.SS58 {
				t.Errorf("ss58 = %s, want %s", got, tc.SS58)
			}
			mini, ok := k.MiniSecret()
			if !ok || "0x"+hex.EncodeToString(mini) != tc.MiniSecret {
				t.Errorf("mini secret = %x, %v; want %s", mini, ok, tc.MiniSecret)
			}
			sk, ok := k.SecretKey()
			if !ok || "0x"+hex.EncodeToString(sk) != tc.PrivateKey {
				t.Errorf("secret key = %x, %v; want %s", sk, ok, tc.PrivateKey)
			}
			back, err := sr25519.FromSeed(mustUnhex(t, tc.PrivateKey))
			if err != nil {
				t.Fatal(err)
			}
			if got := back.SS58(); got != tc.SS58 {
				t.Errorf("ss58 from privateKey = %s, want %s", got, tc.SS58)
			}
			if _, ok := back.MiniSecret(); ok {
				t.Error("key loaded from a 64-byte secret claims a mini secret")
			}
			sig, err := back.Sign([]byte("m"))
			if err != nil {
				t.Fatal(err)
			}
			var v sr25519.Verifier
			if err := v.Verify(tc.SS58, []byte("m"), sig); err != nil {
				t.Errorf("signature of the reloaded key: %v", err)
			}
		})
	}
}

func TestNewMnemonic(t *testing.T) {
	a, err := sr25519.NewMnemonic()
	if err != nil {
		t.Fatal(err)
	}
	b, err := sr25519.NewMnemonic()
	if err != nil {
		t.Fatal(err)
	}
	if got := len(strings.Fields(a)); got != sr25519.MnemonicWords {
		t.Errorf("got %d words, want %d", got, sr25519.MnemonicWords)
	}
	if a == b {
		t.Error("two fresh mnemonics are equal")
	}
	if !sr25519.ValidMnemonic(a) {
		t.Errorf("ValidMnemonic(%q) = false", a)
	}
	for _, bad := range []string{"", "bottom drive obey lake curtain smoke basket hold race lonely fit fit", "bottom  drive obey lake curtain smoke basket hold race lonely fit walk"} {
		if sr25519.ValidMnemonic(bad) {
			t.Errorf("ValidMnemonic(%q) = true, want false", bad)
		}
	}
	if _, err := sr25519.FromMnemonic(a); err != nil {
		t.Errorf("FromMnemonic of a fresh phrase: %v", err)
	}
}
