package postgres

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"

	"evidock"
	"evidock/server"
)

// Pool exposes the pool so that tests can issue statements the package never
// would, such as an UPDATE of a clip.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// MigrationLockKey is the advisory lock Open takes while migrating.
const MigrationLockKey = migrationLockKey

// OpenAt opens the database dsn names applying only the migrations up to
// version upTo, as an older server would have left it.
func OpenAt(ctx context.Context, dsn string, upTo int) (*DB, error) { return open(ctx, dsn, upTo) }

// MoveOfficer transfers officer no to unit (officers.unit_code changes), as
// the bureau's registry does; the store has no API for it yet. It makes
// *DB a storetest.OfficerMover.
func (db *DB) MoveOfficer(ctx context.Context, no, unit string) error {
	_, err := db.pool.Exec(ctx, "UPDATE officers SET unit_code = $1 WHERE officer_no = $2", unit, no)
	return err
}

// RegisterBatch registers clips in one transaction, as a batch of
// RegisterClip calls that arrived together is, but returns the
// transaction's error instead of retrying the clips one by one.
func (db *DB) RegisterBatch(ctx context.Context, clips []*evidock.Clip) error {
	batch := make([]*server.Registration, len(clips))
	for i, c := range clips {
		batch[i] = &server.Registration{Clip: c}
	}
	return db.registerTx(ctx, batch)
}
