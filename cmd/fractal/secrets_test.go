package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/devchain"
	"github.com/fractal-grid/fractal/sr25519"
)

// capturedOutput is a buffer written by a running command and read by the test.
type capturedOutput struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *capturedOutput) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *capturedOutput) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestNoSecretInLogs runs the operator's flows through the command line —
// wallets, an API key, a miner and a validator serving the API, good and
// bad API requests — and scans everything the daemons wrote, and every
// command's log output, for the mnemonics, seeds, private keys and API keys
// involved. Only the two commands whose job is to show a new secret once
// (wallet new, gateway keys create) may print it, on stdout.
func TestNoSecretInLogs(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	walletRoot, dataDir := t.TempDir(), t.TempDir()
	var logs []*capturedOutput // stderr of every command, and the daemons' stdout
	run := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		errOut := &capturedOutput{}
		logs = append(logs, errOut)
		if code := Run(ctx, args, strings.NewReader(""), &out, errOut); code != 0 {
			t.Fatalf("fractal %v: exit %d: %s", args, code, errOut)
		}
		return out.String()
	}

	var secrets []string
	hotkeys := map[string]string{} // wallet name → hotkey SS58
	for _, name := range []string{"val", "mnr"} {
		out := run("wallet", "new", "--wallet-path", walletRoot, "--name", name, "--hotkey", "default", "--no-password")
		for _, m := range regexp.MustCompile(`mnemonic: (.+)`).FindAllStringSubmatch(out, -1) {
			secrets = append(secrets, m[1])
		}
		hotkeys[name] = regexp.MustCompile(`hotkey "default" (\S+)`).FindStringSubmatch(out)[1]
		secrets = append(secrets, keyFileSecrets(t, filepath.Join(walletRoot, name, "hotkeys", "default"))...)
		secrets = append(secrets, keyFileSecrets(t, filepath.Join(walletRoot, name, "coldkey"))...)
	}
	if len(secrets) < 8 {
		t.Fatalf("found %d secrets in the new wallets, want mnemonics, seeds and private keys of four keys", len(secrets))
	}
	out := run("gateway", "keys", "create", "--data", dataDir, "--name", "app")
	apiKey := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
	if !strings.HasPrefix(apiKey, "fk_") {
		t.Fatalf("no API key in %q", out)
	}
	parts := strings.SplitN(apiKey, "_", 3)
	wrongKey := parts[0] + "_" + parts[1] + "_" + strings.Repeat("z", len(parts[2]))
	secrets = append(secrets, apiKey, parts[2], wrongKey, strings.Repeat("z", len(parts[2])))

	chainURL := serveSecretsChain(t, hotkeys["val"], hotkeys["mnr"])
	wallet := []string{"--chain", chainURL, "--wallet-path", walletRoot, "--hotkey", "default"}
	minerOut, apiOut := &capturedOutput{}, &capturedOutput{}
	daemons := sync.WaitGroup{}
	daemon := func(stdout *capturedOutput, args ...string) {
		errOut := &capturedOutput{}
		logs = append(logs, errOut, stdout)
		daemons.Add(1)
		go func() {
			defer daemons.Done()
			if code := Run(ctx, args, strings.NewReader(""), stdout, errOut); code != 130 && code != 0 {
				t.Errorf("fractal %v: exit %d: %s", args, code, errOut)
			}
		}()
	}
	daemon(minerOut, append([]string{"miner", "--name", "mnr", "--addr", "127.0.0.1:0"}, wallet...)...)
	waitForFlow(t, "the miner", func() bool { return strings.Contains(minerOut.String(), "serving on") })
	daemon(apiOut, append([]string{"validator", "--name", "val", "--data", dataDir, "--api-addr", "127.0.0.1:0",
		"--allow-private-axons", "--round", "300ms"}, wallet...)...)
	var api string
	waitForFlow(t, "the video API", func() bool {
		m := regexp.MustCompile(`video API on (\S+)`).FindStringSubmatch(apiOut.String())
		if m != nil {
			api = m[1]
		}
		return m != nil
	})

	// A user's job, with the right key, and attempts with wrong ones.
	status, body := apiRequest(t, api, apiKey, `{"prompt": "a red ball", "size": "64x64", "frames": 4, "steps": 6}`)
	if status != http.StatusAccepted {
		t.Fatalf("create: status %d: %s", status, body)
	}
	var v struct{ ID, Status string }
	json.Unmarshal(body, &v)
	for _, k := range []string{wrongKey, apiKey + "x", "fk_" + parts[2]} {
		if status, _ := apiRequest(t, api, k, `{"prompt": "x"}`); status != http.StatusUnauthorized {
			t.Errorf("wrong key: status %d, want 401", status)
		}
	}
	waitForFlow(t, "the job to complete", func() bool {
		_, b := apiRequest(t, api, apiKey, "/v1/videos/"+v.ID)
		json.Unmarshal(b, &v)
		return v.Status == "completed"
	})
	cancel()
	daemons.Wait()

	var all strings.Builder
	for _, l := range logs {
		all.WriteString(l.String())
	}
	logText := all.String()
	for _, want := range []string{"miner serving", "job accepted"} {
		if !strings.Contains(logText, want) {
			t.Errorf("logs lack %q: the capture missed them", want)
		}
	}
	for _, s := range secrets {
		if strings.Contains(logText, s) {
			t.Errorf("a secret (%d chars, starting %.6q) appears in the logs", len(s), s)
		}
	}
	t.Logf("scanned %d bytes of output for %d secrets", len(logText), len(secrets))
}

// keyfileSecrets returns the secret fields of a btcli key file, with and
// without their 0x prefix.
func keyFileSecrets(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f map[string]any
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []string
	for _, field := range []string{"secretPhrase", "secretSeed", "privateKey"} {
		if s, ok := f[field].(string); ok && s != "" {
			out = append(out, s, strings.TrimPrefix(s, "0x"))
		}
	}
	return out
}

// serveTestChain serves a devchain on loopback with the validator staked
// (so it holds a permit) and the miner registered.
func serveSecretsChain(t *testing.T, validator, miner string) string {
	t.Helper()
	ctx := context.Background()
	cfg := devchain.DefaultConfig()
	cfg.BlockTime = 200 * time.Millisecond
	chain := devchain.New(cfg)
	if err := chain.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chain.Close() })
	alice, err := sr25519.FromURI("//Alice")
	if err != nil {
		t.Fatal(err)
	}
	for _, hk := range []string{validator, miner} {
		if err := chain.BurnedRegister(ctx, alice, 1, hk); err != nil {
			t.Fatal(err)
		}
	}
	if err := chain.AddStake(ctx, alice, 1, validator, 10_000*fractal.RaoPerTAO); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	api := devchain.NewServer(chain)
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { api.Close(); srv.Close() })
	return "http://" + ln.Addr().String()
}

// apiCall POSTs body to /v1/videos, or GETs it when it is a path.
func apiRequest(t *testing.T, api, key, body string) (int, []byte) {
	t.Helper()
	method, path := http.MethodPost, "/v1/videos"
	if strings.HasPrefix(body, "/") {
		method, path, body = http.MethodGet, body, ""
	}
	req, _ := http.NewRequest(method, api+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.Bytes()
}

func waitForFlow(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
