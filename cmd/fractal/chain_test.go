package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/devchain"
	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/wallet"
)

// chainCLI runs the fractal command line and returns its exit status and
// output.
func chainCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(t.Context(), args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// startDevchain runs 'fractal devchain' on a free loopback port until the
// test ends and returns its URL.
func startDevchain(t *testing.T, dataDir string) string {
	t.Helper()
	url, stop := runDevchainCmd(t, dataDir, "127.0.0.1:0")
	t.Cleanup(stop)
	return url
}

// runDevchainCmd starts 'fractal devchain' and returns its URL and a
// function that stops it and waits.
func runDevchainCmd(t *testing.T, dataDir, addr string) (string, func()) {
	t.Helper()
	c := NewDevchainCommand(slog.New(slog.NewTextHandler(testenv.LogWriter(t), nil)))
	if err := c.ParseFlags([]string{"--addr", addr, "--data", dataDir, "--block-time", "100ms"}, testenv.LogWriter(t)); err != nil {
		t.Fatal(err)
	}
	if err := c.Open(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	stop := func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("devchain run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("devchain did not stop within 10 s")
		}
	}
	return "http://" + c.Listener().Addr().String(), stop
}

func TestChainCLI(t *testing.T) {
	url := startDevchain(t, t.TempDir())
	root := t.TempDir()
	w, err := wallet.CreateDev(root, "miner", "hot")
	if err != nil {
		t.Fatal(err)
	}
	hot, err := w.HotkeyPub("hot")
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"chain", "subnet", "create", "--chain", url}, "2\n"},
		{[]string{"chain", "register", "--chain", url, "--netuid", "2", "--name", "miner", "--hotkey", "hot", "--wallet-path", root}, "as uid 0"},
		{[]string{"chain", "stake", "--chain", url, "--netuid", "2", "--hotkey", hot, "--amount", "1000.5"}, "total 1000.5 TAO, validator permit yes"},
		{[]string{"chain", "stake", "--chain", url, "--netuid", "0", "--hotkey", hot, "--amount", "100"}, "staked 100 TAO to " + hot + " on the root network"},
		{[]string{"chain", "subnet", "set", "--chain", url, "--netuid", "2", "--tempo", "7"}, "tempo=7"},
		{[]string{"chain", "subnet", "list", "--chain", url}, "tempo=7"},
		{[]string{"chain", "metagraph", "--chain", url, "--netuid", "2"}, hot},
		{[]string{"chain", "metagraph", "--chain", url, "--netuid", "2"}, "ALPHA"},
	}
	for _, s := range steps {
		code, out, errOut := chainCLI(t, s.args...)
		if code != 0 || !strings.Contains(out, s.want) {
			t.Fatalf("fractal %s: got status %d, output %q (stderr %q), want 0 and %q", strings.Join(s.args, " "), code, out, errOut, s.want)
		}
	}
	code, out, _ := chainCLI(t, "chain", "metagraph", "--chain", url, "--netuid", "2", "--json")
	var m fractal.Metagraph
	if err := json.Unmarshal([]byte(out), &m); err != nil || code != 0 {
		t.Fatalf("metagraph --json: status %d, %v in %q", code, err, out)
	}
	n, ok := m.ByHotkey(hot)
	// 1000.5 TAO of alpha + the devchain's default TaoWeight 0.18 × 100 TAO
	// on root, rounded down as a fraction of u64::MAX: 1018.5 TAO less a rao.
	if !ok || n.AlphaStake != 1000_500_000_000 || n.RootStake != 100_000_000_000 || n.Stake != 1018_499_999_999 ||
		!n.ValidatorPermit || m.Tempo != 7 {
		t.Errorf("metagraph: got %+v (tempo %d), want %s with 1000.5 TAO alpha + 0.18 × 100 TAO root, a permit and tempo 7", n, m.Tempo, hot)
	}
}

func TestChainCLIErrors(t *testing.T) {
	url := startDevchain(t, "")
	down := "http://127.0.0.1:1"
	cases := []struct {
		name   string
		args   []string
		status int
		want   string
	}{
		{"MalformedSS58", []string{"chain", "stake", "--chain", url, "--hotkey", "5Bogus", "--amount", "1"}, 2, "ss58 address"},
		{"WrongPrefix", []string{"chain", "stake", "--chain", url, "--hotkey", "15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5", "--amount", "1"}, 2, "network prefix 0"},
		{"BadAmount", []string{"chain", "stake", "--chain", url, "--hotkey", "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY", "--amount", "-3"}, 2, "TAO amount"},
		{"UnknownNetUID", []string{"chain", "metagraph", "--chain", url, "--netuid", "77"}, 1, "subnet 77 does not exist"},
		{"NetUIDRange", []string{"chain", "metagraph", "--chain", url, "--netuid", "70000"}, 2, "netuid"},
		{"Unreachable", []string{"chain", "block", "--chain", down}, 1, "unreachable"},
		{"BadScheme", []string{"chain", "block", "--chain", "ftp://x"}, 2, "unknown scheme"},
		{"SubtensorUnreachable", []string{"chain", "block", "--chain", "ws://127.0.0.1:1"}, 1, "ws://127.0.0.1:1 is unreachable"},
		{"NoWallet", []string{"chain", "register", "--chain", url, "--name", "nope", "--wallet-path", t.TempDir()}, 1, "wallet \"nope\" not found"},
		{"UnknownCommand", []string{"chain", "frobnicate"}, 2, "unknown command"},
		{"BlockTimeTooShort", []string{"devchain", "--block-time", "10ms"}, 2, "block_time"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := chainCLI(t, tc.args...)
			if code != tc.status || !strings.Contains(errOut, tc.want) {
				t.Errorf("got status %d, stderr %q; want %d and %q", code, errOut, tc.status, tc.want)
			}
		})
	}
}

// TestDevchainRestart stops the devchain and starts it again on the same
// data directory: registrations and blocks survive.
func TestDevchainRestart(t *testing.T) {
	dir, alice := t.TempDir(), "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
	url, stop := runDevchainCmd(t, dir, "127.0.0.1:0")
	root := t.TempDir()
	if _, err := wallet.CreateDev(root, "w", "h"); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := chainCLI(t, "chain", "register", "--chain", url, "--name", "w", "--hotkey", "h", "--wallet-path", root); code != 0 {
		t.Fatalf("register: status %d: %s", code, errOut)
	}
	_, before, _ := chainCLI(t, "chain", "advance", "--chain", url, "--blocks", "3")
	stop()
	url, stop = runDevchainCmd(t, dir, "127.0.0.1:0")
	defer stop()
	code, out, errOut := chainCLI(t, "chain", "metagraph", "--chain", url, "--json")
	var m fractal.Metagraph
	if err := json.Unmarshal([]byte(out), &m); code != 0 || err != nil {
		t.Fatalf("metagraph after restart: status %d, %v: %s", code, err, errOut)
	}
	var b uint64
	fmt.Sscan(before, &b)
	if len(m.Neurons) != 1 || m.Block < b || b < 3 {
		t.Errorf("after restart: got %d neurons at block %d, want 1 at block >= %d", len(m.Neurons), m.Block, b)
	}
	if code, _, errOut := chainCLI(t, "chain", "stake", "--chain", url, "--hotkey", alice, "--amount", "1"); code != 1 || !strings.Contains(errOut, "not registered") {
		t.Errorf("stake to an unregistered hotkey: status %d, %q; want 1 and 'not registered'", code, errOut)
	}
}

func TestChainWeightsCLI(t *testing.T) {
	url := startDevchain(t, t.TempDir())
	root := t.TempDir()
	w, err := wallet.CreateDev(root, "val", "hot")
	if err != nil {
		t.Fatal(err)
	}
	key, err := w.Hotkey("hot")
	if err != nil {
		t.Fatal(err)
	}
	run := func(want string, args ...string) string {
		t.Helper()
		code, out, errOut := chainCLI(t, args...)
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("fractal %s: got status %d, output %q (stderr %q), want 0 and %q", strings.Join(args, " "), code, out, errOut, want)
		}
		return out
	}
	run("as uid 0", "chain", "register", "--chain", url, "--netuid", "1", "--name", "val", "--hotkey", "hot", "--wallet-path", root)
	run("validator permit yes", "chain", "stake", "--chain", url, "--netuid", "1", "--hotkey", key.SS58(), "--amount", "100")
	run("commit_reveal=true", "chain", "subnet", "set", "--chain", url, "--netuid", "1", "--tempo", "1000", "--weights-rate-limit", "0")
	cl := devchain.NewClient(url)
	defer cl.Close()
	salt := []uint16{1, 2, 3}
	if err := cl.CommitWeights(t.Context(), key, 1, fractal.CommitHash(key.PublicKey(), 1, []uint16{0}, []uint16{65535}, salt, 0)); err != nil {
		t.Fatal(err)
	}
	out := run("1 pending commits", "chain", "weights", "--chain", url, "--netuid", "1")
	if !strings.Contains(out, key.SS58()) || !strings.Contains(out, "hash") || !strings.Contains(out, "commit-reveal on") {
		t.Errorf("weights with a pending hash commit: %q", out)
	}
	// One tempo from anywhere in the commit's epoch lands in the next one,
	// its reveal epoch; blocks on the timer take 100 s to end it.
	run("", "chain", "advance", "--chain", url, "--blocks", "1000")
	if err := cl.RevealWeights(t.Context(), key, 1, []uint16{0}, []uint16{65535}, salt, 0); err != nil {
		t.Fatal(err)
	}
	out = run("1 validators with weights", "chain", "weights", "--chain", url, "--netuid", "1")
	if !strings.Contains(out, "0=1.000") || !strings.Contains(out, "0 pending commits") {
		t.Errorf("weights after the reveal: %q", out)
	}
	code, js, _ := chainCLI(t, "chain", "weights", "--chain", url, "--netuid", "1", "--json")
	var view struct {
		Policy  fractal.WeightsPolicy `json:"policy"`
		Weights fractal.SubnetWeights `json:"weights"`
	}
	if err := json.Unmarshal([]byte(js), &view); err != nil || code != 0 || !view.Policy.CommitReveal || len(view.Weights.Rows) != 1 {
		t.Errorf("weights --json: status %d, %v, %+v", code, err, view)
	}
}

func TestWriteMetagraphStakeParts(t *testing.T) {
	m := &fractal.Metagraph{NetUID: 1, Tempo: 360, Neurons: []fractal.Neuron{
		{UID: 0, Hotkey: "5Hot", Coldkey: "5Cold", Stake: 550 * fractal.RaoPerTAO, AlphaStake: 300 * fractal.RaoPerTAO, RootStake: 1000 * fractal.RaoPerTAO},
	}}
	var b bytes.Buffer
	if err := writeMetagraph(&b, m); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); !strings.Contains(out, "ALPHA") || !strings.Contains(out, "550  ") || !strings.Contains(out, "300  ") || !strings.Contains(out, "1000  ") {
		t.Errorf("dynamic-TAO metagraph: got %q, want stake 550, alpha 300 and root 1000 columns", out)
	}
	m.Neurons[0].AlphaStake, m.Neurons[0].RootStake = 0, 0
	b.Reset()
	if err := writeMetagraph(&b, m); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "ALPHA") {
		t.Errorf("metagraph without stake parts shows an ALPHA column: %q", b.String())
	}
}
