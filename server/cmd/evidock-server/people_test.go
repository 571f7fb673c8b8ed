package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"evidock"
	"evidock/internal/s3test"
	"evidock/server/audit"
	"evidock/server/auth"
	"evidock/server/sqlite"
	"evidock/server/translog"
)

// runMainIn is runMain with standard input.
func runMainIn(ctx context.Context, stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errOut syncBuffer
	m := NewMain()
	m.Stdout, m.Stderr, m.Stdin = &out, &errOut, strings.NewReader(stdin)
	code = run(ctx, args, m)
	return code, out.String(), errOut.String()
}

// peopleConfigFile writes a config with a SQLite database and a log key, and
// returns its path, the database's and the public key's.
func peopleConfigFile(t *testing.T) (cfg, dbPath, pub string) {
	t.Helper()
	dir := t.TempDir()
	dbPath = filepath.Join(dir, "evidock.db")
	priv, pub := filepath.Join(dir, "log.key"), filepath.Join(dir, "log.pub")
	skey, vkey, err := translog.GenerateKey("evidock.test/registry")
	if err != nil {
		t.Fatal(err)
	}
	if err := translog.WriteKeyFiles(priv, pub, skey, vkey); err != nil {
		t.Fatal(err)
	}
	cfg = writeFile(t, "server.yaml", "database:\n  path: "+dbPath+"\nlog:\n  signing_key_file: "+priv+"\n")
	return cfg, dbPath, pub
}

// addCity adds the units city, city/d1, city/d1/t2 and city/d2 with 'unit
// add', failing t if it cannot.
func addCity(t *testing.T, cfg string) {
	t.Helper()
	for _, args := range [][]string{
		{"--code", "city", "--name", "市人社局", "--level", "bureau"},
		{"--code", "d1", "--level", "district", "--parent", "city"},
		{"--code", "d2", "--level", "district", "--parent", "city"},
		{"--code", "t2", "--level", "unit", "--parent", "d1"},
	} {
		if code, out, errOut := runMainIn(context.Background(), "", append([]string{"unit", "add", "--config", cfg}, args...)...); code != 0 {
			t.Fatalf("unit add %v = %d %q %q", args, code, out, errOut)
		}
	}
}

func TestUnitAdd(t *testing.T) {
	ctx := context.Background()
	cfg, dbPath, _ := peopleConfigFile(t)
	code, out, errOut := runMainIn(ctx, "", "unit", "add", "--config", cfg, "--code", "city", "--name", "市人社局", "--level", "bureau")
	if code != 0 || out != "unit city (市人社局, bureau) created; roles in it are held in unit path city\n" {
		t.Fatalf("unit add = %d %q %q", code, out, errOut)
	}
	code, out, errOut = runMainIn(ctx, "", "unit", "add", "--config", cfg, "--code", "d1", "--level", "district", "--parent", "city")
	if code != 0 || !strings.Contains(out, "unit path city/d1\n") {
		t.Fatalf("unit add district = %d %q %q", code, out, errOut)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--code", "d1", "--level", "district", "--parent", "city"}, "taken"},
		{[]string{"--code", "t9", "--level", "unit", "--parent", "nope"}, "nope"},
		{[]string{"--code", "t9", "--level", "unit"}, "parent_code is required"},
		{[]string{"--code", "t9"}, "--code and --level are required"},
	} {
		code, out, errOut := runMainIn(ctx, "", append([]string{"unit", "add", "--config", cfg}, tt.args...)...)
		if code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("unit add %v = %d %q %q; want exit 2 and %q", tt.args, code, out, errOut, tt.want)
		}
	}
	// The two units made are audited as the operator's doing; the refused
	// ones left nothing.
	db, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	events, err := db.FindAuditEvents(ctx, evidock.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 {
		t.Fatalf("%d audit events; want the 2 units created", len(events))
	}
	for i, want := range []struct{ object, unit string }{{"unit:city", "city"}, {"unit:d1", "city/d1"}} {
		ev := events[i]
		if ev.Action != evidock.AuditCreateUnit || !strings.HasPrefix(ev.Actor, "system:") || ev.Object != want.object || ev.Unit != want.unit ||
			ev.Reason != "evidock-server unit add" || ev.RemoteAddr != "local" || !strings.HasPrefix(ev.UserAgent, "evidock-server ") ||
			ev.Outcome != evidock.AuditAllowed {
			t.Errorf("event %d = %+v; want the operator creating %s in %s", i, ev, want.object, want.unit)
		}
	}
}

func TestUserAdd(t *testing.T) {
	ctx := context.Background()
	cfg, dbPath, _ := peopleConfigFile(t)
	addCity(t, cfg)
	code, out, errOut := runMainIn(ctx, "a long enough password\n", "user", "add", "--config", cfg,
		"--login", "admin", "--role", "administrator", "--unit", "city")
	if code != 0 || !strings.Contains(out, "user admin (admin) created with roles administrator@city") {
		t.Fatalf("user add = %d %q %q", code, out, errOut)
	}
	pwFile := writeFile(t, "pw", "another long password\r\n")
	code, out, errOut = runMainIn(ctx, "", "user", "add", "--config", cfg, "--login", "zhang.wei", "--name", "张伟",
		"--officer-no", "100001", "--role", "officer", "--unit", "city/d1/t2", "--role", "supervisor", "--unit", "city/d1",
		"--password-file", pwFile)
	if code != 0 {
		t.Fatalf("user add with two roles = %d %q %q", code, out, errOut)
	}
	for _, tt := range []struct {
		name, stdin string
		args        []string
		want        string
	}{
		{"no password", "", []string{"--login", "li.na", "--role", "officer", "--unit", "city/d2"}, "no password given"},
		{"short password", "short\n", []string{"--login", "li.na", "--role", "officer", "--unit", "city/d2"}, "shorter than"},
		{"password on the command line", "", []string{"--login", "li.na", "--role", "officer", "--unit", "city/d2", "--password", "x"}, "not defined"},
		{"no unit", "a long enough password\n", []string{"--login", "li.na", "--role", "officer"}, "one --unit for each --role"},
		{"bad role", "a long enough password\n", []string{"--login", "li.na", "--role", "root", "--unit", "city"}, "unknown"},
		{"login taken", "a long enough password\n", []string{"--login", "admin", "--role", "officer", "--unit", "city"}, "taken"},
		{"unit not in the tree", "a long enough password\n", []string{"--login", "li.na", "--role", "officer", "--unit", "city/d2/t2"},
			`unit path "city/d2/t2": segment 3, "t2", is not below "d2"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runMainIn(ctx, tt.stdin, append([]string{"user", "add", "--config", cfg}, tt.args...)...)
			if code != 2 || !strings.Contains(errOut, tt.want) {
				t.Fatalf("user add = %d %q %q; want exit 2 and %q", code, out, errOut, tt.want)
			}
		})
	}
	db, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for login, pw := range map[string]string{"admin": "a long enough password", "zhang.wei": "another long password"} {
		u, hash, err := db.UserCredentials(ctx, login)
		if err != nil {
			t.Fatal(err)
		}
		if ok, _ := auth.VerifyPassword(hash, pw); !ok || !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
			t.Errorf("%s: stored hash %q does not verify %q at the default cost", login, hash, pw)
		}
		if login == "zhang.wei" && (u.Name != "张伟" || u.OfficerNo != "100001" || len(u.Roles) != 2) {
			t.Errorf("zhang.wei stored as %+v", u)
		}
	}
	events, _ := db.FindAuditEvents(ctx, evidock.AuditFilter{Action: evidock.AuditCreateUser})
	if len(events) != 2 || !strings.HasPrefix(events[0].Actor, "system:") || events[0].Object != "user:admin" {
		t.Fatalf("create_user events = %+v", events)
	}
}

// TestAuditVerify shows 'audit verify' passing an untouched log, naming the
// event a changed row breaks, and, with a checkpoint signed before, catching
// a log rewritten with every hash recomputed.
func TestAuditVerify(t *testing.T) {
	ctx := context.Background()
	cfg, dbPath, pub := peopleConfigFile(t)
	addCity(t, cfg)
	for _, login := range []string{"admin", "li.na", "zhao.min"} {
		if code, _, errOut := runMainIn(ctx, "a long enough password\n", "user", "add", "--config", cfg,
			"--login", login, "--role", "administrator", "--unit", "city"); code != 0 {
			t.Fatal(errOut)
		}
	}
	code, out, errOut := runMainIn(ctx, "", "audit", "verify", "--config", cfg)
	if code != 0 || !strings.Contains(out, "audit log verified: 7 events") { // 4 units, 3 users
		t.Fatalf("audit verify = %d %q %q", code, out, errOut)
	}
	cp := filepath.Join(t.TempDir(), "audit.cp")
	if code, out, errOut := runMainIn(ctx, "", "audit", "checkpoint", "--config", cfg, "--checkpoint", cp); code != 0 || !strings.Contains(out, "of 7 events") {
		t.Fatalf("audit checkpoint = %d %q %q", code, out, errOut)
	}
	if code, _, errOut := runMainIn(ctx, "", "audit", "checkpoint", "--config", cfg, "--checkpoint", cp); code != 1 || !strings.Contains(errOut, "exists") {
		t.Fatalf("audit checkpoint over an existing file = %d %q", code, errOut)
	}
	for _, args := range [][]string{{"--checkpoint", cp}, {"--checkpoint", cp, "--key", pub}} {
		code, out, errOut := runMainIn(ctx, "", append([]string{"audit", "verify", "--config", cfg}, args...)...)
		if code != 0 || !strings.Contains(out, "passes through the checkpoint of 7 events") {
			t.Fatalf("audit verify %v = %d %q %q", args, code, out, errOut)
		}
	}

	// A rewrite with every hash recomputed: a chain of its own, but not
	// the one the checkpoint pinned.
	raw, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	mustExec := func(stmt string, args ...any) {
		t.Helper()
		if _, err := raw.ExecContext(ctx, stmt, args...); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	mustExec("DROP TRIGGER audit_events_never_updated")
	db, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	events, err := db.ReadAuditChain(ctx, 0, 10)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	prev := events[0].Hash
	for _, e := range events[1:] {
		e.Reason = "nothing happened"
		audit.Link(e, e.Seq-1, prev, e.Time)
		prev = e.Hash
		mustExec("UPDATE audit_events SET reason = ?, prev_hash = ?, hash = ? WHERE seq = ?", e.Reason, e.PrevHash[:], e.Hash[:], e.Seq)
	}
	if code, out, errOut := runMainIn(ctx, "", "audit", "verify", "--config", cfg); code != 0 {
		t.Fatalf("a consistently rewritten chain verifies on its own: %d %q %q", code, out, errOut)
	}
	code, out, errOut = runMainIn(ctx, "", "audit", "verify", "--config", cfg, "--checkpoint", cp)
	if code != 1 || !strings.Contains(errOut, "rewritten after the checkpoint") {
		t.Fatalf("rewritten log against the checkpoint = %d %q %q", code, out, errOut)
	}

	// A single changed row is found without any checkpoint, by number.
	mustExec("UPDATE audit_events SET actor = 'system:nobody' WHERE seq = 2")
	code, out, errOut = runMainIn(ctx, "", "audit", "verify", "--config", cfg)
	if code != 1 || !strings.Contains(errOut, "audit event 2 ") || !strings.Contains(errOut, "the row was changed") {
		t.Fatalf("audit verify after a changed row = %d %q %q", code, out, errOut)
	}
}

// TestServeLogin shows serve wired for people: the user 'user add' made logs
// in over HTTP, and reads the audit of the login.
func TestServeLogin(t *testing.T) {
	s3srv := s3test.Start(t)
	dir := t.TempDir()
	secret := writeFile(t, "s3-secret", s3srv.SecretKey+"\n")
	t.Setenv("EVIDOCK_S3_ACCESS_KEY_ID", "")
	t.Setenv("EVIDOCK_S3_SECRET_ACCESS_KEY", "")
	cfg := writeFile(t, "server.yaml", fmt.Sprintf(`
listen: 127.0.0.1:0
database:
  path: %s
s3:
  endpoint: %s
  bucket: %s
  access_key_id: %s
  secret_access_key_file: %s
log:
  signing_key_file: %s
  create_key: true
fixity:
  enabled: false
auth:
  cookie_secure: false
  session_ttl: 1h
`, filepath.Join(dir, "evidock.db"), s3srv.Endpoint, s3srv.Bucket, s3srv.AccessKey, secret, filepath.Join(dir, "log.key")))
	addCity(t, cfg)
	if code, _, errOut := runMainIn(context.Background(), "a long enough password\n", "user", "add", "--config", cfg,
		"--login", "chen.jie", "--role", "supervisor", "--unit", "city"); code != 0 {
		t.Fatal(errOut)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	m := NewMain()
	m.Stdout, m.Stderr = &out, &errOut
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"serve", "--config", cfg}, m) }()
	listening := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)
	var url string
	for deadline := time.Now().Add(20 * time.Second); url == ""; time.Sleep(20 * time.Millisecond) {
		if m := listening.FindStringSubmatch(errOut.String()); m != nil {
			url = m[1]
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d: %s", code, errOut.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not log its address: %s", errOut.String())
		}
	}

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := c.Post(url+"/api/v1/login", "application/json", strings.NewReader(`{"login":"chen.jie","password":"a long enough password"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(resp.Cookies()) != 1 || resp.Cookies()[0].Secure {
		t.Fatalf("login = %s, cookies %v; want 200 and a cookie without Secure (auth.cookie_secure: false)", resp.Status, resp.Cookies())
	}
	resp, err = c.Get(url + "/api/v1/audit?action=login")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"actor":"user:chen.jie"`) {
		t.Fatalf("audit = %s %s", resp.Status, b)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited with %d: %s", code, errOut.String())
	}
}
