package postgres

import "github.com/jackc/pgx/v5/pgxpool"

// Pool exposes the pool so that tests can issue statements the package never
// would, such as an UPDATE of a clip.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// MigrationLockKey is the advisory lock Open takes while migrating.
const MigrationLockKey = migrationLockKey
