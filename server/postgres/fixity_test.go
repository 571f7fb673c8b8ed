package postgres_test

import (
	"testing"

	"evidock/server/postgres/pgtest"
	"evidock/server/storetest"
)

func TestFixityStore(t *testing.T) {
	pgtest.DSN(t)
	storetest.RunFixityStore(t, func(t *testing.T) storetest.FixityStore { return MustOpen(t) })
}

// TestFixityHistoryIsKept holds PostgreSQL to storetest's fixity history,
// with TRUNCATE and statements that touch no row, which its statement
// triggers refuse all the same.
func TestFixityHistoryIsKept(t *testing.T) {
	db := MustOpen(t)
	storetest.RunFixityHistoryKept(t, db, execOn(db), "alarms_check", []storetest.Refusal{
		{Stmt: "UPDATE fixity_checks SET result = 'ok' WHERE false", Want: "never edited"},
		{Stmt: "TRUNCATE fixity_checks CASCADE", Want: "never deleted"},
		{Stmt: "TRUNCATE alarms", Want: "never deleted"},
	}...)
}

func TestMigration010SchedulesClips(t *testing.T) {
	storetest.RunMigration010SchedulesClips(t, newLegacy(t))
}
