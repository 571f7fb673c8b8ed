package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"evidock"
	"evidock/server/fixity"
	"evidock/server/sqlite"
	"evidock/server/storetest"
)

func TestFixityStore(t *testing.T) {
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
		{"delete a check", "DELETE FROM fixity_checks", "never deleted"},
		{"delete an alarm", "DELETE FROM alarms", "never deleted"},
		{"edit an alarm", "UPDATE alarms SET message = 'all fine'", "only acknowledged"},
		{"close an alarm without saying who", "UPDATE alarms SET acknowledged_at = '2024-05-02T00:00:00.000000000Z'", "CHECK constraint failed"},
		{"acknowledge and edit", "UPDATE alarms SET acknowledged_by = 'x', acknowledged_at = '2024-05-02T00:00:00.000000000Z', kind = 'other'", "only acknowledged"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := db.SQL().ExecContext(ctx, tt.stmt)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("%s: err = %v; want one containing %q", tt.stmt, err, tt.want)
			}
		})
	}
	ack := "UPDATE alarms SET acknowledged_by = 'supervisor 100009', acknowledged_at = '2024-05-02T00:00:00.000000000Z'"
	if _, err := db.SQL().ExecContext(ctx, ack); err != nil {
		t.Fatalf("acknowledge: %v", err)
	}
	if _, err := db.SQL().ExecContext(ctx, "UPDATE alarms SET acknowledged_by = 'someone else', acknowledged_at = '2024-05-03T00:00:00.000000000Z'"); err == nil ||
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
	// Once acknowledged, the same clip found missing again opens a new
	// alarm.
	if again, err := db.RecordCheck(ctx, &fixity.Check{ClipID: c.ID, Result: fixity.Missing, Detail: "still gone", CheckedBy: "test"}); err != nil || again == nil || again.ID == alarm.ID {
		t.Fatalf("RecordCheck after the acknowledgement = %+v, %v; want a new alarm", again, err)
	}
}

// TestMigration010SchedulesClips shows that clips an older server
// registered get their fixity schedule row from migration 010, and clips
// registered afterwards get theirs with their registration.
func TestMigration010SchedulesClips(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "evidock.db")
	old, err := sqlite.OpenAt(ctx, path, 9)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		c := storetest.NewClip(fmt.Appendf(nil, "old %d", i), "A123456", "100001", time.Date(2024, 5, 1, 9, i, 0, 0, evidock.ChinaTime), i+1)
		registerLegacy(t, old, c) // as that server did: RegisterClip now stamps unit_code (012)
	}
	scheduled := func(db *sqlite.DB) int {
		var n int
		if err := db.SQL().QueryRowContext(ctx, "SELECT count(*) FROM fixity_state").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := scheduled(old); n != 0 {
		t.Fatalf("before 010: %d clips scheduled; want 0 (the test needs unscheduled clips)", n)
	}
	old.Close()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
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
