package sqlite_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"evidock"
	"evidock/server/sqlite"
	"evidock/server/storetest"
)

func TestUnitService(t *testing.T) {
	storetest.RunUnitService(t, func(t *testing.T) storetest.UnitStore { return MustOpen(t) })
}

func TestUnitAuditAtomic(t *testing.T) {
	db := MustOpen(t)
	exec := func(stmt string) error {
		_, err := db.SQL().ExecContext(context.Background(), stmt)
		return err
	}
	storetest.RunUnitAuditAtomic(t, db, exec,
		"CREATE TRIGGER test_refuse_audit BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit refused by the test'); END")
}

func TestCaseService(t *testing.T) {
	storetest.RunCaseService(t, func(t *testing.T) storetest.CaseStore { return MustOpen(t) })
}

func TestLinkService(t *testing.T) {
	storetest.RunLinkService(t, func(t *testing.T) storetest.LinkStore { return MustOpen(t) })
}

// TestCaseHistoryIsNeverChanged shows that the database itself keeps the
// link history, the recorder assignments and the recorded case dates, and
// never deletes a case, whatever statement is tried.
func TestCaseHistoryIsNeverChanged(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	storetest.SeedOrg(t, db)
	c := storetest.MustCreateCase(t, db, storetest.NewCase("A-1", storetest.UnitTN1, time.Date(2024, 5, 1, 9, 0, 0, 0, evidock.ChinaTime)))
	if _, err := db.RecordCaseDates(ctx, c.Number, evidock.CaseDates{DecidedAt: time.Date(2024, 5, 3, 9, 0, 0, 0, evidock.ChinaTime)}); err != nil {
		t.Fatal(err)
	}
	a := storetest.MustCreateActivity(t, db, storetest.NewActivity(c.ID, evidock.ActivityInspection,
		time.Date(2024, 5, 2, 9, 0, 0, 0, evidock.ChinaTime), time.Date(2024, 5, 2, 10, 0, 0, 0, evidock.ChinaTime), storetest.OfficerZhang))
	clip := storetest.NewClip([]byte("x"), "A000001", storetest.OfficerZhang, time.Date(2024, 5, 2, 9, 5, 0, 0, evidock.ChinaTime), 1)
	if _, err := db.RegisterClip(ctx, clip); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SuggestLinks(ctx, a.ID, evidock.DefaultSuggestMargin); err != nil {
		t.Fatal(err)
	}
	if err := db.AssignRecorder(ctx, &evidock.RecorderAssignment{DeviceSerial: "A000001", OfficerNo: storetest.OfficerZhang,
		From: time.Date(2024, 5, 1, 8, 0, 0, 0, evidock.ChinaTime), AssignedBy: "x"}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ stmt, want string }{
		{"UPDATE clip_links SET action = 'confirm', actor = '100001'", "never edited"},
		{"DELETE FROM clip_links", "never deleted"},
		{"INSERT OR REPLACE INTO clip_links SELECT * FROM clip_links", "never deleted"},
		{"UPDATE recorder_assignments SET officer_no = NULL", "never edited"},
		{"DELETE FROM recorder_assignments", "never deleted"},
		{"DELETE FROM cases", "never deleted"},
		{"UPDATE cases SET decided_at = NULL", "Art. 20"},
		{"UPDATE cases SET decided_at = '2024-05-04T01:00:00.000000000Z'", "Art. 20"},
		{"UPDATE cases SET number = 'B-1'", "Art. 20"},
		{"UPDATE cases SET filed_at = '2024-04-01T01:00:00.000000000Z'", "Art. 20"},
		{"INSERT INTO clip_links (clip_id, activity_id, seq, action, actor, at, reason) VALUES (1, 1, 1, 'confirm', '100001', '', '')", "UNIQUE"},
		{"INSERT INTO clip_links (clip_id, activity_id, seq, action, actor, at, reason) VALUES (1, 1, 2, 'suggest', '100001', '', '')", "CHECK"},
		{"INSERT INTO clip_links (clip_id, activity_id, seq, action, actor, at, reason) VALUES (1, 1, 2, 'confirm', 'system', '', '')", "CHECK"},
		{"INSERT INTO units (code, name, level, parent_code, created_at) VALUES ('Y', 'y', 'bureau', 'CZ', '')", "CHECK"},
	} {
		if _, err := db.SQL().ExecContext(ctx, tt.stmt); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v; want one containing %q", tt.stmt, err, tt.want)
		}
	}
	// Recording a date the case lacks is the one change allowed.
	if _, err := db.SQL().ExecContext(ctx, "UPDATE cases SET served_at = '2024-05-04T01:00:00.000000000Z'"); err != nil {
		t.Fatalf("recording a new date: %v", err)
	}
	if h, err := db.LinkHistory(ctx, evidock.LinkFilter{CaseID: c.ID}); err != nil || len(h) != 1 || h[0].Action != evidock.LinkSuggest {
		t.Fatalf("history after the attempts = %+v, %v", h, err)
	}
}

// TestMigration006KeepsData opens a database that a server before
// migration 006 left, with clips in it, and adds cases beside them.
func TestMigration006KeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "evidock.db")
	old, err := sqlite.OpenAt(ctx, path, 5)
	if err != nil {
		t.Fatal(err)
	}
	clip := storetest.NewClip([]byte("old"), "A000001", storetest.OfficerZhang, time.Date(2024, 5, 2, 9, 5, 0, 0, evidock.ChinaTime), 1)
	registerLegacy(t, old, clip) // as that server did: RegisterClip now stamps unit_code (012)
	old.Close()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	defer db.Close()
	storetest.SeedOrg(t, db)
	c := storetest.MustCreateCase(t, db, storetest.NewCase("A-1", storetest.UnitTN1, time.Date(2024, 5, 1, 9, 0, 0, 0, evidock.ChinaTime)))
	a := storetest.MustCreateActivity(t, db, storetest.NewActivity(c.ID, evidock.ActivityInspection,
		time.Date(2024, 5, 2, 9, 0, 0, 0, evidock.ChinaTime), time.Date(2024, 5, 2, 10, 0, 0, 0, evidock.ChinaTime), storetest.OfficerZhang))
	links, err := db.SuggestLinks(ctx, a.ID, evidock.DefaultSuggestMargin)
	if err != nil || len(links) != 1 || links[0].Clip.Digest != clip.Digest {
		t.Fatalf("suggestions for a clip registered before 006 = %v, %v", links, err)
	}
	var n int
	if err := db.SQL().QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations WHERE version = 6").Scan(&n); err != nil || n != 1 {
		t.Fatalf("migration 6 recorded %d times (%v)", n, err)
	}
}
