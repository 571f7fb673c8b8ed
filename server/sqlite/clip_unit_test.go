package sqlite_test

import (
	"context"
	"testing"
	"time"

	"evidock"
	"evidock/server/sqlite"
	"evidock/server/storetest"
)

// registerLegacy inserts c as a server between migrations 002 and 011
// registered clips: every column of its day, no unit_code. (The store's own
// RegisterClip stamps unit_code, which such a database does not have.)
func registerLegacy(db *sqlite.DB, c *evidock.Clip) error {
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }
	_, err := db.SQL().ExecContext(context.Background(), `INSERT INTO clips (blake3, size, object_key, file_name, device_serial,
		officer_no, started_at, clock_offset_ms, corrected_started_at, important, seq, kind, duration_ms, station_id, ingested_at, registered_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, 0, ?, ?, ?, NULL, ?, ?)`,
		c.Digest.String(), c.Size, c.ObjectKey, c.FileName, c.DeviceSerial, c.OfficerNo, ts(c.StartedAt), ts(c.StartedAt),
		c.Seq, string(c.Kind), c.DurationMS, ts(c.IngestedAt), ts(time.Now()))
	return err
}

// TestMigrateClipUnits shows migration 012 on a database an older server
// left; SQLite's triggers are made anew by every migration that rebuilds
// clips, so only the index is looked for.
func TestMigrateClipUnits(t *testing.T) {
	storetest.RunMigration012ClipUnits(t, newLegacy(t),
		[]string{"SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'clips_unit_corrected'"})
}
