package sqlite

import (
	"context"
	"database/sql"
)

// SQL exposes the handle so that tests can issue statements the package
// never would, such as an UPDATE of a clip.
func (db *DB) SQL() *sql.DB { return db.db }

// OpenAt opens the database at path applying only the migrations up to
// version upTo, as an older server would have left it.
func OpenAt(ctx context.Context, path string, upTo int) (*DB, error) { return open(ctx, path, upTo) }

// MoveOfficer transfers officer no to unit (officers.unit_code changes), as
// the bureau's registry does; the store has no API for it yet. It makes
// *DB a storetest.OfficerMover.
func (db *DB) MoveOfficer(ctx context.Context, no, unit string) error {
	_, err := db.db.ExecContext(ctx, "UPDATE officers SET unit_code = ? WHERE officer_no = ?", unit, no)
	return err
}
