package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"evidock"
	"evidock/server/fixity"
	"evidock/server/postgres"
	"evidock/server/postgres/pgtest"
	"evidock/server/storetest"
)

func TestFixityStore(t *testing.T) {
	pgtest.DSN(t)
	storetest.RunFixityStore(t, func(t *testing.T) storetest.FixityStore { return MustOpen(t) })
}

// TestFixityHistoryIsKept shows that the database itself refuses to edit or
// delete a fixity check or an alarm, and lets an open alarm be acknowledged
// once, and only that.
func TestFixityHistoryIsKept(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	c := storetest.NewClip([]byte("footage"), "A123456", "100001", time.Date(2024, 5, 1, 9, 0, 0, 0, evidock.ChinaTime), 1)
	if _, err := db.RegisterClip(ctx, c); err != nil {
		t.Fatal(err)
	}
	alarm, err := db.RecordCheck(ctx, &fixity.Check{ClipID: c.ID, Result: fixity.Missing, Detail: "gone", CheckedBy: "test"})
	if err != nil || alarm == nil {
		t.Fatalf("RecordCheck = %v, %v; want an alarm", alarm, err)
	}
	for _, tt := range []struct {
		name, stmt, want string
	}{
		{"update a check", "UPDATE fixity_checks SET result = 'ok'", "never edited"},
		{"update no check", "UPDATE fixity_checks SET result = 'ok' WHERE false", "never edited"},
		{"delete a check", "DELETE FROM fixity_checks", "never deleted"},
		{"truncate the checks", "TRUNCATE fixity_checks CASCADE", "never deleted"},
		{"delete an alarm", "DELETE FROM alarms", "never deleted"},
		{"truncate the alarms", "TRUNCATE alarms", "never deleted"},
		{"edit an alarm", "UPDATE alarms SET message = 'all fine'", "only acknowledged"},
		{"close an alarm without saying who", "UPDATE alarms SET acknowledged_at = now()", "alarms_check"},
		{"acknowledge and edit", "UPDATE alarms SET acknowledged_by = 'x', acknowledged_at = now(), kind = 'other'", "only acknowledged"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := db.Pool().Exec(ctx, tt.stmt)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("%s: err = %v; want one containing %q", tt.stmt, err, tt.want)
			}
		})
	}
	if _, err := db.Pool().Exec(ctx, "UPDATE alarms SET acknowledged_by = 'supervisor 100009', acknowledged_at = now()"); err != nil {
		t.Fatalf("acknowledge: %v", err)
	}
	if _, err := db.Pool().Exec(ctx, "UPDATE alarms SET acknowledged_by = 'someone else', acknowledged_at = now()"); err == nil ||
		!strings.Contains(err.Error(), "only acknowledged") {
		t.Fatalf("second acknowledgement: err = %v; want it refused", err)
	}
	alarms, err := db.FindAlarms(ctx, fixity.AlarmFilter{})
	if err != nil || len(alarms) != 1 || alarms[0].Open() || alarms[0].AcknowledgedBy != "supervisor 100009" {
		t.Fatalf("alarms = %+v, %v; want the one, acknowledged", alarms, err)
	}
	if open, err := db.FindAlarms(ctx, fixity.AlarmFilter{Open: true}); err != nil || len(open) != 0 {
		t.Fatalf("open alarms = %+v, %v; want none", open, err)
	}
	if again, err := db.RecordCheck(ctx, &fixity.Check{ClipID: c.ID, Result: fixity.Missing, Detail: "still gone", CheckedBy: "test"}); err != nil || again == nil || again.ID == alarm.ID {
		t.Fatalf("RecordCheck after the acknowledgement = %+v, %v; want a new alarm", again, err)
	}
}

// TestMigration010SchedulesClips shows that clips an older server
// registered get their fixity schedule row from migration 010, and clips
// registered afterwards get theirs with their registration.
func TestMigration010SchedulesClips(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewSchema(t)
	old, err := postgres.OpenAt(ctx, dsn, 9)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		c := storetest.NewClip(fmt.Appendf(nil, "old %d", i), "A123456", "100001", time.Date(2024, 5, 1, 9, i, 0, 0, evidock.ChinaTime), i+1)
		registerLegacy(t, old, c) // as that server did: RegisterClip now stamps unit_code (012)
	}
	scheduled := func(db *postgres.DB) int {
		var n int
		if err := db.Pool().QueryRow(ctx, "SELECT count(*) FROM fixity_state").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := scheduled(old); n != 0 {
		t.Fatalf("before 010: %d clips scheduled; want 0 (the test needs unscheduled clips)", n)
	}
	old.Close()
	db := mustOpenDSN(t, dsn)
	if n := scheduled(db); n != 2 {
		t.Fatalf("after 010: %d clips scheduled; want the 2 registered before", n)
	}
	c := storetest.NewClip([]byte("new"), "A123456", "100001", time.Date(2024, 5, 2, 9, 0, 0, 0, evidock.ChinaTime), 3)
	if _, err := db.RegisterClip(ctx, c); err != nil {
		t.Fatal(err)
	}
	if n := scheduled(db); n != 3 {
		t.Fatalf("after a registration: %d clips scheduled; want 3", n)
	}
}
