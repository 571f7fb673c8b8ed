package postgres_test

import (
	"context"
	"testing"

	"evidock"
	"evidock/server/postgres"
	"evidock/server/storetest"
)

// registerLegacy inserts c as a server between migrations 002 and 011
// registered clips: every column of its day, no unit_code. (The store's own
// RegisterClip stamps unit_code, which such a schema does not have.)
func registerLegacy(db *postgres.DB, c *evidock.Clip) error {
	_, err := db.Pool().Exec(context.Background(), `INSERT INTO clips (blake3, size, object_key, file_name, device_serial,
		officer_no, started_at, clock_offset_ms, corrected_started_at, important, seq, kind, duration_ms, station_id, ingested_at, registered_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $7, false, $8, $9, $10, NULL, $11, now())`,
		c.Digest[:], c.Size, c.ObjectKey, c.FileName, c.DeviceSerial, c.OfficerNo, c.StartedAt,
		c.Seq, string(c.Kind), c.DurationMS, c.IngestedAt)
	return err
}

// TestMigrateClipUnits holds PostgreSQL to storetest's migration 012, and
// shows that the migration leaves the trigger refusing updates enabled.
func TestMigrateClipUnits(t *testing.T) {
	storetest.RunMigration012ClipUnits(t, newLegacy(t), []string{
		"SELECT COUNT(*) FROM pg_trigger WHERE tgrelid = 'clips'::regclass AND tgname = 'clips_never_updated' AND tgenabled = 'O'",
		"SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'clips' AND indexname = 'clips_unit_corrected'",
	},
		storetest.Refusal{Stmt: "UPDATE clips SET size = size WHERE false", Want: "Art. 17"},
		storetest.Refusal{Stmt: "TRUNCATE clips CASCADE", Want: "Art. 17"})
}
