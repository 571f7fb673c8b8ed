// Package sqlite stores the case server's registry in SQLite, through the
// pure-Go driver modernc.org/sqlite, so that the server runs from a single
// binary on embedded defaults with no database to install. It implements
// evidock.ClipService, evidock.StationService and evidock.RecorderService,
// and the case registry: evidock.UnitService, OfficerService, CaseService
// and LinkService (case.go, link.go).
//
// Writes run in immediate transactions (the write lock is taken at BEGIN, so
// two writers never deadlock upgrading read locks), the journal is WAL (readers
// never wait for the writer), and synchronous=FULL, because a station clears a
// recorder as soon as its clip is registered: a registration must survive a
// power cut the moment it is acknowledged.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

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

// busyTimeout is how long a statement waits for another connection's lock
// before failing with SQLITE_BUSY; registrations from many stations queue up
// behind each other rather than fail.
const busyTimeout = 10 * time.Second

// maxIdleConns is how many connections the pool keeps open between
// requests: enough for a server's concurrent readers.
const maxIdleConns = 32

// timeFormat stores times in UTC with a fixed width, so that the text order
// of stored times is their time order.
const timeFormat = "2006-01-02T15:04:05.000000000Z"

// DB is an open SQLite registry database.
type DB struct {
	db   *sql.DB
	path string
	now  func() time.Time

	// registrations gathers concurrent RegisterClip calls into shared
	// transactions.
	registrations *server.Registrations
	stmts         stmtCache
	logCache      translog.Cache // the transparency log's hashes and latest records
}

// cached returns the queryer that runs statements prepared once (see
// stmtCache), in tx, or on the pool if tx is nil.
func (db *DB) cached(tx *sql.Tx) cachedQueryer { return cachedQueryer{stmts: &db.stmts, tx: tx} }

// Open opens (creating it and its directory if needed) the SQLite database at
// path and applies any migrations it lacks. It returns EINVALID for an
// unusable path, and an error naming the path if the database cannot be
// opened or migrated.
func Open(ctx context.Context, path string) (*DB, error) {
	return open(ctx, path, 0)
}

// open is Open applying only the migrations up to version upTo, or all of
// them if upTo is 0; tests use it to build a database as an older server
// left it.
func open(ctx context.Context, path string, upTo int) (*DB, error) {
	if path == "" {
		return nil, evidock.Errorf(evidock.EINVALID, "sqlite: database path is empty")
	}
	if path == ":memory:" || strings.ContainsAny(path, "?#") {
		// Each pooled connection would get its own memory database, and
		// '?' would start the driver's parameters.
		return nil, evidock.Errorf(evidock.EINVALID, "sqlite: database path %q must be a file name without '?' or '#'", path)
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
		}
	}
	dsn := path + "?_txlock=immediate" +
		"&_pragma=busy_timeout(" + strconv.FormatInt(busyTimeout.Milliseconds(), 10) + ")" +
		"&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(FULL)" +
		"&_pragma=foreign_keys(1)" +
		// Without it, INSERT OR REPLACE deletes a clip without firing
		// the trigger that forbids deleting clips.
		"&_pragma=recursive_triggers(1)"
	sqldb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// Keep connections open: database/sql keeps only two idle by default,
	// and every new SQLite connection re-reads the schema and re-applies
	// the pragmas, which costs more than the query it was opened for.
	sqldb.SetMaxIdleConns(maxIdleConns)
	db := &DB{db: sqldb, path: path, now: time.Now}
	db.registrations = server.NewRegistrations(db.registerTx)
	db.stmts.db = db.db
	if err := db.Ping(ctx); err != nil {
		sqldb.Close()
		return nil, err
	}
	if err := db.migrate(ctx, upTo); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("sqlite: migrate %s: %w", path, err)
	}
	return db, nil
}

// Close closes the database; it returns the driver's error, if any.
func (db *DB) Close() error {
	db.stmts.close()
	if err := db.db.Close(); err != nil {
		return fmt.Errorf("sqlite: close %s: %w", db.path, err)
	}
	return nil
}

// Path returns the file name the database was opened with.
func (db *DB) Path() string { return db.path }

// Ping checks that the database answers a query; it returns EUNAVAILABLE if
// it does not.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return evidock.WrapError(evidock.EUNAVAILABLE, err, "sqlite: database %s does not answer: %v", db.path, err)
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

// migrate applies the embedded migrations the database lacks, each in its own
// immediate transaction together with its row in schema_migrations, so that a
// crash leaves every migration either applied and recorded or neither, and two
// servers starting at once cannot both apply one. It stops after version
// upTo unless upTo is 0.
func (db *DB) migrate(ctx context.Context, upTo int) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	if _, err := db.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TEXT NOT NULL
	)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var newest sql.NullInt64
	if err := db.db.QueryRowContext(ctx, "SELECT MAX(version) FROM schema_migrations").Scan(&newest); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if known := ms[len(ms)-1].Version; newest.Valid && int(newest.Int64) > known {
		return fmt.Errorf("database schema is at version %d but this program knows only up to %d: run a newer evidock-server", newest.Int64, known)
	}
	for _, m := range ms {
		if upTo > 0 && m.Version > upTo {
			break
		}
		if err := db.apply(ctx, m); err != nil {
			return fmt.Errorf("%s: %w", m.Name, err)
		}
	}
	return nil
}

func (db *DB) apply(ctx context.Context, m migrate.Migration) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations WHERE version = ?", m.Version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
		m.Version, m.Name, formatTime(db.now())); err != nil {
		return err
	}
	return tx.Commit()
}

// formatTime returns t in the stored form.
func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

// parseTime reads a stored time back, in evidock.ChinaTime because that is
// how every person using the system reads times.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeFormat, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t.In(evidock.ChinaTime), nil
}

// sqliteCode returns the extended SQLite result code of err, or 0.
func sqliteCode(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

// isBusy reports whether err is SQLite failing to get a lock in time.
func isBusy(err error) bool {
	c := sqliteCode(err)
	return c&0xff == sqlite3.SQLITE_BUSY || c&0xff == sqlite3.SQLITE_LOCKED
}

// dbError wraps err with op, marking lock timeouts as EUNAVAILABLE so that
// clients retry them instead of treating them as bugs.
func dbError(op string, err error) error {
	if isBusy(err) {
		return evidock.WrapError(evidock.EUNAVAILABLE, err, "sqlite: %s: database is busy, try again", op)
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}
