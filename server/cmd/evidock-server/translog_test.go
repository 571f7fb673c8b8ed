package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"evidock/server/translog"
)

func TestLogKeygen(t *testing.T) {
	dir := t.TempDir()
	priv, pub := filepath.Join(dir, "keys", "log.key"), filepath.Join(dir, "keys", "log.pub")
	code, stdout, stderr := runMain(context.Background(), "log", "keygen", "--origin", "evidock.bureau.example/registry",
		"--private-key-file", priv, "--public-key-file", pub)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	skey, err := translog.ReadSigningKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	vkey, err := translog.ReadVerifierKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := translog.VerifierKey(skey); got != vkey || !strings.HasPrefix(vkey, "evidock.bureau.example/registry+") {
		t.Fatalf("the public key %q is not the private key's (%q)", vkey, got)
	}
	if runtime.GOOS != "windows" {
		if info, _ := os.Stat(priv); info.Mode().Perm() != 0o600 {
			t.Errorf("private key mode %v; want 0600", info.Mode().Perm())
		}
	}
	// The public key is shown; the private key never is.
	if !strings.Contains(stdout, vkey) || strings.Contains(stdout+stderr, skey) {
		t.Fatalf("output shows the private key or lacks the public one:\n%s%s", stdout, stderr)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"log"}, "use 'log keygen'"},
		{[]string{"log", "keygen", "--private-key-file", filepath.Join(dir, "k")}, "--origin is required"},
		{[]string{"log", "keygen", "--origin", "o"}, "--private-key-file is required"},
		{[]string{"log", "keygen", "--origin", "has space", "--private-key-file", filepath.Join(dir, "k")}, "--origin"},
		{[]string{"log", "keygen", "--origin", "o", "--private-key-file", priv}, "exists already"},
	} {
		if code, _, stderr := runMain(context.Background(), tt.args...); code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
	if got, _ := translog.ReadSigningKey(priv); got != skey {
		t.Fatal("keygen overwrote an existing key")
	}
	// Without --public-key-file the public key goes beside the private.
	other := filepath.Join(dir, "other.key")
	if code, _, stderr := runMain(context.Background(), "log", "keygen", "--origin", "o", "--private-key-file", other); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, err := translog.ReadVerifierKey(other + ".pub"); err != nil {
		t.Fatal(err)
	}
}

// TestServeLogKeyProblems shows that serve refuses to start, with a usage
// error naming the fix, when the log's key is missing (and not to be
// created), is readable by others, or belongs to another origin.
func TestServeLogKeyProblems(t *testing.T) {
	dir := t.TempDir()
	priv := filepath.Join(dir, "log.key")
	if code, _, stderr := runMain(context.Background(), "log", "keygen", "--origin", "evidock.bureau.example/registry", "--private-key-file", priv); code != 0 {
		t.Fatal(stderr)
	}
	config := func(log string) string {
		return writeFile(t, "server.yaml", fmt.Sprintf(`
listen: 127.0.0.1:0
database:
  path: %s
s3:
  endpoint: http://127.0.0.1:1
  access_key_id: a
  secret_access_key_file: %s
log:
%s`, filepath.Join(dir, "evidock.db"), writeFile(t, "secret", "b\n"), log))
	}
	cases := []struct{ name, log, want string }{
		{"missing", "  signing_key_file: " + filepath.Join(dir, "absent.key") + "\n  create_key: false\n", "log keygen"},
		{"other origin", "  origin: elsewhere.example/log\n  signing_key_file: " + priv + "\n", `the key in ` + priv + ` is for "evidock.bureau.example/registry"`},
	}
	if runtime.GOOS != "windows" {
		loose := filepath.Join(dir, "loose.key")
		b, _ := os.ReadFile(priv)
		os.WriteFile(loose, b, 0o644)
		cases = append(cases, struct{ name, log, want string }{"readable by others", "  signing_key_file: " + loose + "\n", "chmod 600"})
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runMain(context.Background(), "serve", "--config", config(tt.log))
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, %s; want 2 and %q", code, stderr, tt.want)
			}
			if b, _ := os.ReadFile(priv); strings.Contains(stderr, strings.TrimSpace(string(b))) {
				t.Fatal("the error shows the private key")
			}
		})
	}
}
