// Package pgtest gives tests a real PostgreSQL to run against, and a fresh,
// empty schema in it for every test, so that tests, packages run in parallel
// and reruns never see each other's rows.
//
// Tests use the server named by $EVIDOCK_TEST_POSTGRES, or DefaultDSN. If it
// does not answer, they skip with a loud message saying how to start it;
// under CI=true they fail instead, because a CI run that skipped the
// PostgreSQL tests has not tested PostgreSQL.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names the environment variable that overrides DefaultDSN.
const EnvDSN = "EVIDOCK_TEST_POSTGRES"

// DefaultDSN is the PostgreSQL that development and CI machines run: local,
// trust authentication, database test.
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// SchemaPrefix starts the name of every schema NewSchema creates, so that
// ones left behind by a killed test run can be found and dropped.
const SchemaPrefix = "evidock_test_"

// startHint says how to start the PostgreSQL of these machines.
const startHint = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"

var (
	reachOnce sync.Once
	reachErr  error
)

// DSN returns the connection string of the test PostgreSQL. If the server
// does not answer, it skips tb with a message saying how to start it, or,
// when the environment has CI=true, fails it. The answer is checked once per
// test binary.
func DSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(EnvDSN)
	if dsn == "" {
		dsn = DefaultDSN
	}
	reachOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			reachErr = err
			return
		}
		reachErr = conn.Ping(ctx)
		conn.Close(ctx)
	})
	if reachErr != nil {
		msg := fmt.Sprintf("PostgreSQL not reachable at %s (%v); start it with: %s, or point %s at another server",
			redact(dsn), reachErr, startHint, EnvDSN)
		if os.Getenv("CI") == "true" {
			tb.Fatalf("CI=true, so this is a failure: %s", msg)
		}
		tb.Skipf("SKIPPING: %s", msg)
	}
	return dsn
}

// NewSchema creates an empty schema with a random name in the test
// PostgreSQL and returns a connection string whose search_path is that
// schema, so that everything a store creates lands there. The schema is
// dropped, with all it holds, when tb ends; close the store first (tb's
// cleanups run in reverse order, so open it after calling NewSchema).
// NewSchema skips or fails tb as DSN does.
func NewSchema(tb testing.TB) string {
	tb.Helper()
	base := DSN(tb)
	b := make([]byte, 8)
	rand.Read(b)
	schema := SchemaPrefix + hex.EncodeToString(b)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("pgtest: connect to %s: %v", redact(base), err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("pgtest: create schema %s: %v", schema, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Errorf("pgtest: drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("pgtest: drop schema %s: %v", schema, err)
		}
	})
	dsn, err := WithSearchPath(base, schema)
	if err != nil {
		tb.Fatal(err)
	}
	return dsn
}

// WithSearchPath returns dsn, a URL or keyword=value connection string, with
// its search_path set to schema, which must be a plain identifier. It
// returns an error if dsn is a URL that cannot be parsed.
func WithSearchPath(dsn, schema string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("pgtest: %s is not a URL: %w", EnvDSN, err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	return dsn + " search_path=" + schema, nil
}

// redact returns dsn without a password, for messages.
func redact(dsn string) string {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return "(" + EnvDSN + ", which cannot be parsed)"
	}
	return fmt.Sprintf("%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}
