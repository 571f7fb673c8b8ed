package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"evidock"
	"evidock/server/postgres"
	"evidock/server/postgres/pgtest"
	"evidock/server/storetest"
)

func TestUnitService(t *testing.T) {
	pgtest.DSN(t)
	storetest.RunUnitService(t, func(t *testing.T) storetest.UnitStore { return MustOpen(t) })
}

func TestUnitAuditAtomic(t *testing.T) {
	pgtest.DSN(t)
	db := MustOpen(t)
	exec := func(stmt string) error {
		_, err := db.Pool().Exec(context.Background(), stmt)
		return err
	}
	storetest.RunUnitAuditAtomic(t, db, exec,
		"CREATE FUNCTION test_refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit refused by the test'; END $$",
		"CREATE TRIGGER test_refuse_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION test_refuse_audit()")
}

func TestCaseService(t *testing.T) {
	pgtest.DSN(t)
	storetest.RunCaseService(t, func(t *testing.T) storetest.CaseStore { return MustOpen(t) })
}

func TestLinkService(t *testing.T) {
	pgtest.DSN(t)
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
		{"UPDATE clip_links SET reason = '' WHERE false", "never edited"},
		{"DELETE FROM clip_links", "never deleted"},
		{"DELETE FROM clip_links WHERE false", "never deleted"},
		{"TRUNCATE clip_links", "never deleted"},
		{"UPDATE recorder_assignments SET officer_no = NULL", "never edited"},
		{"DELETE FROM recorder_assignments", "never deleted"},
		{"TRUNCATE recorder_assignments", "never deleted"},
		{"DELETE FROM cases WHERE false", "never deleted"},
		{"TRUNCATE cases CASCADE", "never deleted"},
		{"UPDATE cases SET decided_at = NULL", "Art. 20"},
		{"UPDATE cases SET decided_at = '2024-05-04T01:00:00Z'", "Art. 20"},
		{"UPDATE cases SET number = 'B-1'", "Art. 20"},
		{"UPDATE cases SET filed_at = '2024-04-01T01:00:00Z'", "Art. 20"},
		{fmt.Sprintf("INSERT INTO clip_links (clip_id, activity_id, seq, action, actor, reason) VALUES (%d, %d, 1, 'confirm', '100001', '')", clip.ID, a.ID), "clip_links_activity_id_clip_id_seq_key"},
		{fmt.Sprintf("INSERT INTO clip_links (clip_id, activity_id, seq, action, actor, reason) VALUES (%d, %d, 2, 'suggest', '100001', '')", clip.ID, a.ID), "check constraint"},
		{"INSERT INTO units (code, name, level, parent_code) VALUES ('Y', 'y', 'bureau', 'CZ')", "check constraint"},
	} {
		if _, err := db.Pool().Exec(ctx, tt.stmt); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v; want one containing %q", tt.stmt, err, tt.want)
		}
	}
	if _, err := db.Pool().Exec(ctx, "UPDATE cases SET served_at = '2024-05-04T01:00:00Z'"); err != nil {
		t.Fatalf("recording a new date: %v", err)
	}
	if h, err := db.LinkHistory(ctx, evidock.LinkFilter{CaseID: c.ID}); err != nil || len(h) != 1 || h[0].Action != evidock.LinkSuggest {
		t.Fatalf("history after the attempts = %+v, %v", h, err)
	}
}

// TestMigration006KeepsData opens a schema that a server before migration
// 006 left, with clips in it, and adds cases beside them.
func TestMigration006KeepsData(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewSchema(t)
	old, err := postgres.OpenAt(ctx, dsn, 5)
	if err != nil {
		t.Fatal(err)
	}
	clip := storetest.NewClip([]byte("old"), "A000001", storetest.OfficerZhang, time.Date(2024, 5, 2, 9, 5, 0, 0, evidock.ChinaTime), 1)
	registerLegacy(t, old, clip) // as that server did: RegisterClip now stamps unit_code (012)
	old.Close()
	db := mustOpenDSN(t, dsn)
	storetest.SeedOrg(t, db)
	c := storetest.MustCreateCase(t, db, storetest.NewCase("A-1", storetest.UnitTN1, time.Date(2024, 5, 1, 9, 0, 0, 0, evidock.ChinaTime)))
	a := storetest.MustCreateActivity(t, db, storetest.NewActivity(c.ID, evidock.ActivityInspection,
		time.Date(2024, 5, 2, 9, 0, 0, 0, evidock.ChinaTime), time.Date(2024, 5, 2, 10, 0, 0, 0, evidock.ChinaTime), storetest.OfficerZhang))
	links, err := db.SuggestLinks(ctx, a.ID, evidock.DefaultSuggestMargin)
	if err != nil || len(links) != 1 || links[0].Clip.Digest != clip.Digest {
		t.Fatalf("suggestions for a clip registered before 006 = %v, %v", links, err)
	}
	if v := appliedVersions(t, db); len(v) < 6 || v[5] != 6 {
		t.Fatalf("applied versions = %v; want 6 among them", v)
	}
}

// TestTwoInstancesLink confirms one clip through two servers on one
// database at once: one confirm is kept, the other is refused.
func TestTwoInstancesLink(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewSchema(t)
	a, b := mustOpenDSN(t, dsn), mustOpenDSN(t, dsn)
	storetest.SeedOrg(t, a)
	c := storetest.MustCreateCase(t, a, storetest.NewCase("A-1", storetest.UnitTN1, time.Date(2024, 5, 1, 9, 0, 0, 0, evidock.ChinaTime)))
	act := storetest.MustCreateActivity(t, a, storetest.NewActivity(c.ID, evidock.ActivityInspection,
		time.Date(2024, 5, 2, 9, 0, 0, 0, evidock.ChinaTime), time.Date(2024, 5, 2, 10, 0, 0, 0, evidock.ChinaTime), storetest.OfficerZhang))
	clip := storetest.NewClip([]byte("x"), "A000001", storetest.OfficerZhang, time.Date(2024, 5, 2, 9, 5, 0, 0, evidock.ChinaTime), 1)
	if _, err := a.RegisterClip(ctx, clip); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	for _, db := range []*postgres.DB{a, b} {
		go func() {
			_, err := db.SuggestLinks(ctx, act.ID, evidock.DefaultSuggestMargin)
			if err == nil {
				err = db.ChangeLink(ctx, &evidock.LinkEntry{ActivityID: act.ID, Digest: clip.Digest, Action: evidock.LinkConfirm, By: storetest.OfficerZhang})
			}
			errs <- err
		}()
	}
	codes := []string{evidock.ErrorCode(<-errs), evidock.ErrorCode(<-errs)}
	if !(codes[0] == "" && codes[1] == evidock.ECONFLICT || codes[0] == evidock.ECONFLICT && codes[1] == "") {
		t.Fatalf("two servers confirming at once: %v; want one success and one ECONFLICT", codes)
	}
	h, err := b.LinkHistory(ctx, evidock.LinkFilter{ActivityID: act.ID})
	if err != nil || len(h) != 2 || h[0].Action != evidock.LinkSuggest || h[1].Action != evidock.LinkConfirm {
		t.Fatalf("history = %+v, %v; want one suggest and one confirm", h, err)
	}
}
