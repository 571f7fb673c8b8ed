package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"evidock"
	"evidock/server/postgres"
	"evidock/server/postgres/pgtest"
	"evidock/server/sqlite"
)

// revokedAt matches the time 'station revoke' prints, in China time.
var revokedAt = regexp.MustCompile(`revoked at (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+08:00)`)

// TestStationRevoke adds a station to SQLite, revokes it as an
// administrator would, and checks that its token is refused, saying the
// time printed; a second revocation prints the same time.
func TestStationRevoke(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "var", "server", "evidock.db")
	cfg := writeFile(t, "server.yaml", "database:\n  path: "+dbPath+"\n")
	testStationRevoke(t, cfg, func(t *testing.T, token string) (*evidock.Station, error) {
		db, err := sqlite.Open(context.Background(), dbPath)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		return db.AuthenticateStation(context.Background(), token)
	})
}

// TestStationRevokePostgres is TestStationRevoke on PostgreSQL, with the
// connection string in the environment.
func TestStationRevokePostgres(t *testing.T) {
	dsn := pgtest.NewSchema(t)
	t.Setenv(EnvDatabaseDSN, dsn)
	cfg := writeFile(t, "server.yaml", "database:\n  driver: postgres\n")
	testStationRevoke(t, cfg, func(t *testing.T, token string) (*evidock.Station, error) {
		db, err := postgres.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		return db.AuthenticateStation(context.Background(), token)
	})
}

// testStationRevoke runs the revocation through the command line with the
// config cfg; authenticate opens the config's database and authenticates
// token with it.
func testStationRevoke(t *testing.T, cfg string, authenticate func(t *testing.T, token string) (*evidock.Station, error)) {
	ctx := context.Background()
	tokens := map[string]string{}
	for _, id := range []string{"dock-01", "dock-02"} {
		file := filepath.Join(t.TempDir(), id+".token")
		if code, _, stderr := runMain(ctx, "station", "add", "--config", cfg, "--id", id, "--token-file", file); code != 0 {
			t.Fatalf("station add %s: exit %d: %s", id, code, stderr)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		tokens[id] = strings.TrimSpace(string(b))
	}

	code, stdout, stderr := runMain(ctx, "station", "revoke", "--config", cfg, "--id", "dock-01")
	if code != 0 {
		t.Fatalf("station revoke: exit %d: %s", code, stderr)
	}
	m := revokedAt.FindStringSubmatch(stdout)
	if m == nil || !strings.Contains(stdout, "dock-01") || !strings.Contains(stdout, "evidock-server station add") {
		t.Fatalf("station revoke printed %q; want the station, its revocation time and how to replace it", stdout)
	}
	when := m[1]

	st, err := authenticate(t, tokens["dock-01"])
	if evidock.ErrorCode(err) != evidock.EUNAUTHORIZED || !strings.Contains(evidock.ErrorMessage(err), "revoked at "+when) {
		t.Fatalf("revoked station's token = %+v, %v; want EUNAUTHORIZED saying it was revoked at %s", st, err, when)
	}
	if st, err := authenticate(t, tokens["dock-02"]); err != nil || st.ID != "dock-02" {
		t.Fatalf("dock-02's token after revoking dock-01 = %+v, %v", st, err)
	}

	// Again: the same time, and success.
	code, stdout, stderr = runMain(ctx, "station", "revoke", "--config", cfg, "--id", "dock-01")
	if m := revokedAt.FindStringSubmatch(stdout); code != 0 || m == nil || m[1] != when {
		t.Fatalf("second station revoke: exit %d, %q, %q; want exit 0 and the first time, %s", code, stdout, stderr, when)
	}

	// Mistakes are usage errors (exit 2) that name the fix.
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--id", "dock-99"}, `station revoke: station "dock-99" does not exist`},
		{nil, "--id is required"},
		{[]string{"--id", "dock-02", "--token-file", "t"}, "flag provided but not defined: -token-file"},
		{[]string{"--id", "dock-02", "extra"}, `unexpected argument "extra"`},
	} {
		code, stdout, stderr := runMain(ctx, append([]string{"station", "revoke", "--config", cfg}, tt.args...)...)
		if code != 2 || !strings.Contains(stderr, tt.want) || stdout != "" {
			t.Errorf("station revoke %v: exit %d, stdout %q, stderr %q; want exit 2 saying %q", tt.args, code, stdout, stderr, tt.want)
		}
	}
	// None of them revoked dock-02.
	if st, err := authenticate(t, tokens["dock-02"]); err != nil || st.ID != "dock-02" {
		t.Fatalf("dock-02's token after the mistakes = %+v, %v", st, err)
	}
}

// TestStationRevokeUnreachable shows that a database that cannot be
// reached is a failure (exit 1), not a usage error.
func TestStationRevokeUnreachable(t *testing.T) {
	t.Setenv(EnvDatabaseDSN, "postgres://evidock@127.0.0.1:1/evidock?connect_timeout=5")
	cfg := writeFile(t, "server.yaml", "database:\n  driver: postgres\n")
	code, _, stderr := runMain(context.Background(), "station", "revoke", "--config", cfg, "--id", "dock-01")
	if code != 1 || !strings.Contains(stderr, "unavailable") {
		t.Fatalf("station revoke with the database down: exit %d, %q; want exit 1, unavailable", code, stderr)
	}
}
