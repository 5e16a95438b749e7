package chaos_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"
)

// Environment of a child process: its role and its arguments as JSON.
const (
	roleEnv = "FRACTAL_CHAOS_ROLE"
	argsEnv = "FRACTAL_CHAOS_ARGS"
)

// roleArgs configures a child process; each role reads its own fields.
type roleArgs struct {
	// nats
	Name        string   `json:"name,omitempty"`
	Port        int      `json:"port,omitempty"`
	ClusterPort int      `json:"cluster_port,omitempty"`
	Routes      []string `json:"routes,omitempty"`
	StoreDir    string   `json:"store_dir,omitempty"`
	// miner and gateway
	ChainURL  string        `json:"chain_url,omitempty"`
	Hotkey    string        `json:"hotkey,omitempty"` // secret URI of a development key
	StepDelay time.Duration `json:"step_delay,omitempty"`
	// gateway
	NATS    string        `json:"nats,omitempty"`
	Replica string        `json:"replica,omitempty"`
	AckWait time.Duration `json:"ack_wait,omitempty"`
	// AttemptTimeout bounds one miner attempt (0: 10s).
	AttemptTimeout time.Duration `json:"attempt_timeout,omitempty"`
}

// TestMain runs a role instead of the tests when the environment names one:
// the tests start this binary again as NATS servers, miners and gateways.
func TestMain(m *testing.M) {
	role := os.Getenv(roleEnv)
	if role == "" {
		os.Exit(m.Run())
	}
	var a roleArgs
	if err := json.Unmarshal([]byte(os.Getenv(argsEnv)), &a); err != nil {
		fmt.Fprintln(os.Stderr, "chaos child: bad arguments:", err)
		os.Exit(2)
	}
	// The child lives until its stdin closes: the test ended or died.
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		bufio.NewReader(os.Stdin).ReadByte()
		cancel()
	}()
	if err := runRole(ctx, role, a); err != nil {
		fmt.Fprintf(os.Stderr, "chaos child %s: %v\n", role, err)
		os.Exit(1)
	}
	os.Exit(0)
}

func runRole(ctx context.Context, role string, a roleArgs) error {
	switch role {
	case "nats":
		return runNATS(ctx, a)
	case "miner":
		return runMiner(ctx, a)
	case "gateway":
		return runGateway(ctx, a)
	}
	return fmt.Errorf("unknown role %q", role)
}

// ready tells the parent the child serves, and where.
func ready(info string) { fmt.Printf("ready %s\n", info) }
