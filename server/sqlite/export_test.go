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
