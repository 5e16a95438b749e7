package gateway_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/fractal-grid/fractal/refengine"
)

// openaiNodeModules is where scripts/test installs the openai npm package:
// $FRACTAL_OPENAI_NODE, else .cache/openai-node/node_modules.
func openaiNodeModules(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("FRACTAL_OPENAI_NODE")
	if dir == "" {
		dir = filepath.Join("..", ".cache", "openai-node", "node_modules")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "openai", "package.json")); err != nil {
		t.Fatalf("the openai npm package is missing (%v): run scripts/test, which installs it", err)
	}
	return dir
}

// TestOpenAINodeSDK drives the gateway with the official npm SDK, unchanged:
// models.list and models.retrieve, create (sent as multipart), retrieve
// until completed, list, downloadContent, delete, and an APIError for a
// size not served.
func TestOpenAINodeSDK(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is missing: the OpenAI SDK test needs it")
	}
	modules := openaiNodeModules(t)
	dir := t.TempDir()
	script, err := os.ReadFile(filepath.Join("testdata", "openai", "sdk.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	// Node resolves imports beside the script: put the package there.
	if err := os.WriteFile(filepath.Join(dir, "sdk.mjs"), script, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(modules, filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	e := start(t, refengine.New())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(dir, "sdk.mjs"), e.url+"/v1", e.key, refengine.New().Profile().String())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the SDK script failed: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
