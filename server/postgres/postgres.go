// Package postgres stores the case server's registry in PostgreSQL, through
// pgx, for deployments that outgrow one machine. It implements
// evidock.ClipService, evidock.StationService and evidock.RecorderService,
// and the case registry (evidock.UnitService, OfficerService, CaseService
// and LinkService, in case.go and link.go), with the same rules and the
// same errors as package sqlite; both pass the one suite in
// server/storetest.
//
// The server keeps no state outside the database and the object store: no
// caches, no sessions, no sequence numbers in memory. Every rule that must
// hold across requests is enforced by PostgreSQL itself (the unique digest,
// the station foreign key, the triggers that refuse to change a clip), so
// several evidock-server instances can serve one database behind a load
// balancer, and any of them may answer any request.
//
// Several instances also start together, after a deploy or a power cut. Each
// applies the embedded migrations it finds missing, while holding a
// PostgreSQL advisory lock: the lock serialises the instances, so the second
// one finds the schema already migrated and does nothing, instead of racing
// the first into duplicate tables or a half-applied migration. The lock is
// held by the migrating session only, so it is released if that instance
// dies, and the database is never left locked.
//
// The connection string is pgx's: a URL such as
// postgres://evidock@db.internal:5432/evidock?sslmode=verify-full or
// keyword=value pairs. It may set search_path to keep the registry in a
// schema of its own, and pool_max_conns to bound the connections of one
// instance. It can hold a password, so it is never logged or put in errors;
// Target names the database without it.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"evidock"
	"evidock/internal/migrate"
	"evidock/server"
	"evidock/server/translog"
)

var (
	_ evidock.ClipService     = (*DB)(nil)
	_ evidock.StationService  = (*DB)(nil)
	_ evidock.RecorderService = (*DB)(nil)
)

//go:embed migration/*.sql
var migrationFS embed.FS

// migrationLockKey is the advisory lock taken while migrating: the ASCII of
// "evidock1", so that it is recognisable in pg_locks and unlikely to be
// chosen by another application sharing the database.
const migrationLockKey int64 = 0x65766964_6f636b31

// defaultMaxConns is the connections one server keeps at most when the
// connection string does not say (pool_max_conns).
const defaultMaxConns = 16

// DB is a pool of connections to a PostgreSQL registry database. It is safe
// for concurrent use.
type DB struct {
	pool   *pgxpool.Pool
	target string

	// registrations gathers concurrent RegisterClip calls into shared
	// transactions.
	registrations *server.Registrations
	logCache      translog.Cache // the transparency log's hashes and latest records
}

// Open connects to the PostgreSQL database that dsn names and applies any
// embedded migrations it lacks, under an advisory lock so that servers
// starting together do not race. It returns EINVALID if dsn cannot be parsed,
// EUNAVAILABLE if the database cannot be reached, and an error naming the
// migration that failed otherwise. No error contains the password.
func Open(ctx context.Context, dsn string) (*DB, error) {
	return open(ctx, dsn, 0)
}

// open is Open applying only the migrations up to version upTo, or all of
// them if upTo is 0; tests use it to build a database as an older server
// left it.
func open(ctx context.Context, dsn string, upTo int) (*DB, error) {
	if strings.TrimSpace(dsn) == "" {
		return nil, evidock.Errorf(evidock.EINVALID, "postgres: connection string is empty")
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// Not %v: pgx redacts passwords from a malformed string only on a
		// best-effort basis.
		return nil, evidock.WrapError(evidock.EINVALID, err,
			"postgres: the connection string cannot be parsed: write it as postgres://USER@HOST:5432/DATABASE?sslmode=verify-full or as host=HOST user=USER dbname=DATABASE")
	}
	target := describe(cfg.ConnConfig)
	if !strings.Contains(dsn, "pool_max_conns") {
		// pgx's default, the number of CPUs (at least 4), starves a
		// server whose requests mostly wait on the network: registering
		// one clip takes several queries, and a registration batch holds
		// a connection while it commits.
		cfg.MaxConns = defaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, dbError("open "+target, err)
	}
	db := &DB{pool: pool, target: target}
	db.registrations = server.NewRegistrations(db.registerTx)
	if err := db.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if err := db.migrate(ctx, upTo); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: migrate %s: %w", target, err)
	}
	return db, nil
}

// describe names the database cfg connects to, as user@host:port/database,
// without the password.
func describe(cfg *pgx.ConnConfig) string {
	host := cfg.Host
	if !strings.HasPrefix(host, "/") { // a Unix socket directory has no port
		host = net.JoinHostPort(host, strconv.Itoa(int(cfg.Port)))
	}
	return cfg.User + "@" + host + "/" + cfg.Database
}

// Close closes every connection, waiting for those in use to be released. It
// always returns nil; it has the signature of io.Closer so that every store
// closes alike.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// Target names the database as user@host:port/database, without the
// password, for logs and messages.
func (db *DB) Target() string { return db.target }

// Ping checks that the database answers; it returns EUNAVAILABLE if it does
// not.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return evidock.WrapError(evidock.EUNAVAILABLE, err, "postgres: database %s does not answer: %v", db.target, err)
	}
	return nil
}

// migrations returns the embedded migrations in version order.
func migrations() ([]migrate.Migration, error) {
	sub, err := fs.Sub(migrationFS, "migration")
	if err != nil {
		return nil, err
	}
	return migrate.Load(sub)
}

// migrate applies the embedded migrations the database lacks. It holds the
// advisory lock on one connection throughout (see the package comment) and
// applies each migration in its own transaction together with its row in
// schema_migrations, so that a crash leaves every migration either applied
// and recorded or neither. It stops after version upTo unless upTo is 0.
func (db *DB) migrate(ctx context.Context, upTo int) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return migrateError("connect", err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLockKey); err != nil {
		conn.Release()
		return migrateError("take the migration lock", err)
	}
	defer func() {
		// A session lock outlives a transaction: if it cannot be
		// released, close the connection, which releases it, rather than
		// return it to the pool still holding it.
		if _, err := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLockKey); err != nil {
			conn.Conn().Close(context.WithoutCancel(ctx))
		}
		conn.Release()
	}()

	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT statement_timestamp()
	)`); err != nil {
		return migrateError("create schema_migrations", err)
	}
	var newest *int
	if err := conn.QueryRow(ctx, "SELECT MAX(version) FROM schema_migrations").Scan(&newest); err != nil {
		return migrateError("read schema version", err)
	}
	if known := ms[len(ms)-1].Version; newest != nil && *newest > known {
		return fmt.Errorf("database schema is at version %d but this program knows only up to %d: run a newer evidock-server", *newest, known)
	}
	for _, m := range ms {
		if newest != nil && m.Version <= *newest {
			continue
		}
		if upTo > 0 && m.Version > upTo {
			break
		}
		if err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name)
			return err
		}); err != nil {
			return migrateError(m.Name, err)
		}
	}
	return nil
}

// SQLSTATE codes the stores map to domain errors.
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
)

// pgCode returns the SQLSTATE of err, or "".
func pgCode(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// unavailable reports whether err means the database cannot serve now but may
// later: it cannot be reached, it is starting or shutting down, it has no
// connection slots left, or it chose this transaction as a deadlock or
// serialisation victim. A client should retry such errors, not report a bug.
// A cancelled context is none of these: the caller gave up.
func unavailable(err error) bool {
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return false
	case errors.As(err, &connectErr), errors.As(err, &netErr), pgconn.Timeout(err), pgconn.SafeToRetry(err):
		return true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		// The connection died mid-statement. Whether the statement took
		// effect is unknown, but every operation of the stores may be
		// repeated: a repeated registration returns the stored clip.
		return true
	}
	code := pgCode(err)
	switch {
	case strings.HasPrefix(code, "08"): // connection exception
		return true
	case strings.HasPrefix(code, "57P"): // admin shutdown, crash shutdown, cannot connect now
		return true
	case code == "53300", code == "40001", code == "40P01": // too many connections, serialization failure, deadlock
		return true
	}
	return false
}

// dbError wraps err with op: EUNAVAILABLE for what a client should retry (see
// unavailable), ECONFLICT for a unique violation the caller did not expect,
// and a plain wrapped error, which the HTTP layer reports as internal,
// otherwise.
func dbError(op string, err error) error {
	switch {
	case unavailable(err):
		return evidock.WrapError(evidock.EUNAVAILABLE, err, "postgres: %s: database unavailable, try again: %v", op, err)
	case pgCode(err) == codeUniqueViolation:
		return evidock.WrapError(evidock.ECONFLICT, err, "postgres: %s: conflicts with what is stored: %v", op, err)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// migrateError wraps an error of a migration step: EUNAVAILABLE if the
// database went away, so that a supervisor restarts the server, and a plain
// error otherwise, because a migration that fails is a bug to report, not a
// conflict with stored data.
func migrateError(op string, err error) error {
	if unavailable(err) {
		return evidock.WrapError(evidock.EUNAVAILABLE, err, "%s: database unavailable: %v", op, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// toDB returns t as it is stored: truncated to the microseconds PostgreSQL
// keeps, as package sqlite also truncates, so both stores hand back the same
// instant for the same input.
func toDB(t time.Time) time.Time { return t.Truncate(time.Microsecond) }

// ceilDB returns t rounded up to a whole microsecond. For any stored time s,
// s >= t exactly when s >= ceilDB(t), and s < t exactly when s < ceilDB(t),
// so a filter bound with nanoseconds selects what it would in a store that
// kept nanoseconds.
func ceilDB(t time.Time) time.Time {
	if d := t.Truncate(time.Microsecond); !d.Equal(t) {
		return d.Add(time.Microsecond)
	}
	return t
}

// fromDB returns a stored time in evidock.ChinaTime, because that is how
// every person using the system reads times.
func fromDB(t time.Time) time.Time { return t.In(evidock.ChinaTime) }
