package wallet_test

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/wallet"
)

// vectorKey is one key of ../shared/vectors/wallet/expected.json.
type vectorKey struct {
	Name        string `json:"name"`
	SURI        string `json:"suri"`
	PublicKey   string `json:"public_key_hex"`
	SS58        string `json:"ss58_address"`
	MiniSecret  string `json:"mini_secret_seed_hex"`
	PrivateKey  string `json:"private_key_hex"`
	FileContent string `json:"file_content"`
}

type vectors struct {
	DevMnemonic string      `json:"dev_mnemonic"`
	Keys        []vectorKey `json:"keys"`
	Encrypted   struct {
		Password string `json:"password"`
	} `json:"encrypted_coldkey"`
}

func loadVectors(tb testing.TB) vectors {
	tb.Helper()
	raw, err := os.ReadFile(testenv.Shared(tb, "vectors", "wallet", "expected.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(raw, &v); err != nil {
		tb.Fatal(err)
	}
	if len(v.Keys) != 2 || v.Encrypted.Password == "" {
		tb.Fatalf("expected.json: got %d keys and password %q, want 2 keys and a password", len(v.Keys), v.Encrypted.Password)
	}
	return v
}

func mustReadFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func checkKey(t *testing.T, k *wallet.Key, want vectorKey) {
	t.Helper()
	if got := k.SS58(); got != want.SS58 {
		t.Errorf("ss58 = %s, want %s", got, want.SS58)
	}
	if got := "0x" + hex.EncodeToString(k.Public[:]); got != want.PublicKey {
		t.Errorf("public key = %s, want %s", got, want.PublicKey)
	}
	if k.Pair == nil {
		t.Fatal("key has no secret")
	}
	if got := k.Pair.SS58(); got != want.SS58 {
		t.Errorf("pair ss58 = %s, want %s", got, want.SS58)
	}
	sk, ok := k.Pair.SecretKey()
	if got := "0x" + hex.EncodeToString(sk); !ok || got != want.PrivateKey {
		t.Errorf("secret key = %s (%v), want %s", got, ok, want.PrivateKey)
	}
}

// Both example keyfiles parse to their keys and encode back byte for byte.
func TestKeyfileVectors(t *testing.T) {
	v := loadVectors(t)
	for _, want := range v.Keys {
		t.Run(want.Name, func(t *testing.T) {
			data := mustReadFile(t, testenv.Shared(t, "vectors", "wallet", want.Name))
			if string(data) != want.FileContent {
				t.Fatalf("%s differs from its file_content in expected.json", want.Name)
			}
			k, err := wallet.ParseKeyfile(data)
			if err != nil {
				t.Fatal(err)
			}
			checkKey(t, k, want)
			wantPhrase := ""
			if !strings.Contains(want.SURI, "//") {
				wantPhrase = want.SURI
			}
			if k.Phrase != wantPhrase {
				t.Errorf("phrase = %q, want %q", k.Phrase, wantPhrase)
			}
			out, err := wallet.MarshalKeyfile(k)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != string(data) {
				t.Errorf("MarshalKeyfile:\n got %s\nwant %s", out, data)
			}
		})
	}
}

// pythonDialect writes fields the way bittensor's Python SDK v7 does: all six
// keys in fixed order, null for absent ones, ", " and ": " separators.
func pythonDialect(fields map[string]string) []byte {
	var parts []string
	for _, name := range []string{"accountId", "publicKey", "privateKey", "secretPhrase", "secretSeed", "ss58Address"} {
		val := "null"
		if s, ok := fields[name]; ok {
			b, _ := json.Marshal(s)
			val = string(b)
		}
		parts = append(parts, fmt.Sprintf("%q: %s", name, val))
	}
	return []byte("{" + strings.Join(parts, ", ") + "}")
}

// Keyfiles with nulls (Python SDK) and with subsets of fields read with
// btwallet's precedence: secretPhrase, secretSeed, privateKey, ss58Address.
func TestKeyfileDialectsAndPrecedence(t *testing.T) {
	v := loadVectors(t)
	mn, alice := v.Keys[0], v.Keys[1]
	for _, tc := range []struct {
		name       string
		fields     map[string]string
		want       vectorKey
		wantPhrase string
		public     bool
	}{
		{"python full", map[string]string{"accountId": mn.PublicKey, "publicKey": mn.PublicKey, "privateKey": mn.PrivateKey, "secretPhrase": v.DevMnemonic, "secretSeed": mn.MiniSecret, "ss58Address": mn.SS58}, mn, v.DevMnemonic, false},
		{"python uri key", map[string]string{"accountId": alice.PublicKey, "publicKey": alice.PublicKey, "privateKey": alice.PrivateKey, "ss58Address": alice.SS58}, alice, "", false},
		{"phrase wins over privateKey", map[string]string{"privateKey": alice.PrivateKey, "secretPhrase": v.DevMnemonic}, mn, v.DevMnemonic, false},
		{"seed wins over privateKey", map[string]string{"privateKey": alice.PrivateKey, "secretSeed": mn.MiniSecret}, mn, "", false},
		{"seed only", map[string]string{"secretSeed": alice.MiniSecret}, alice, "", false},
		{"privateKey only", map[string]string{"privateKey": mn.PrivateKey}, mn, "", false},
		{"64-byte seed", map[string]string{"secretSeed": alice.PrivateKey}, alice, "", false},
		{"ss58 only", map[string]string{"ss58Address": alice.SS58}, alice, "", true},
		{"publicKey only", map[string]string{"accountId": mn.PublicKey, "publicKey": mn.PublicKey}, mn, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := wallet.ParseKeyfile(pythonDialect(tc.fields))
			if err != nil {
				t.Fatal(err)
			}
			if k.Phrase != tc.wantPhrase {
				t.Errorf("phrase = %q, want %q", k.Phrase, tc.wantPhrase)
			}
			if tc.public {
				if k.Pair != nil {
					t.Error("public-only keyfile gave a key pair")
				}
				if got := k.SS58(); got != tc.want.SS58 {
					t.Errorf("ss58 = %s, want %s", got, tc.want.SS58)
				}
				return
			}
			checkKey(t, k, tc.want)
		})
	}
}

func TestKeyfileRejects(t *testing.T) {
	v := loadVectors(t)
	mn, alice := v.Keys[0], v.Keys[1]
	const polkadotAlice = "15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5" // //Alice with prefix 0
	for _, tc := range []struct {
		name    string
		data    string
		want    error
		mention string
	}{
		{"empty", "", fractal.ErrInvalid, "JSON"},
		{"not json", "hello", fractal.ErrInvalid, "JSON"},
		{"array", "[1,2]", fractal.ErrInvalid, "JSON"},
		{"no key", "{}", fractal.ErrInvalid, "no key"},
		{"all null", string(pythonDialect(nil)), fractal.ErrInvalid, "no key"},
		{"wrong network prefix", `{"ss58Address":"` + polkadotAlice + `"}`, fractal.ErrInvalid, "prefix 0"},
		{"bad ss58 checksum", `{"ss58Address":"` + alice.SS58[:len(alice.SS58)-1] + `Z"}`, fractal.ErrInvalid, "ss58Address"},
		{"ss58 of another key", `{"privateKey":"` + mn.PrivateKey + `","ss58Address":"` + alice.SS58 + `"}`, fractal.ErrInvalid, "does not match"},
		{"publicKey of another key", `{"privateKey":"` + mn.PrivateKey + `","publicKey":"` + alice.PublicKey + `"}`, fractal.ErrInvalid, "does not match"},
		{"short privateKey", `{"privateKey":"` + mn.PrivateKey[:66] + `"}`, fractal.ErrInvalid, "want 64"},
		{"privateKey not hex", `{"privateKey":"0xzz"}`, fractal.ErrInvalid, "not hex"},
		{"privateKey without 0x", `{"privateKey":"` + mn.PrivateKey[2:] + `"}`, fractal.ErrInvalid, "0x-prefixed"},
		{"bad mnemonic checksum", `{"secretPhrase":"` + strings.Replace(v.DevMnemonic, "walk", "fit", 1) + `"}`, fractal.ErrInvalid, "BIP39"},
		{"seed wrong length", `{"secretSeed":"0x0102"}`, fractal.ErrInvalid, "want 32 or 64"},
		{"field of wrong type", `{"ss58Address":42}`, fractal.ErrInvalid, "JSON"},
		{"nacl encrypted", "$NACL" + strings.Repeat("x", 60), wallet.ErrPasswordRequired, "encrypted"},
		{"ansible vault", "$ANSIBLE_VAULT;1.1;AES256\n3132", wallet.ErrUnsupportedEncryption, "Ansible"},
		{"fernet", "gAAAAABkxyz", wallet.ErrUnsupportedEncryption, "Fernet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := wallet.ParseKeyfile([]byte(tc.data))
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, %v; want error %v", k, err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("error %q does not mention %q", err, tc.mention)
			}
		})
	}
}

func TestDecryptRefusesOldFormats(t *testing.T) {
	for _, tc := range []struct{ name, data, mention string }{
		{"ansible vault", "$ANSIBLE_VAULT;1.1;AES256\n3132", "Ansible Vault"},
		{"fernet", "gAAAAABkxyz", "Fernet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := wallet.Decrypt([]byte(tc.data), []byte("pw"))
			if !errors.Is(err, wallet.ErrUnsupportedEncryption) || !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("got %v, want ErrUnsupportedEncryption mentioning %q", err, tc.mention)
			}
		})
	}
	if _, err := wallet.Decrypt([]byte("$NACL"+strings.Repeat("x", 60)), nil); !errors.Is(err, wallet.ErrPasswordRequired) {
		t.Errorf("no password: got %v, want ErrPasswordRequired", err)
	}
	if _, err := wallet.Decrypt([]byte("$NACLshort"), []byte("pw")); !errors.Is(err, fractal.ErrInvalid) {
		t.Errorf("truncated: got %v, want ErrInvalid", err)
	}
}
