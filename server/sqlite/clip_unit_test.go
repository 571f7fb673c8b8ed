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

// registerLegacy inserts c as a server between migrations 002 and 011
// registered clips: every column of its day, no unit_code. (The store's own
// RegisterClip stamps unit_code, which such a database does not have.)
func registerLegacy(tb testing.TB, db *sqlite.DB, c *evidock.Clip) {
	tb.Helper()
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }
	if _, err := db.SQL().ExecContext(context.Background(), `INSERT INTO clips (blake3, size, object_key, file_name, device_serial,
		officer_no, started_at, clock_offset_ms, corrected_started_at, important, seq, kind, duration_ms, station_id, ingested_at, registered_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, 0, ?, ?, ?, NULL, ?, ?)`,
		c.Digest.String(), c.Size, c.ObjectKey, c.FileName, c.DeviceSerial, c.OfficerNo, ts(c.StartedAt), ts(c.StartedAt),
		c.Seq, string(c.Kind), c.DurationMS, ts(c.IngestedAt), ts(time.Now())); err != nil {
		tb.Fatalf("insert clip %s as an older server: %v", c.FileName, err)
	}
}

// TestMigrateClipUnits shows migration 012 on a database an older server
// left: its clips are stamped with their officer's unit (none for an
// officer not in the officers table), clips registered afterwards are
// stamped at registration, and clips are still never updated or deleted.
func TestMigrateClipUnits(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "evidock.db")
	old, err := sqlite.OpenAt(ctx, path, 11)
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

	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	defer db.Close()
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
		"UPDATE clips SET size = size WHERE 0 = 1 OR officer_no = '100001'",
		"DELETE FROM clips WHERE officer_no = '100003'",
	} {
		if _, err := db.SQL().ExecContext(ctx, stmt); err == nil || !strings.Contains(err.Error(), "Art. 17") {
			t.Errorf("%s after 012: %v; want it refused (Art. 17)", stmt, err)
		}
	}
	var n int
	if err := db.SQL().QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'clips_unit_corrected'").Scan(&n); err != nil || n != 1 {
		t.Errorf("index clips_unit_corrected: %d, %v; want it made", n, err)
	}
}
