package postgres_test

import (
	"context"
	"fmt"
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
	storetest.RunUnitAuditAtomic(t, db, execOn(db),
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

// TestCaseHistoryIsNeverChanged holds PostgreSQL to storetest's case
// history, with TRUNCATE, statements that touch no row, and its words for a
// broken constraint.
func TestCaseHistoryIsNeverChanged(t *testing.T) {
	db := MustOpen(t)
	storetest.RunCaseHistoryKept(t, db, execOn(db), func(clipID, activityID int64) []storetest.Refusal {
		link := func(seq int, action string) string {
			return fmt.Sprintf("INSERT INTO clip_links (clip_id, activity_id, seq, action, actor, reason) VALUES (%d, %d, %d, '%s', '100001', '')",
				clipID, activityID, seq, action)
		}
		return []storetest.Refusal{
			{Stmt: "UPDATE clip_links SET reason = '' WHERE false", Want: "never edited"},
			{Stmt: "DELETE FROM clip_links WHERE false", Want: "never deleted"},
			{Stmt: "TRUNCATE clip_links", Want: "never deleted"},
			{Stmt: "TRUNCATE recorder_assignments", Want: "never deleted"},
			{Stmt: "DELETE FROM cases WHERE false", Want: "never deleted"},
			{Stmt: "TRUNCATE cases CASCADE", Want: "never deleted"},
			{Stmt: link(1, "confirm"), Want: "clip_links_activity_id_clip_id_seq_key"},
			{Stmt: link(2, "suggest"), Want: "check constraint"},
			{Stmt: "INSERT INTO units (code, name, level, parent_code) VALUES ('Y', 'y', 'bureau', 'CZ')", Want: "check constraint"},
		}
	})
}

func TestMigration006KeepsData(t *testing.T) {
	storetest.RunMigration006KeepsData(t, newLegacy(t))
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
