package tlock

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// timelockJSModules is $FRACTAL_TIMELOCKJS, the node_modules directory that
// scripts/test installs @ideallabs/timelock.js 1.0.1 into, or the same place
// under the repository when that is unset.
func timelockJSModules(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("FRACTAL_TIMELOCKJS")
	if dir == "" {
		dir = filepath.Join("..", ".cache", "timelockjs", "node_modules")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		tb.Fatal(err)
	}
	pkg := filepath.Join(dir, "@ideallabs", "timelock.js", "package.json")
	if _, err := os.Stat(pkg); err != nil {
		tb.Fatalf("@ideallabs/timelock.js is not installed (scripts/test installs it and sets FRACTAL_TIMELOCKJS): %v", err)
	}
	return dir
}

type jsDecrypt struct {
	Ciphertext string `json:"ciphertext"`
	Signature  string `json:"signature"`
}

type jsEncrypt struct {
	Round     uint64 `json:"round"`
	Plaintext string `json:"plaintext"`
	ESK       string `json:"esk"`
	PublicKey string `json:"public_key"`
}

type jsResult struct {
	Plaintext  string `json:"plaintext"`
	Ciphertext string `json:"ciphertext"`
	Error      string `json:"error"`
}

type jsRequest struct {
	Decrypt []jsDecrypt `json:"decrypt"`
	Encrypt []jsEncrypt `json:"encrypt"`
}

type jsResponse struct {
	Decrypt []jsResult `json:"decrypt"`
	Encrypt []jsResult `json:"encrypt"`
}

// runTimelockJS sends req to testdata/timelockjs.mjs under node.
func runTimelockJS(tb testing.TB, req jsRequest) jsResponse {
	tb.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		tb.Fatalf("node is needed for the timelock.js check: %v", err)
	}
	in, err := json.Marshal(req)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(node, filepath.Join("testdata", "timelockjs.mjs"), timelockJSModules(tb))
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("timelockjs.mjs: %v\n%s", err, stderr.String())
	}
	var resp jsResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		tb.Fatalf("timelockjs.mjs output %q: %v", out, err)
	}
	if len(resp.Decrypt) != len(req.Decrypt) || len(resp.Encrypt) != len(req.Encrypt) {
		tb.Fatalf("timelockjs.mjs answered %d/%d, want %d/%d",
			len(resp.Decrypt), len(resp.Encrypt), len(req.Decrypt), len(req.Encrypt))
	}
	return resp
}

// TestTimelockJS checks the format against another implementation both ways
// with the real quicknet key and round-1000 signature: timelock.js decrypts
// what Encrypt seals, and Decrypt opens what timelock.js seals.
func TestTimelockJS(t *testing.T) {
	v := MustVector(t)
	pk := MustHex(t, QuicknetPublicKey)
	rng := rand.NewChaCha8([32]byte{'j', 's'})
	commit, err := WeightsPayload{
		Hotkey: bytes.Repeat([]byte{9}, 32), UIDs: []uint16{0, 1, 2}, Values: []uint16{65535, 1, 300}, VersionKey: 7,
	}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	plaintexts := map[string][]byte{
		"empty":  {},
		"byte":   {0x42},
		"commit": commit,
		"large":  bytes.Repeat([]byte("fractal "), 4096),
	}
	names := []string{"empty", "byte", "commit", "large"}

	var req jsRequest
	for _, name := range names {
		ct, err := Encrypt(pk, v.Round, plaintexts[name], rng)
		if err != nil {
			t.Fatalf("encrypt %s: %v", name, err)
		}
		req.Decrypt = append(req.Decrypt, jsDecrypt{hex.EncodeToString(ct), v.Signature})
		req.Encrypt = append(req.Encrypt, jsEncrypt{v.Round, hex.EncodeToString(plaintexts[name]), hex.EncodeToString(bytes.Repeat([]byte{byte(len(name))}, 32)), QuicknetPublicKey})
	}
	// Sealed for the next round, the round-1000 signature must not open it.
	later, err := Encrypt(pk, v.Round+1, commit, rng)
	if err != nil {
		t.Fatal(err)
	}
	req.Decrypt = append(req.Decrypt, jsDecrypt{hex.EncodeToString(later), v.Signature})

	resp := runTimelockJS(t, req)
	for i, name := range names {
		t.Run("js decrypts go "+name, func(t *testing.T) {
			got := resp.Decrypt[i]
			if got.Error != "" {
				t.Fatalf("timelock.js: %s", got.Error)
			}
			if want := hex.EncodeToString(plaintexts[name]); got.Plaintext != want {
				t.Fatalf("got plaintext %.64s…, want %.64s…", got.Plaintext, want)
			}
		})
		t.Run("go decrypts js "+name, func(t *testing.T) {
			got := resp.Encrypt[i]
			if got.Error != "" {
				t.Fatalf("timelock.js: %s", got.Error)
			}
			pt, err := Decrypt(MustHex(t, got.Ciphertext), MustHex(t, v.Signature))
			if err != nil {
				t.Fatalf("decrypt: %v", err)
			}
			if !bytes.Equal(pt, plaintexts[name]) {
				t.Fatalf("got plaintext %x, want %x", pt, plaintexts[name])
			}
		})
	}
	if last := resp.Decrypt[len(names)]; last.Error == "" {
		t.Errorf("timelock.js opened a round-%d ciphertext with the round-%d signature: got %s, want an error",
			v.Round+1, v.Round, last.Plaintext)
	}
}
