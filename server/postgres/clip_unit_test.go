package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"evidock"
	"evidock/server/postgres"
	"evidock/server/postgres/pgtest"
	"evidock/server/storetest"
)

// registerLegacy inserts c as a server between migrations 002 and 011
// registered clips: every column of its day, no unit_code. (The store's own
// RegisterClip stamps unit_code, which such a schema does not have.)
func registerLegacy(tb testing.TB, db *postgres.DB, c *evidock.Clip) {
	tb.Helper()
	if _, err := db.Pool().Exec(context.Background(), `INSERT INTO clips (blake3, size, object_key, file_name, device_serial,
		officer_no, started_at, clock_offset_ms, corrected_started_at, important, seq, kind, duration_ms, station_id, ingested_at, registered_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $7, false, $8, $9, $10, NULL, $11, now())`,
		c.Digest[:], c.Size, c.ObjectKey, c.FileName, c.DeviceSerial, c.OfficerNo, c.StartedAt,
		c.Seq, string(c.Kind), c.DurationMS, c.IngestedAt); err != nil {
		tb.Fatalf("insert clip %s as an older server: %v", c.FileName, err)
	}
}

// TestMigrateClipUnits shows migration 012 on a schema an older server
// left: its clips are stamped with their officer's unit (none for an
// officer not in the officers table), clips registered afterwards are
// stamped at registration, and clips are still never updated or deleted.
func TestMigrateClipUnits(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewSchema(t)
	old, err := postgres.OpenAt(ctx, dsn, 11)
	if err != nil {
		t.Fatal(err)
	}
	storetest.SeedOrg(t, old)
	started := time.Date(2024, 5, 2, 9, 0, 0, 0, evidock.ChinaTime)
	clips := map[string]*evidock.Clip{
		storetest.UnitTN1: storetest.NewClip([]byte("zhang"), "A000001", storetest.OfficerZhang, started, 1),
		storetest.UnitWJ1: storetest.NewClip([]byte("li"), "A000002", storetest.OfficerLi, started, 1),
		"":                storetest.NewClip([]byte("stranger"), "A000003", "999999", started, 1),
	}
	for _, c := range clips {
		registerLegacy(t, old, c)
	}
	old.Close()

	db := mustOpenDSN(t, dsn)
	for unit, c := range clips {
		got, err := db.FindClipByDigest(ctx, c.Digest)
		if err != nil || got.UnitCode != unit {
			t.Errorf("clip of officer %s after 012: %+v, %v; want unit %q", c.OfficerNo, got, err, unit)
		}
	}
	fresh := storetest.NewClip([]byte("fresh"), "A000001", storetest.OfficerZhang, started.Add(time.Hour), 2)
	if _, err := db.RegisterClip(ctx, fresh); err != nil || fresh.UnitCode != storetest.UnitTN1 {
		t.Errorf("clip registered after 012: unit %q, %v; want %s", fresh.UnitCode, err, storetest.UnitTN1)
	}
	for _, stmt := range []string{
		"UPDATE clips SET unit_code = 'CZ-WJ-1'",
		"UPDATE clips SET unit_code = NULL WHERE officer_no = '999999'",
		"UPDATE clips SET size = size WHERE false",
		"DELETE FROM clips WHERE officer_no = '100003'",
		"TRUNCATE clips CASCADE",
	} {
		if _, err := db.Pool().Exec(ctx, stmt); err == nil || !strings.Contains(err.Error(), "Art. 17") {
			t.Errorf("%s after 012: %v; want it refused (Art. 17)", stmt, err)
		}
	}
	var enabled string
	if err := db.Pool().QueryRow(ctx, `SELECT tgenabled::text FROM pg_trigger
		WHERE tgrelid = 'clips'::regclass AND tgname = 'clips_never_updated'`).Scan(&enabled); err != nil || enabled != "O" {
		t.Errorf("clips_never_updated after 012: enabled %q, %v; want O (enabled)", enabled, err)
	}
	var n int
	if err := db.Pool().QueryRow(ctx, "SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'clips' AND indexname = 'clips_unit_corrected'").Scan(&n); err != nil || n != 1 {
		t.Errorf("index clips_unit_corrected: %d, %v; want it made", n, err)
	}
}
