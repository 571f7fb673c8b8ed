package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"evidock/server/postgres/pgtest"
	"evidock/server/storetest"
)

// BenchmarkClipAccess measures users' clip listings; set
// EVIDOCK_BENCH_CLIPS=1000000 for the size the README quotes.
func BenchmarkClipAccess(b *testing.B) {
	pgtest.DSN(b)
	db := MustOpen(b)
	storetest.BenchClipAccess(b, db, db, func(n int) error {
		ctx := context.Background()
		now, i := time.Now(), 0
		cols := []string{"blake3", "size", "object_key", "file_name", "device_serial", "officer_no", "started_at", "clock_offset_ms",
			"corrected_started_at", "important", "seq", "kind", "duration_ms", "ingested_at", "registered_at", "unit_code"}
		if _, err := db.Pool().CopyFrom(ctx, pgx.Identifier{"clips"}, cols, pgx.CopyFromFunc(func() ([]any, error) {
			if i >= n {
				return nil, nil
			}
			c := storetest.BenchClip(i, n)
			i++
			return []any{c.Digest[:], c.Size, c.ObjectKey, c.FileName, c.DeviceSerial, c.OfficerNo, c.StartedAt, int64(0),
				c.CorrectedStartedAt, false, c.Seq, "video", c.DurationMS, c.IngestedAt, now, c.UnitCode}, nil
		})); err != nil {
			return err
		}
		_, err := db.Pool().Exec(ctx, "ANALYZE")
		return err
	})
}
