package postgres_test

import (
	"testing"

	"evidock/server/postgres/pgtest"
	"evidock/server/storetest"
)

func TestScope(t *testing.T) {
	pgtest.DSN(t)
	storetest.RunScope(t, func(t *testing.T) storetest.ScopeStore { return MustOpen(t) })
}

// TestMigrateUnitPaths holds PostgreSQL to storetest's migration 008; its
// message names the roles outside the tree.
func TestMigrateUnitPaths(t *testing.T) {
	storetest.RunMigration008UnitPaths(t, newLegacy, "chen.jie officer@city/d2/t2",
		storetest.Refusal{Stmt: "TRUNCATE units CASCADE"})
}
