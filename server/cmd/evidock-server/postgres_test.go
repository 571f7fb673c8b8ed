package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"evidock/server/postgres"
	"evidock/server/postgres/pgtest"
)

// TestMain keeps a connection string in the developer's environment from
// steering the SQLite tests to PostgreSQL (or failing them); the tests that
// want it set it themselves.
func TestMain(m *testing.M) {
	os.Unsetenv(EnvDatabaseDSN)
	os.Exit(m.Run())
}

// TestServePostgres is TestServe on PostgreSQL, with the connection string
// in a dsn_file as production keeps it: stations are added, clips
// registered and the server stopped alike, and the connection string never
// reaches the log.
func TestServePostgres(t *testing.T) {
	dsn := pgtest.NewSchema(t)
	dsnFile := writeFile(t, "database.dsn", dsn+"\n")
	log := testServe(t, fmt.Sprintf("database:\n  driver: postgres\n  dsn_file: %s\n", dsnFile))
	if !strings.Contains(log, "database=\"postgres ") && !strings.Contains(log, "database=postgres") {
		t.Errorf("server log does not name the PostgreSQL database:\n%s", log)
	}
	if strings.Contains(log, dsn) || strings.Contains(log, "search_path") {
		t.Errorf("server log holds the connection string:\n%s", log)
	}
}

// TestStationAddPostgres adds a station to PostgreSQL with the connection
// string in the environment, and checks it in the database.
func TestStationAddPostgres(t *testing.T) {
	dsn := pgtest.NewSchema(t)
	t.Setenv(EnvDatabaseDSN, dsn)
	cfg := writeFile(t, "server.yaml", "database:\n  driver: postgres\n")
	tokenFile := filepath.Join(t.TempDir(), "dock-01.token")
	code, stdout, stderr := runMain(context.Background(), "station", "add", "--config", cfg, "--id", "dock-01", "--token-file", tokenFile)
	if code != 0 {
		t.Fatalf("station add: exit %d: %s", code, stderr)
	}
	if strings.Contains(stdout+stderr, dsn) {
		t.Fatalf("station add printed the connection string: %s%s", stdout, stderr)
	}
	b, err := os.ReadFile(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if st, err := db.AuthenticateStation(context.Background(), strings.TrimSpace(string(b))); err != nil || st.ID != "dock-01" {
		t.Fatalf("token authenticates as %+v, %v", st, err)
	}

	// A taken ID is a usage error on PostgreSQL as on SQLite.
	code, _, stderr = runMain(context.Background(), "station", "add", "--config", cfg, "--id", "dock-01", "--token-file", filepath.Join(t.TempDir(), "t"))
	if code != 2 || !strings.Contains(stderr, "exists already") {
		t.Fatalf("station add of a taken id: exit %d, %q", code, stderr)
	}
}

// TestPostgresConfigErrors shows that database settings the server cannot
// use are configuration errors (exit 2) naming the fix, and that an
// unreachable database is a failure (exit 1); none shows the password.
func TestPostgresConfigErrors(t *testing.T) {
	for _, tt := range []struct {
		name, yaml, env string
		code            int
		want            string
	}{
		{"no dsn", "database:\n  driver: postgres\n", "", 2, "database.dsn is empty"},
		{"path", "database:\n  driver: postgres\n  path: x.db\n", "postgres://db/evidock", 2, "database.path is for sqlite"},
		{"malformed dsn", "database:\n  driver: postgres\n", "postgres://evidock:hunter2@[::1/evidock", 2, "connection string cannot be parsed"},
		{"unreachable", "database:\n  driver: postgres\n", "postgres://evidock:hunter2@127.0.0.1:1/evidock?connect_timeout=5", 1, "unavailable"},
		{"env with sqlite", "database:\n  driver: sqlite\n  path: x.db\n", "postgres://evidock:hunter2@db/evidock", 2, "EVIDOCK_DATABASE_DSN is set, but database.driver is sqlite"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvDatabaseDSN, tt.env)
			cfg := writeFile(t, "server.yaml", tt.yaml)
			code, stdout, stderr := runMain(context.Background(), "station", "add", "--config", cfg, "--id", "dock-01", "--token-file", filepath.Join(t.TempDir(), "t"))
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, %q; want exit %d and %q", code, stderr, tt.code, tt.want)
			}
			if strings.Contains(stdout+stderr, "hunter2") {
				t.Fatalf("output shows the password: %s%s", stdout, stderr)
			}
		})
	}
}
