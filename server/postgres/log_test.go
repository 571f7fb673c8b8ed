package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"evidock"
	"evidock/server/postgres/pgtest"
	"evidock/server/storetest"
	"evidock/server/translog"
)

// TestLogIsNeverChanged holds PostgreSQL to storetest's log history, with
// TRUNCATE, statements that touch no row, and an upsert in its dialect.
func TestLogIsNeverChanged(t *testing.T) {
	db := MustOpen(t)
	storetest.RunLogKept(t, db, execOn(db), []storetest.Refusal{
		{Stmt: "UPDATE log_records SET record = 'forged' WHERE false", Want: "never edited"},
		{Stmt: "TRUNCATE log_records", Want: "never deleted"},
		{Stmt: "TRUNCATE log_hashes", Want: "never deleted"},
		{Stmt: "INSERT INTO log_hashes SELECT * FROM log_hashes ON CONFLICT (id) DO UPDATE SET hash = excluded.hash", Want: "never edited"},
	}...)
}

func TestRegisterClipIsAtomicWithTheLog(t *testing.T) {
	db := MustOpen(t)
	storetest.RunRegisterAtomicWithLog(t, db, execOn(db),
		fmt.Sprintf("INSERT INTO log_hashes (id, hash) VALUES (%d, decode(repeat('00', 32), 'hex'))", tlog.StoredHashIndex(0, 0)))
}

// TestLogCatchUp stands for a rolling upgrade: a server too old to keep the
// log inserts a clip after migration 004. Asking for its receipt appends
// it, and so does the periodic catch-up.
func TestLogCatchUp(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	skey, vkey := storetest.MustLogKey(t)
	l := storetest.MustLog(t, db, skey)
	var old []*evidock.Clip
	for i := range 2 {
		c := storetest.NewClip(fmt.Appendf(nil, "old server %d", i), "A123456", "100001", time.Date(2024, 5, 1, 9, i, 0, 0, evidock.ChinaTime), i+1)
		if _, err := db.Pool().Exec(ctx, `INSERT INTO clips (blake3, size, object_key, file_name, device_serial,
			officer_no, started_at, corrected_started_at, seq, kind, duration_ms, ingested_at, registered_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9, $10, $11, statement_timestamp())`,
			c.Digest[:], c.Size, c.ObjectKey, c.FileName, c.DeviceSerial, c.OfficerNo,
			c.StartedAt, c.Seq, string(c.Kind), c.DurationMS, c.IngestedAt); err != nil {
			t.Fatal(err)
		}
		old = append(old, c)
	}
	r, err := l.LogReceipt(ctx, old[1].Digest)
	if err != nil {
		t.Fatalf("receipt of a clip missing from the log: %v", err)
	}
	if _, err := translog.VerifyReceipt(vkey, r, old[1]); err != nil || r.Index != 1 {
		t.Fatalf("receipt at %d: %v; want index 1 (appended in ID order)", r.Index, err)
	}
	if n, err := l.CatchUp(ctx); err != nil || n != 0 {
		t.Fatalf("CatchUp = %d, %v; want 0, both appended", n, err)
	}
}

// TestLogTwoServers registers clips through two store instances on one
// PostgreSQL database, as two servers behind a load balancer do: the log
// holds every clip exactly once, in one consistent tree.
func TestLogTwoServers(t *testing.T) {
	dsn := pgtest.NewSchema(t)
	a, b := mustOpenDSN(t, dsn), mustOpenDSN(t, dsn)
	storetest.AssertConcurrentLog(t, []storetest.LogStore{a, b}, 8, 5)
}
