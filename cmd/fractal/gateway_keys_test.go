package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
)

func TestGatewayKeys(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	code, out, errOut := runCLI(ctx, "gateway", "keys", "create", "--data", data, "--name", "shop", "--rate", "3")
	if code != 0 {
		t.Fatalf("create: exit %d: %s", code, errOut)
	}
	key := regexp.MustCompile(`fk_[a-z0-9]+_[a-z0-9]+`).FindString(out)
	id := regexp.MustCompile(`key ([a-z0-9]+) \(shop\)`).FindStringSubmatch(out)
	if key == "" || id == nil || !strings.HasPrefix(key, "fk_"+id[1]+"_") {
		t.Fatalf("create printed %q, want the key and its id", out)
	}
	code, out, _ = runCLI(ctx, "gateway", "keys", "list", "--data", data)
	if code != 0 || !strings.Contains(out, id[1]) || !strings.Contains(out, "shop") || strings.Contains(out, key) {
		t.Errorf("list: exit %d: %q, want the key's id and name but never the key", code, out)
	}
	if code, _, errOut := runCLI(ctx, "gateway", "keys", "revoke", "--data", data, id[1]); code != 0 {
		t.Fatalf("revoke: exit %d: %s", code, errOut)
	}
	if _, out, _ := runCLI(ctx, "gateway", "keys", "list", "--data", data); !strings.Contains(out, "true") {
		t.Errorf("list after revoke: %q, want it marked revoked", out)
	}
	for _, args := range [][]string{
		{"gateway", "keys"},
		{"gateway", "keys", "create", "--data", data},
		{"gateway", "keys", "revoke", "--data", data},
		{"gateway", "keys", "rotate", "--data", data},
	} {
		if code, _, _ := runCLI(ctx, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	if code, _, errOut := runCLI(ctx, "gateway", "keys", "revoke", "--data", data, "nosuchkey"); code == 0 || !strings.Contains(errOut, "not found") {
		t.Errorf("revoke unknown: exit %d %q, want a not-found error", code, errOut)
	}
}
