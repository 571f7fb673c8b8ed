package sqlite_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"evidock/server/storetest"
)

// BenchmarkClipAccess measures users' clip listings; set
// EVIDOCK_BENCH_CLIPS=1000000 for the size the README quotes.
func BenchmarkClipAccess(b *testing.B) {
	db := MustOpen(b)
	storetest.BenchClipAccess(b, db, db, func(n int) error {
		ctx := context.Background()
		tx, err := db.SQL().BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		const batch = 200
		row := "(?, ?, ?, ?, ?, ?, ?, 0, ?, 0, ?, 'video', ?, NULL, ?, ?, ?)"
		now := time.Now().UTC().Format("2006-01-02T15:04:05.000000000Z")
		for start := 0; start < n; start += batch {
			end := min(n, start+batch)
			var args []any
			for i := start; i < end; i++ {
				c := storetest.BenchClip(i, n)
				st := c.StartedAt.UTC().Format("2006-01-02T15:04:05.000000000Z")
				args = append(args, c.Digest.String(), c.Size, c.ObjectKey, c.FileName, c.DeviceSerial, c.OfficerNo,
					st, st, c.Seq, c.DurationMS, c.IngestedAt.UTC().Format("2006-01-02T15:04:05.000000000Z"), now, c.UnitCode)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO clips (blake3, size, object_key, file_name, device_serial, officer_no,
				started_at, clock_offset_ms, corrected_started_at, important, seq, kind, duration_ms, station_id, ingested_at, registered_at, unit_code)
				VALUES `+strings.TrimSuffix(strings.Repeat(row+", ", end-start), ", "), args...); err != nil {
				return err
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		_, err = db.SQL().ExecContext(ctx, "ANALYZE")
		return err
	})
}
