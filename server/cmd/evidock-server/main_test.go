package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"evidock"
	"evidock/internal/s3test"
	evhttp "evidock/server/http"
	"evidock/server/sqlite"
	"evidock/server/storetest"
	"evidock/server/translog"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runMain runs the program with args and returns its exit code and output.
func runMain(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	var out, errOut syncBuffer
	m := NewMain()
	m.Stdout, m.Stderr = &out, &errOut
	code = run(ctx, args, m)
	return code, out.String(), errOut.String()
}

func TestExitCodes(t *testing.T) {
	cfg := writeFile(t, "server.yaml", "database:\n  path: "+filepath.Join(t.TempDir(), "e.db")+"\n")
	bad := writeFile(t, "bad.yaml", "databse:\n  path: x\n")
	for _, tt := range []struct {
		args []string
		code int
		out  string // in stdout or stderr
	}{
		{nil, 2, "no command given"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"help"}, 0, "Exit codes:"},
		{[]string{"serve", "--help"}, 0, "Exit codes:"},
		{[]string{"version"}, 0, "evidock-server "},
		{[]string{"version", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"serve", "--nope"}, 2, "flag provided but not defined"},
		{[]string{"serve", "--config", bad}, 2, `unknown key "databse"`},
		{[]string{"station"}, 2, "use 'station add'"},
		{[]string{"station", "add", "--config", cfg, "--token-file", "t"}, 2, "--id is required"},
		{[]string{"station", "add", "--config", cfg, "--id", "dock-01"}, 2, "--token-file is required"},
		{[]string{"station", "add", "--config", cfg, "--id", "bad id", "--token-file", filepath.Join(t.TempDir(), "t")}, 2, "station: id"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := runMain(context.Background(), tt.args...)
			if code != tt.code || !strings.Contains(stdout+stderr, tt.out) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, stdout, stderr, tt.code, tt.out)
			}
		})
	}
}

func TestStationAdd(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "var", "server", "evidock.db")
	cfg := writeFile(t, "server.yaml", "database:\n  path: "+dbPath+"\n")
	tokenFile := filepath.Join(dir, "secrets", "dock-01.token")

	code, stdout, stderr := runMain(context.Background(), "station", "add", "--config", cfg, "--id", "dock-01", "--name", "一楼工作站", "--token-file", tokenFile)
	if code != 0 {
		t.Fatalf("station add: exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(b))
	if !strings.HasPrefix(token, "evd_st_") {
		t.Fatalf("token file holds %q", b)
	}
	if strings.Contains(stdout+stderr, token) {
		t.Fatal("station add printed the token")
	}
	if !strings.Contains(stdout, tokenFile) {
		t.Errorf("output %q does not say where the token is", stdout)
	}
	if fi, _ := os.Stat(tokenFile); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v; want 0600", fi.Mode().Perm())
	}

	db, err := sqlite.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	st, err := db.AuthenticateStation(context.Background(), token)
	db.Close()
	if err != nil || st.ID != "dock-01" || st.Name != "一楼工作站" {
		t.Fatalf("token authenticates as %+v, %v", st, err)
	}

	// An existing token file is never overwritten.
	code, _, stderr = runMain(context.Background(), "station", "add", "--config", cfg, "--id", "dock-02", "--token-file", tokenFile)
	if code != 1 || !strings.Contains(stderr, "exists already") {
		t.Fatalf("station add over an existing file: exit %d, %q", code, stderr)
	}
	if b2, _ := os.ReadFile(tokenFile); !bytes.Equal(b, b2) {
		t.Fatal("the token file was changed")
	}

	// A taken ID leaves no token file behind.
	other := filepath.Join(dir, "secrets", "other.token")
	code, _, stderr = runMain(context.Background(), "station", "add", "--config", cfg, "--id", "dock-01", "--token-file", other)
	if code != 2 || !strings.Contains(stderr, "exists already") {
		t.Fatalf("station add of a taken id: exit %d, %q", code, stderr)
	}
	if _, err := os.Stat(other); !os.IsNotExist(err) {
		t.Fatalf("a token file was left for a station that was not created: %v", err)
	}
}

// TestServe runs the server as an operator would, against a real
// S3-compatible store, registers a clip through it and stops it with a
// cancelled context, as SIGTERM does.
func TestServe(t *testing.T) {
	testServe(t, fmt.Sprintf("database:\n  driver: sqlite\n  path: %s\n", filepath.Join(t.TempDir(), "evidock.db")))
}

// testServe is TestServe with the database settings given as YAML, so that
// it runs on every driver. It returns the server's log.
func testServe(t *testing.T, database string) string {
	s3srv := s3test.Start(t)
	dir := t.TempDir()
	secret := writeFile(t, "s3-secret", s3srv.SecretKey+"\n")
	t.Setenv("EVIDOCK_S3_ACCESS_KEY_ID", "")
	t.Setenv("EVIDOCK_S3_SECRET_ACCESS_KEY", "")
	cfg := writeFile(t, "server.yaml", fmt.Sprintf(`
listen: 127.0.0.1:0
%s
s3:
  endpoint: %s
  bucket: %s
  access_key_id: %s
  secret_access_key_file: %s
verify_digest: true
log_level: debug
log:
  signing_key_file: %s
  create_key: true
`, database, s3srv.Endpoint, s3srv.Bucket, s3srv.AccessKey, secret, filepath.Join(dir, "log.key")))
	tokenFile := filepath.Join(dir, "dock-01.token")
	if code, _, stderr := runMain(context.Background(), "station", "add", "--config", cfg, "--id", "dock-01", "--token-file", tokenFile); code != 0 {
		t.Fatalf("station add: %s", stderr)
	}
	token, _ := os.ReadFile(tokenFile)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	m := NewMain()
	m.Stdout, m.Stderr = &out, &errOut
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"serve", "--config", cfg}, m) }()

	listening := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)
	var url string
	for deadline := time.Now().Add(20 * time.Second); url == ""; {
		if m := listening.FindStringSubmatch(errOut.String()); m != nil {
			url = m[1]
			break
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d: %s", code, errOut.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not log its address: %s", errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	client := evhttp.NewClient(url, strings.TrimSpace(string(token)))
	if err := client.Health(ctx); err != nil {
		t.Fatalf("Health: %v", err)
	}
	body := []byte("footage uploaded by the agent")
	c := storetest.NewClip(body, "A123456", "100001", time.Date(2024, 5, 1, 9, 30, 0, 0, evidock.ChinaTime), 1)
	if err := s3srv.MustOpen(t).PutObject(ctx, c.ObjectKey, bytes.NewReader(body), int64(len(body)), nil); err != nil {
		t.Fatal(err)
	}
	if created, err := client.RegisterClip(ctx, c); err != nil || !created || c.StationID != "dock-01" {
		t.Fatalf("RegisterClip = %v, %v, %+v", created, err, c)
	}
	// The transparency log is wired in: a registration comes with a
	// receipt that the public key serve created beside the private one
	// verifies.
	body2 := []byte("more footage uploaded by the agent")
	c2 := storetest.NewClip(body2, "A123456", "100001", time.Date(2024, 5, 1, 10, 30, 0, 0, evidock.ChinaTime), 2)
	if err := s3srv.MustOpen(t).PutObject(ctx, c2.ObjectKey, bytes.NewReader(body2), int64(len(body2)), nil); err != nil {
		t.Fatal(err)
	}
	sent := *c2
	sent.StationID = "dock-01"
	_, receipt, err := client.RegisterClipWithReceipt(ctx, c2)
	if err != nil {
		t.Fatal(err)
	}
	vkey, err := translog.ReadVerifierKey(filepath.Join(dir, "log.key.pub"))
	if err != nil {
		t.Fatal(err)
	}
	if rec, err := translog.VerifyReceipt(vkey, receipt, &sent); err != nil || rec.Index != 1 {
		t.Fatalf("receipt of the second clip: %+v, %v", rec, err)
	}
	// The recorder store is wired in too.
	r := storetest.NewRecorder("A123456", "100001", time.Date(2024, 5, 1, 18, 0, 0, 0, evidock.ChinaTime))
	if err := client.ReportDock(ctx, r); err != nil || r.LastStationID != "dock-01" {
		t.Fatalf("ReportDock = %v, %+v", err, r)
	}
	if recs, err := client.FindRecorders(ctx, "100001"); err != nil || len(recs) != 1 || recs[0].DeviceSerial != "A123456" {
		t.Fatalf("FindRecorders = %v, %v; want the reported recorder", recs, err)
	}
	// The case stores are wired in too.
	if err := client.CreateUnit(ctx, &evidock.Unit{Code: "CZ", Name: "常州市人社局", Level: evidock.UnitBureau}); err != nil {
		t.Fatalf("CreateUnit: %v", err)
	}
	if tree, err := client.UnitTree(ctx); err != nil || len(tree) != 1 || tree[0].Code != "CZ" {
		t.Fatalf("UnitTree = %v, %v; want the bureau", tree, err)
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited with %d after the signal: %s", code, errOut.String())
		}
	case <-time.After(shutdownGrace + 5*time.Second):
		t.Fatal("serve did not stop after the signal")
	}
	if log := errOut.String(); !strings.Contains(log, "stopped") || strings.Contains(log, strings.TrimSpace(string(token))) ||
		strings.Contains(log, s3srv.SecretKey) {
		t.Fatalf("server log lacks the stop or holds a secret:\n%s", log)
	}
	return errOut.String()
}

func TestServeFailures(t *testing.T) {
	t.Setenv("EVIDOCK_S3_ACCESS_KEY_ID", "")
	t.Setenv("EVIDOCK_S3_SECRET_ACCESS_KEY", "")
	dir := t.TempDir()
	// A misspelt key is a config error, named.
	cfg := writeFile(t, "server.yaml", fmt.Sprintf(`
listen: 127.0.0.1:0
database:
  path: %s
s3:
  endpoint: http://127.0.0.1:1
  access_key_id: a
secret_access_key_file_missing: x
`, filepath.Join(dir, "evidock.db")))
	if code, _, stderr := runMain(context.Background(), "serve", "--config", cfg); code != 2 || !strings.Contains(stderr, "secret_access_key_file_missing") {
		t.Fatalf("exit %d, %s; want 2 naming the unknown key", code, stderr)
	}
	cfg = writeFile(t, "server.yaml", fmt.Sprintf(`
listen: 127.0.0.1:0
database:
  path: %s
s3:
  endpoint: http://127.0.0.1:1
  access_key_id: a
  secret_access_key_file: %s
`, filepath.Join(dir, "evidock.db"), filepath.Join(dir, "absent-secret")))
	if code, _, stderr := runMain(context.Background(), "serve", "--config", cfg); code != 2 || !strings.Contains(stderr, "absent-secret") {
		t.Fatalf("exit %d, %s; want 2 naming the secret file", code, stderr)
	}
	// A store nobody listens on: the server refuses to start rather than
	// accept registrations it cannot verify.
	secret := writeFile(t, "secret", "x")
	cfg = writeFile(t, "server.yaml", fmt.Sprintf(`
listen: 127.0.0.1:0
database:
  path: %s
s3:
  endpoint: http://127.0.0.1:1
  access_key_id: a
  secret_access_key_file: %s
`, filepath.Join(dir, "evidock.db"), secret))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if code, _, stderr := runMain(ctx, "serve", "--config", cfg); code != 1 || !strings.Contains(stderr, "S3 store") {
		t.Fatalf("exit %d, %s; want 1 about the S3 store", code, stderr)
	}
}
