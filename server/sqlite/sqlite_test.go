package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
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

// execOn returns what storetest's suites call to run a statement on db
// behind the store's back, as a test must to show that the database itself
// refuses a change.
func execOn(db *sqlite.DB) func(stmt string) error {
	return func(stmt string) error {
		_, err := db.SQL().ExecContext(context.Background(), stmt)
		return err
	}
}

// queryOn returns what storetest's suites call to read what db stored: the
// first column of every row of a query, as text.
func queryOn(db *sqlite.DB) func(q string) ([]string, error) {
	return func(q string) ([]string, error) {
		rows, err := db.SQL().QueryContext(context.Background(), q)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				return nil, err
			}
			got = append(got, v)
		}
		return got, rows.Err()
	}
}

// legacyDB is a store on a database an older server may have left, as
// storetest's tests of migrations reach it.
type legacyDB struct{ *sqlite.DB }

func (db legacyDB) Exec(stmt string) error               { return execOn(db.DB)(stmt) }
func (db legacyDB) Query(q string) ([]string, error)     { return queryOn(db.DB)(q) }
func (db legacyDB) RegisterLegacy(c *evidock.Clip) error { return registerLegacy(db.DB, c) }

// newLegacy returns a new database file in t's temporary directory, for
// storetest's tests of migrations to open at any version.
func newLegacy(t *testing.T) storetest.OpenLegacy {
	path := filepath.Join(t.TempDir(), "evidock.db")
	return func(upTo int) (storetest.LegacyStore, error) {
		db, err := sqlite.OpenAt(context.Background(), path, upTo)
		if err != nil {
			return nil, err
		}
		return legacyDB{db}, nil
	}
}

func TestClipService(t *testing.T) {
	storetest.RunClipService(t, func(t *testing.T) evidock.ClipService { return MustOpen(t) })
}

func TestStationService(t *testing.T) {
	storetest.RunStationService(t, func(t *testing.T) evidock.StationService { return MustOpen(t) })
}

func TestRecorderService(t *testing.T) {
	storetest.RunRecorderService(t, func(t *testing.T) evidock.RecorderService { return MustOpen(t) })
}

// TestClipsAreNeverChanged shows that SQLite itself refuses to edit or
// delete a registered clip (Art. 17), whatever statement is tried.
func TestClipsAreNeverChanged(t *testing.T) {
	db := MustOpen(t)
	storetest.RunClipsNeverChanged(t, db, execOn(db),
		storetest.Refusal{Stmt: "INSERT OR REPLACE INTO clips SELECT * FROM clips", Want: "never deleted"},
		storetest.Refusal{Stmt: "INSERT INTO clips SELECT * FROM clips WHERE true ON CONFLICT (blake3) DO UPDATE SET size = 1", Want: "never edited"})
}

// TestMigrationKeepsClipsAndTriggers builds a database as a server before
// migration 002 left it, with clips in it, and opens it with this one: the
// clips are kept, their corrected time is their recorder time, and the
// database still refuses to change or delete them.
func TestMigrationKeepsClipsAndTriggers(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "evidock.db")
	old, err := sqlite.OpenAt(ctx, path, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.CreateStation(ctx, &evidock.Station{ID: "dock-01"}); err != nil {
		t.Fatal(err)
	}
	var before []*evidock.Clip
	for i, station := range []string{"dock-01", ""} {
		c := storetest.NewClip(fmt.Appendf(nil, "old %d", i), "A123456", "100001", time.Date(2024, 5, 1, 9+i, 0, 0, 0, evidock.ChinaTime), i+1)
		// As 001's store wrote it.
		if _, err := old.SQL().ExecContext(ctx, `INSERT INTO clips (blake3, size, object_key, file_name, device_serial,
			officer_no, started_at, seq, kind, duration_ms, station_id, ingested_at, registered_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.Digest.String(), c.Size, c.ObjectKey, c.FileName, c.DeviceSerial, c.OfficerNo,
			c.StartedAt.UTC().Format("2006-01-02T15:04:05.000000000Z"), c.Seq, string(c.Kind), c.DurationMS,
			sql.NullString{String: station, Valid: station != ""},
			c.IngestedAt.UTC().Format("2006-01-02T15:04:05.000000000Z"), "2024-05-02T00:00:00.000000000Z"); err != nil {
			t.Fatal(err)
		}
		c.StationID = station
		before = append(before, c)
	}
	old.Close()

	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("migrate a database with clips: %v", err)
	}
	defer db.Close()
	for i, c := range before {
		got, err := db.FindClipByDigest(ctx, c.Digest)
		if err != nil {
			t.Fatalf("clip %d after migrating: %v", i, err)
		}
		if got.ID != int64(i+1) || !got.StartedAt.Equal(c.StartedAt) || !got.CorrectedStartedAt.Equal(c.StartedAt) ||
			got.ClockOffsetMS != 0 || got.Important || got.StationID != c.StationID || got.FileName != c.FileName {
			t.Fatalf("clip %d after migrating = %+v; want it kept, with corrected time = started time", i, got)
		}
	}
	assertClipsGuarded(t, db)

	// New clips go in with their offsets, and list by corrected time
	// among the old ones.
	c := storetest.NewClip([]byte("new"), "A123456", "100001", time.Date(2024, 5, 1, 11, 0, 0, 0, evidock.ChinaTime), 3)
	c.ClockOffsetMS, c.CorrectedStartedAt = 2*3_600_000+30*60_000, time.Time{} // true 08:30
	if _, err := db.RegisterClip(ctx, c); err != nil {
		t.Fatal(err)
	}
	clips, _, err := db.FindClips(ctx, evidock.ClipFilter{})
	if err != nil || len(clips) != 3 || clips[0].Seq != 3 || clips[1].Seq != 1 || clips[2].Seq != 2 {
		t.Fatalf("FindClips after migrating = %v, %v; want the new clip (true 08:30) first", clips, err)
	}
}

// assertClipsGuarded fails t unless the database refuses to change or
// delete the clips it holds.
func assertClipsGuarded(t *testing.T, db *sqlite.DB) {
	t.Helper()
	for _, stmt := range []string{
		"UPDATE clips SET corrected_started_at = started_at",
		"UPDATE clips SET important = 1",
		"DELETE FROM clips",
		"INSERT OR REPLACE INTO clips SELECT * FROM clips",
	} {
		if _, err := db.SQL().ExecContext(context.Background(), stmt); err == nil || !strings.Contains(err.Error(), "Art. 17") {
			t.Errorf("%s: err = %v; want the Art. 17 refusal", stmt, err)
		}
	}
}

// TestDockHistory shows that SQLite keeps every dock report unchanged,
// docked_at in its stored form.
func TestDockHistory(t *testing.T) {
	db := MustOpen(t)
	storetest.RunDockHistoryKept(t, db, execOn(db), queryOn(db),
		"SELECT battery_percent || ' ' || docked_at || ' ' || station_id FROM recorder_docks WHERE reported_at <> '' ORDER BY id",
		storetest.Refusal{Stmt: "DELETE FROM recorders", Want: "FOREIGN KEY"})
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

func TestHashStore(t *testing.T) {
	storetest.RunHashStore(t, func(t *testing.T) storetest.LogStore { return MustOpen(t) })
}
