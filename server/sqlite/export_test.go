package sqlite

import "database/sql"

// SQL exposes the handle so that tests can issue statements the package
// never would, such as an UPDATE of a clip.
func (db *DB) SQL() *sql.DB { return db.db }
