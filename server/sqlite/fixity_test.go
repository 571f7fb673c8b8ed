package sqlite_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"evidock"
	"evidock/server/fixity"
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
