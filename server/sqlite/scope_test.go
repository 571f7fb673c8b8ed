package sqlite_test

import (
	"testing"

	"evidock/server/storetest"
)

func TestScope(t *testing.T) {
	storetest.RunScope(t, func(t *testing.T) storetest.ScopeStore { return MustOpen(t) })
}

func TestMigrateUnitPaths(t *testing.T) {
	storetest.RunMigration008UnitPaths(t, newLegacy, "")
}
