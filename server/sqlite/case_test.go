package sqlite_test

import (
	"fmt"
	"testing"

	"evidock/server/storetest"
)

func TestUnitService(t *testing.T) {
	storetest.RunUnitService(t, func(t *testing.T) storetest.UnitStore { return MustOpen(t) })
}

func TestUnitAuditAtomic(t *testing.T) {
	db := MustOpen(t)
	storetest.RunUnitAuditAtomic(t, db, execOn(db),
		"CREATE TRIGGER test_refuse_audit BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit refused by the test'); END")
}

func TestCaseService(t *testing.T) {
	storetest.RunCaseService(t, func(t *testing.T) storetest.CaseStore { return MustOpen(t) })
}

func TestLinkService(t *testing.T) {
	storetest.RunLinkService(t, func(t *testing.T) storetest.LinkStore { return MustOpen(t) })
}

// TestCaseHistoryIsNeverChanged holds SQLite to storetest's case history,
// with the statements only SQLite has and its words for a broken
// constraint.
func TestCaseHistoryIsNeverChanged(t *testing.T) {
	db := MustOpen(t)
	storetest.RunCaseHistoryKept(t, db, execOn(db), func(clipID, activityID int64) []storetest.Refusal {
		link := func(seq int, action, actor string) string {
			return fmt.Sprintf("INSERT INTO clip_links (clip_id, activity_id, seq, action, actor, at, reason) VALUES (%d, %d, %d, '%s', '%s', '', '')",
				clipID, activityID, seq, action, actor)
		}
		return []storetest.Refusal{
			{Stmt: "INSERT OR REPLACE INTO clip_links SELECT * FROM clip_links", Want: "never deleted"},
			{Stmt: link(1, "confirm", "100001"), Want: "UNIQUE"},
			{Stmt: link(2, "suggest", "100001"), Want: "CHECK"},
			{Stmt: link(2, "confirm", "system"), Want: "CHECK"},
			{Stmt: "INSERT INTO units (code, name, level, parent_code, created_at) VALUES ('Y', 'y', 'bureau', 'CZ', '')", Want: "CHECK"},
		}
	})
}

func TestMigration006KeepsData(t *testing.T) {
	storetest.RunMigration006KeepsData(t, newLegacy(t))
}
