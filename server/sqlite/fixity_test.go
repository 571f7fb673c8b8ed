package sqlite_test

import (
	"testing"

	"evidock/server/storetest"
)

func TestFixityStore(t *testing.T) {
	storetest.RunFixityStore(t, func(t *testing.T) storetest.FixityStore { return MustOpen(t) })
}

// TestFixityHistoryIsKept shows that SQLite itself keeps the fixity checks
// and alarms; its CHECK errors do not name the constraint.
func TestFixityHistoryIsKept(t *testing.T) {
	db := MustOpen(t)
	storetest.RunFixityHistoryKept(t, db, execOn(db), "CHECK constraint failed")
}

func TestMigration010SchedulesClips(t *testing.T) {
	storetest.RunMigration010SchedulesClips(t, newLegacy(t))
}
