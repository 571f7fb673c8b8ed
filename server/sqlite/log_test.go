package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"evidock"
	"evidock/server/sqlite"
	"evidock/server/storetest"
	"evidock/server/translog"
)

// TestLogIsNeverChanged holds SQLite to storetest's log history, with the
// statements only SQLite has.
func TestLogIsNeverChanged(t *testing.T) {
	db := MustOpen(t)
	storetest.RunLogKept(t, db, execOn(db),
		storetest.Refusal{Stmt: "INSERT OR REPLACE INTO log_records SELECT * FROM log_records", Want: "never deleted"},
		storetest.Refusal{Stmt: "UPDATE log_hashes SET hash = zeroblob(32)", Want: "never edited"},
		storetest.Refusal{Stmt: "INSERT OR REPLACE INTO log_hashes SELECT * FROM log_hashes", Want: "never deleted"})
}

func TestRegisterClipIsAtomicWithTheLog(t *testing.T) {
	db := MustOpen(t)
	storetest.RunRegisterAtomicWithLog(t, db, execOn(db),
		fmt.Sprintf("INSERT INTO log_hashes (id, hash) VALUES (%d, zeroblob(32))", tlog.StoredHashIndex(0, 0)))
}

// TestLogCatchUp opens a database as a server before migration 004 left it,
// with clips in it: the log starts empty, and catching up appends them in
// ID order, with records that match them.
func TestLogCatchUp(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "evidock.db")
	old, err := sqlite.OpenAt(ctx, path, 3)
	if err != nil {
		t.Fatal(err)
	}
	var before []*evidock.Clip
	for i := range 3 {
		c := storetest.NewClip(fmt.Appendf(nil, "before the log %d", i), "A123456", "100001", time.Date(2024, 5, 1, 9, i, 0, 0, evidock.ChinaTime), i+1)
		// As 003's store wrote it.
		if _, err := old.SQL().ExecContext(ctx, `INSERT INTO clips (blake3, size, object_key, file_name, device_serial,
			officer_no, started_at, clock_offset_ms, corrected_started_at, important, seq, kind, duration_ms, ingested_at, registered_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, 0, ?, ?, ?, ?, ?)`,
			c.Digest.String(), c.Size, c.ObjectKey, c.FileName, c.DeviceSerial, c.OfficerNo,
			c.StartedAt.UTC().Format("2006-01-02T15:04:05.000000000Z"), c.StartedAt.UTC().Format("2006-01-02T15:04:05.000000000Z"),
			c.Seq, string(c.Kind), c.DurationMS,
			c.IngestedAt.UTC().Format("2006-01-02T15:04:05.000000000Z"), "2024-05-02T00:00:00.000000000Z"); err != nil {
			t.Fatal(err)
		}
		before = append(before, c)
	}
	old.Close()

	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n, err := db.LogSize(ctx); err != nil || n != 0 {
		t.Fatalf("LogSize after migrating = %d, %v; want 0", n, err)
	}
	skey, vkey := storetest.MustLogKey(t)
	l := storetest.MustLog(t, db, skey)
	if n, err := l.CatchUp(ctx); err != nil || n != 3 {
		t.Fatalf("CatchUp = %d, %v; want 3", n, err)
	}
	if n, err := l.CatchUp(ctx); err != nil || n != 0 {
		t.Fatalf("second CatchUp = %d, %v; want 0", n, err)
	}
	for i, c := range before {
		r, err := l.LogReceipt(ctx, c.Digest)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := translog.VerifyReceipt(vkey, r, c); err != nil || r.Index != int64(i) {
			t.Fatalf("receipt %d (index %d): %v", i, r.Index, err)
		}
	}
	c := storetest.NewClip([]byte("after the log"), "A123456", "100001", time.Date(2024, 5, 1, 10, 0, 0, 0, evidock.ChinaTime), 4)
	if _, err := db.RegisterClip(ctx, c); err != nil {
		t.Fatal(err)
	}
	if i, _, _, err := db.FindLogRecord(ctx, c.Digest); err != nil || i != 3 {
		t.Fatalf("new clip at %d, %v; want 3", i, err)
	}
}
