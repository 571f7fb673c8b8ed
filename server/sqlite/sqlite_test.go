package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"evidock"
	"evidock/server/sqlite"
	"evidock/server/storetest"
)

// MustOpen returns a new database in a temporary directory, closed when the
// test ends.
func MustOpen(tb testing.TB) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "var", "evidock.db"))
	if err != nil {
		tb.Fatalf("open sqlite: %v", err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Error(err)
		}
	})
	return db
}

func TestClipService(t *testing.T) {
	storetest.RunClipService(t, func(t *testing.T) evidock.ClipService { return MustOpen(t) })
}

func TestStationService(t *testing.T) {
	storetest.RunStationService(t, func(t *testing.T) evidock.StationService { return MustOpen(t) })
}

// TestClipsAreNeverChanged shows that the database itself refuses to edit or
// delete a registered clip (Art. 17), whatever statement is tried.
func TestClipsAreNeverChanged(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	c := storetest.NewClip([]byte("original footage"), "A123456", "100001", time.Date(2024, 5, 1, 9, 0, 0, 0, evidock.ChinaTime), 1)
	if _, err := db.RegisterClip(ctx, c); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, stmt, want string
	}{
		{"update", "UPDATE clips SET size = size + 1", "never edited"},
		{"update one field", "UPDATE clips SET officer_no = '999999' WHERE id = 1", "never edited"},
		{"delete", "DELETE FROM clips", "never deleted"},
		{"delete one", "DELETE FROM clips WHERE id = 1", "never deleted"},
		{"replace", `INSERT OR REPLACE INTO clips SELECT * FROM clips`, "never deleted"},
		{"upsert", `INSERT INTO clips SELECT * FROM clips WHERE true ON CONFLICT (blake3) DO UPDATE SET size = 1`, "never edited"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := db.SQL().ExecContext(ctx, tt.stmt)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("%s: err = %v; want one containing %q", tt.stmt, err, tt.want)
			}
		})
	}
	got, err := db.FindClipByDigest(ctx, c.Digest)
	if err != nil || got.Size != c.Size || got.OfficerNo != c.OfficerNo {
		t.Fatalf("clip after the attempts = %+v, %v; want it unchanged", got, err)
	}
}

func TestPragmas(t *testing.T) {
	db := MustOpen(t)
	// Every pooled connection must have the settings, so ask several at
	// once.
	conns := make([]*sql.Conn, 3)
	for i := range conns {
		c, err := db.SQL().Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
	}
	for i, c := range conns {
		for pragma, want := range map[string]string{
			"journal_mode":       "wal",
			"foreign_keys":       "1",
			"synchronous":        "2", // FULL
			"busy_timeout":       "10000",
			"recursive_triggers": "1",
		} {
			var got string
			if err := c.QueryRowContext(context.Background(), "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("connection %d: PRAGMA %s = %s; want %s", i, pragma, got, want)
			}
		}
	}
}

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "evidock.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	c := storetest.NewClip([]byte("kept"), "A123456", "100001", time.Date(2024, 5, 1, 9, 0, 0, 0, evidock.ChinaTime), 1)
	if _, err := db.RegisterClip(ctx, c); err != nil {
		t.Fatal(err)
	}
	db.Close()

	// Reopening applies nothing twice and keeps the data.
	db, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	var versions []int
	rows, err := db.SQL().QueryContext(ctx, "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v)
	}
	rows.Close()
	if len(versions) == 0 || versions[0] != 1 {
		t.Fatalf("applied versions = %v; want them to start at 1", versions)
	}
	if _, err := db.FindClipByDigest(ctx, c.Digest); err != nil {
		t.Fatalf("clip after reopening: %v", err)
	}

	// A database from a newer server is not touched by an older one.
	if _, err := db.SQL().ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', '')"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err := sqlite.Open(ctx, path); err == nil || !strings.Contains(err.Error(), "newer evidock-server") {
		if db != nil {
			db.Close()
		}
		t.Fatalf("open of a newer database: %v; want an error asking for a newer evidock-server", err)
	}
}

func TestTimesSortAsText(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	c := storetest.NewClip([]byte("t"), "A123456", "100001", time.Date(2024, 5, 1, 9, 0, 0, 0, evidock.ChinaTime), 1)
	if _, err := db.RegisterClip(ctx, c); err != nil {
		t.Fatal(err)
	}
	var started string
	if err := db.SQL().QueryRowContext(ctx, "SELECT started_at FROM clips").Scan(&started); err != nil {
		t.Fatal(err)
	}
	if want := "2024-05-01T01:00:00.000000000Z"; started != want {
		t.Fatalf("stored started_at = %q; want %q (UTC, fixed width)", started, want)
	}
}

func TestOpenRejectsBadPaths(t *testing.T) {
	for _, p := range []string{"", ":memory:", "evidock.db?mode=ro"} {
		if db, err := sqlite.Open(context.Background(), p); evidock.ErrorCode(err) != evidock.EINVALID {
			if db != nil {
				db.Close()
			}
			t.Errorf("Open(%q) = %v; want EINVALID", p, err)
		}
	}
}
